// Where rendered lines go: standard output, or a file rotated by size.
#pragma once

#include <csignal>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "config/config.hpp"

namespace waggle {

class OutputSink {
 public:
  // Data is written once this much is buffered.
  static constexpr size_t kBufferBytes = 256 * 1024;

  // Standard output when config.file is empty; otherwise the file, opened for appending and
  // created with mode 0640 if missing. On failure returns null and sets *error to a message
  // that names the file and the reason.
  static std::unique_ptr<OutputSink> open(const OutputConfig& config, std::string* error);

  OutputSink(const OutputSink&) = delete;
  OutputSink& operator=(const OutputSink&) = delete;
  // Flushes (errors are lost then: call flush() first to see them) and closes the file.
  ~OutputSink();

  // Takes one or more complete lines ('\n'-terminated; a missing final '\n' is treated as if
  // present for splitting). Buffers them; writes when kBufferBytes is reached.
  //
  // File output rotates by size: before the lines would take the file past rotate_bytes (and
  // the file is not empty) the sink renames file.(keep-1) to file.keep, ..., file to file.1 and
  // opens a fresh file (keep 0: the old file is removed). Lines are never split across files;
  // a line longer than rotate_bytes gets a file of its own. rotate_bytes 0 turns rotation off.
  //
  // Returns false when a write, rename or open failed: error() says what. Data that could not
  // be written is dropped (the buffer does not grow without bound while a disk is full); when
  // rotation fails the sink keeps writing to the current file.
  bool write(std::string_view lines);

  // Writes what is buffered. Returns false on failure (see error()).
  bool flush();

  // A write the output cannot take yet (a pipe whose reader is slow) waits for it. Once *stop is
  // set, it waits at most kStopWaitMs for room each time: an output that takes nothing for that
  // long (a reader that stopped reading) is given up, and every later write fails at once (its
  // data dropped and counted), so that the agent can stop. A slow reader loses nothing.
  void give_up_when(const volatile sig_atomic_t* stop) { stop_ = stop; }
  static constexpr int kStopWaitMs = 2000;

  // The most recent failure ("write /var/log/waggle.json: No space left on device"), or empty.
  const std::string& error() const { return error_; }
  // How many failures there have been.
  uint64_t errors() const { return errors_; }
  // How many times the file was rotated.
  uint64_t rotations() const { return rotations_; }

 private:
  OutputSink(int fd, bool owns_fd, std::string path, uint64_t size, const OutputConfig& config);

  bool append(std::string_view data);  // into the current file, through the buffer
  bool write_all(std::string_view data);
  bool rotate();  // false when the old file is still the current one
  void fail(std::string what, int err);
  bool stopping() const { return stop_ != nullptr && *stop_ != 0; }
  // Waits until the output can take some bytes (timeout_ms -1: without limit); false on timeout.
  bool wait_for_room(int timeout_ms);
  // What a pipe with any room takes without blocking.
  static constexpr size_t kStopChunkBytes = 4096;

  int fd_;
  bool owns_fd_;
  std::string path_;       // empty for standard output
  uint64_t file_size_;     // of the current file, buffered bytes included
  uint64_t rotate_bytes_;  // 0: no rotation
  uint32_t rotate_keep_;
  std::string buffer_;
  std::string error_;
  uint64_t errors_ = 0;
  uint64_t rotations_ = 0;
  const volatile sig_atomic_t* stop_ = nullptr;
  bool given_up_ = false;
};

}  // namespace waggle
