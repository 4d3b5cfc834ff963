#include "export/sink.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

namespace waggle {

namespace {

int open_output(const std::string& path) {
  int fd;
  do {
    fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

std::string describe(const std::string& path) { return path.empty() ? std::string("standard output") : path; }

}  // namespace

std::unique_ptr<OutputSink> OutputSink::open(const OutputConfig& config, std::string* error) {
  if (config.file.empty()) {
    return std::unique_ptr<OutputSink>(new OutputSink(STDOUT_FILENO, false, std::string(), 0, config));
  }
  const int fd = open_output(config.file);
  if (fd < 0) {
    if (error) *error = "cannot open output file " + config.file + ": " + std::strerror(errno);
    return nullptr;
  }
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    if (error) *error = "cannot stat output file " + config.file + ": " + std::strerror(errno);
    ::close(fd);
    return nullptr;
  }
  if (!S_ISREG(st.st_mode)) {
    // A FIFO or a device (/dev/null, /dev/stdout) cannot be rotated; just write to it.
    OutputConfig no_rotation = config;
    no_rotation.rotate_bytes = 0;
    return std::unique_ptr<OutputSink>(new OutputSink(fd, true, config.file, 0, no_rotation));
  }
  return std::unique_ptr<OutputSink>(
      new OutputSink(fd, true, config.file, static_cast<uint64_t>(st.st_size), config));
}

OutputSink::OutputSink(int fd, bool owns_fd, std::string path, uint64_t size, const OutputConfig& config)
    : fd_(fd),
      owns_fd_(owns_fd),
      path_(std::move(path)),
      file_size_(size),
      rotate_bytes_(path_.empty() ? 0 : config.rotate_bytes),
      rotate_keep_(config.rotate_keep) {
  buffer_.reserve(kBufferBytes + 64 * 1024);
}

OutputSink::~OutputSink() {
  flush();
  if (owns_fd_ && fd_ >= 0) ::close(fd_);
}

void OutputSink::fail(std::string what, int err) {
  error_ = std::move(what);
  if (err != 0) {
    error_ += ": ";
    error_ += std::strerror(err);
  }
  ++errors_;
}

bool OutputSink::write(std::string_view lines) {
  const uint64_t errors_before = errors_;
  if (rotate_bytes_ == 0) {
    append(lines);
    return errors_ == errors_before;
  }
  while (!lines.empty()) {
    const uint64_t room = file_size_ < rotate_bytes_ ? rotate_bytes_ - file_size_ : 0;
    if (lines.size() <= room) {
      append(lines);
      break;
    }
    // The longest run of whole lines that still fits.
    size_t take = 0;
    if (room > 0) {
      const size_t nl = lines.rfind('\n', static_cast<size_t>(room - 1));
      if (nl != std::string_view::npos) take = nl + 1;
    }
    if (take == 0 && file_size_ == 0) {
      // A single line longer than the limit: alone in its file.
      const size_t nl = lines.find('\n');
      take = nl == std::string_view::npos ? lines.size() : nl + 1;
    }
    if (take > 0) {
      append(lines.substr(0, take));
      lines.remove_prefix(take);
    }
    if (!lines.empty() && file_size_ > 0 && !rotate()) {
      // Keep the data: it goes to the current file, past the limit.
      append(lines);
      break;
    }
  }
  return errors_ == errors_before;
}

bool OutputSink::append(std::string_view data) {
  file_size_ += data.size();
  if (buffer_.empty() && data.size() >= kBufferBytes) return write_all(data);
  buffer_.append(data);
  if (buffer_.size() >= kBufferBytes) return flush();
  return true;
}

bool OutputSink::flush() {
  if (buffer_.empty()) return true;
  const bool ok = write_all(buffer_);
  buffer_.clear();
  return ok;
}

bool OutputSink::wait_for_room(int timeout_ms) {
  struct pollfd pfd = {fd_, POLLOUT, 0};
  if (timeout_ms < 0) {
    // Without limit; a signal returns to the caller, which looks at the stop request again.
    return ::poll(&pfd, 1, -1) >= 0 || errno == EINTR;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return false;
    const int ready = ::poll(
        &pfd, 1, static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(deadline - now).count()));
    if (ready > 0) return true;
    if (ready == 0) return false;
    if (errno != EINTR) return true;  // the write itself will say what is wrong
  }
}

bool OutputSink::write_all(std::string_view data) {
  const char* p = data.data();
  size_t left = data.size();
  int err = 0;
  while (left > 0 && !given_up_) {
    size_t chunk = left;
    if (stopping()) {
      // The agent is stopping: wait for room, but not forever (a reader that stopped reading
      // would hold it), and write only what room there is, so that no write blocks.
      if (!wait_for_room(kStopWaitMs)) {
        given_up_ = true;
        break;
      }
      chunk = std::min(left, kStopChunkBytes);
    }
    const ssize_t n = ::write(fd_, p, chunk);
    if (n > 0) {
      p += n;
      left -= static_cast<size_t>(n);
      continue;
    }
    err = n < 0 ? errno : EIO;  // write(2) returning 0 for a non-empty buffer
    if (err == EAGAIN || err == EWOULDBLOCK) {
      // Someone made the descriptor non-blocking (a shared stdout): wait until it drains (when
      // stopping, the wait above does, with its limit).
      if (stopping() || wait_for_room(-1)) continue;
      err = errno;  // poll failed
    }
    if (err != EINTR) break;
    // A signal: retried (if it asked the agent to stop, the loop now waits with a limit).
  }
  if (left == 0) return true;
  if (given_up_) {
    fail(fmt::format("write {}: given up at a stop request, after {} s in which it took nothing",
                     describe(path_), kStopWaitMs / 1000),
         0);
  } else {
    fail("write " + describe(path_), err);
  }
  if (!path_.empty()) {
    // The unwritten rest is dropped (the buffer too, when flushing): resynchronize the size
    // used for rotation with what actually reached the file.
    struct stat st {};
    if (fstat(fd_, &st) == 0 && S_ISREG(st.st_mode)) {
      file_size_ = static_cast<uint64_t>(st.st_size);
    }
  }
  return false;
}

bool OutputSink::rotate() {
  flush();  // a failure is recorded; the rotation still goes ahead
  if (rotate_keep_ == 0) {
    if (::unlink(path_.c_str()) != 0 && errno != ENOENT) {
      fail("remove " + path_, errno);
      return false;
    }
  } else {
    for (uint32_t i = rotate_keep_ - 1; i >= 1; --i) {
      const std::string from = path_ + "." + std::to_string(i);
      const std::string to = path_ + "." + std::to_string(i + 1);
      if (::rename(from.c_str(), to.c_str()) != 0 && errno != ENOENT) {
        fail("rename " + from + " to " + to, errno);
        return false;
      }
    }
    const std::string first = path_ + ".1";
    if (::rename(path_.c_str(), first.c_str()) != 0) {
      fail("rename " + path_ + " to " + first, errno);
      return false;
    }
  }
  const int fd = open_output(path_);
  if (fd < 0) {
    // Keep writing to the old file (now renamed) rather than losing lines.
    fail("cannot open output file " + path_, errno);
    return false;
  }
  ::close(fd_);
  fd_ = fd;
  file_size_ = 0;
  ++rotations_;
  return true;
}

}  // namespace waggle
