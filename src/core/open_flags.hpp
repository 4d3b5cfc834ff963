// Names for open(2) flags, errno values and signals, as exporters print them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace waggle {

// open(2) flag values as the x86_64 kernel sees them (<fcntl.h> / asm-generic/fcntl.h).
// O_LARGEFILE is spelled out: glibc defines it as 0 for 64-bit programs, but 32-bit programs
// pass the kernel's value.
namespace open_flag {
inline constexpr uint64_t kAccMode = 03;
inline constexpr uint64_t kRdonly = 00;
inline constexpr uint64_t kWronly = 01;
inline constexpr uint64_t kRdwr = 02;
inline constexpr uint64_t kCreat = 0100;
inline constexpr uint64_t kExcl = 0200;
inline constexpr uint64_t kNoctty = 0400;
inline constexpr uint64_t kTrunc = 01000;
inline constexpr uint64_t kAppend = 02000;
inline constexpr uint64_t kNonblock = 04000;
inline constexpr uint64_t kDsync = 010000;
inline constexpr uint64_t kAsync = 020000;  // FASYNC
inline constexpr uint64_t kDirect = 040000;
inline constexpr uint64_t kLargefile = 0100000;
inline constexpr uint64_t kDirectory = 0200000;
inline constexpr uint64_t kNofollow = 0400000;
inline constexpr uint64_t kNoatime = 01000000;
inline constexpr uint64_t kCloexec = 02000000;
inline constexpr uint64_t kSync = 04010000;  // __O_SYNC | O_DSYNC
inline constexpr uint64_t kPath = 010000000;
inline constexpr uint64_t kTmpfile = 020200000;     // __O_TMPFILE | O_DIRECTORY
inline constexpr uint64_t kTmpfileBit = 020000000;  // __O_TMPFILE alone
}  // namespace open_flag

// True when open(2) reads the mode argument for these flags (O_CREAT or O_TMPFILE).
inline bool open_flags_use_mode(uint64_t flags) {
  return (flags & (open_flag::kCreat | open_flag::kTmpfileBit)) != 0;
}

// The decoded names of one flags value, without allocating. Safe to copy: the text of unknown
// bits lives inside the object and views to it are made on access. Views returned by
// operator[] stay valid as long as this object does.
class OpenFlagNames {
 public:
  // Access mode, then flags, then (if any) unknown bits.
  static constexpr size_t kMaxNames = 20;

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::string_view operator[](size_t i) const {
    if (i + 1 == size_ && unknown_len_ > 0) return {unknown_, unknown_len_};
    return name(index_[i]);
  }

 private:
  friend OpenFlagNames open_flag_names(uint64_t flags);
  static std::string_view name(uint8_t index);

  // Indexes into a static table rather than views: cheap to build and copy.
  uint8_t index_[kMaxNames];
  uint8_t size_ = 0;
  uint8_t unknown_len_ = 0;
  char unknown_[19];  // "0x" + up to 16 hex digits
};

// Access mode first ("O_RDONLY", "O_WRONLY", "O_RDWR"; "O_ACCMODE" for the invalid value 3),
// then every other set flag by name in <fcntl.h> order (O_SYNC hides the O_DSYNC it contains,
// O_TMPFILE the O_DIRECTORY it contains), then the remaining unknown bits as one hex string
// ("0x40000000"; a lone __O_SYNC or __O_TMPFILE bit is reported there too).
OpenFlagNames open_flag_names(uint64_t flags);

// Same, as owned strings.
std::vector<std::string> decode_open_flags(uint64_t flags);

// "ENOENT"; "E<number>" for values glibc has no name for.
std::string errno_name(int err);

// "SIGKILL"; "SIG<number>" for values glibc has no name for (such as real-time signals).
std::string signal_name(int sig);

// The same names appended to `out`, without allocating (for per-event formatting).
void append_errno_name(std::string& out, int err);
void append_signal_name(std::string& out, int sig);

}  // namespace waggle
