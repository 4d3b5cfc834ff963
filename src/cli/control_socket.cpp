#include "cli/control_socket.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace waggle {
namespace {

bool make_address(const std::string& path, sockaddr_un* addr, std::string* error) {
  *addr = {};
  addr->sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr->sun_path)) {
    *error = fmt::format("control socket path {} is longer than {} bytes", path, sizeof(addr->sun_path) - 1);
    return false;
  }
  std::memcpy(addr->sun_path, path.c_str(), path.size() + 1);
  return true;
}

// Reads until the peer closes its side, or `timeout_ms` passes with nothing new.
bool read_all(int fd, std::string* out, int timeout_ms) {
  char buf[65536];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0) return false;
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) return true;
    out->append(buf, n);
    if (out->size() > (64u << 20)) return false;  // no policy is that large
  }
}

bool write_all(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    // A client that left must not kill the agent (SIGPIPE).
    ssize_t n = send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += n;
  }
  return true;
}

}  // namespace

std::unique_ptr<ControlServer> ControlServer::listen(const std::string& path, std::string* error) {
  sockaddr_un addr;
  if (!make_address(path, &addr, error)) return nullptr;
  std::error_code ec;
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (!dir.empty() && !std::filesystem::exists(dir)) {
    std::filesystem::create_directories(dir, ec);
    chmod(dir.c_str(), 0700);
  }
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    *error = fmt::format("control socket: {}", strerror(errno));
    return nullptr;
  }
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 && errno == EADDRINUSE) {
    // Another agent answering there is an error; a file left by one that died is not.
    std::string ignored;
    if (control_request(path, "ping\n", &ignored)) {
      *error = fmt::format("control socket {}: another waggle agent is running", path);
      close(fd);
      return nullptr;
    }
    unlink(path.c_str());
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      *error = fmt::format("control socket {}: {}", path, strerror(errno));
      close(fd);
      return nullptr;
    }
  }
  if (chmod(path.c_str(), 0600) != 0 || ::listen(fd, 8) != 0) {
    *error = fmt::format("control socket {}: {}", path, strerror(errno));
    close(fd);
    unlink(path.c_str());
    return nullptr;
  }
  return std::unique_ptr<ControlServer>(new ControlServer(fd, path));
}

ControlServer::~ControlServer() {
  close(fd_);
  unlink(path_.c_str());
}

void ControlServer::serve(const std::function<std::string(const std::string&)>& handle) {
  for (;;) {
    int client = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) return;  // EAGAIN: nobody waiting
    ucred peer{};
    socklen_t len = sizeof(peer);
    std::string request;
    std::string reply;
    // A client that stops reading stalls the agent's loop for at most this long.
    timeval limit{1, 0};
    setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof(limit));
    if (getsockopt(client, SOL_SOCKET, SO_PEERCRED, &peer, &len) != 0 || peer.uid != 0)
      reply = "error\nonly root may control the agent\n";
    else if (!read_all(client, &request, 2000))
      reply = "error\nincomplete request\n";
    else
      reply = handle(request);
    write_all(client, reply);
    close(client);
  }
}

std::optional<std::string> control_request(const std::string& path, const std::string& request,
                                           std::string* error) {
  sockaddr_un addr;
  if (!make_address(path, &addr, error)) return std::nullopt;
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    *error =
        fmt::format("cannot reach the agent at {}: {} (is `waggle run` running?)", path, strerror(errno));
    if (fd >= 0) close(fd);
    return std::nullopt;
  }
  std::string reply;
  bool ok = write_all(fd, request) && shutdown(fd, SHUT_WR) == 0 && read_all(fd, &reply, 60000);
  close(fd);
  if (!ok) {
    *error = fmt::format("the agent at {} did not answer", path);
    return std::nullopt;
  }
  return reply;
}

}  // namespace waggle
