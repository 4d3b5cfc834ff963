#include "core/open_flags.hpp"

#include <fcntl.h>

#include <charconv>
#include <csignal>
#include <cstring>

namespace waggle {

namespace {

// The constants above must be the ones <fcntl.h> uses (O_LARGEFILE aside, see the header).
static_assert(open_flag::kAccMode == O_ACCMODE);
static_assert(open_flag::kRdonly == O_RDONLY);
static_assert(open_flag::kWronly == O_WRONLY);
static_assert(open_flag::kRdwr == O_RDWR);
static_assert(open_flag::kCreat == O_CREAT);
static_assert(open_flag::kExcl == O_EXCL);
static_assert(open_flag::kNoctty == O_NOCTTY);
static_assert(open_flag::kTrunc == O_TRUNC);
static_assert(open_flag::kAppend == O_APPEND);
static_assert(open_flag::kNonblock == O_NONBLOCK);
static_assert(open_flag::kDsync == O_DSYNC);
static_assert(open_flag::kAsync == FASYNC);
static_assert(open_flag::kDirect == O_DIRECT);
static_assert(open_flag::kDirectory == O_DIRECTORY);
static_assert(open_flag::kNofollow == O_NOFOLLOW);
static_assert(open_flag::kNoatime == O_NOATIME);
static_assert(open_flag::kCloexec == O_CLOEXEC);
static_assert(open_flag::kSync == O_SYNC);
static_assert(open_flag::kPath == O_PATH);
static_assert(open_flag::kTmpfile == O_TMPFILE);
#if defined(__x86_64__) && defined(__O_LARGEFILE) && __O_LARGEFILE != 0
static_assert(open_flag::kLargefile == __O_LARGEFILE);
#endif

struct FlagName {
  uint64_t mask;     // all of these bits must be set
  uint64_t exclude;  // and none of these (the flag is then part of a composite one)
  std::string_view name;
};

constexpr uint64_t kSyncBit = open_flag::kSync & ~open_flag::kDsync;  // __O_SYNC

// Order of the defining bit, as <fcntl.h> lists them.
constexpr FlagName kFlags[] = {
    {open_flag::kCreat, 0, "O_CREAT"},
    {open_flag::kExcl, 0, "O_EXCL"},
    {open_flag::kNoctty, 0, "O_NOCTTY"},
    {open_flag::kTrunc, 0, "O_TRUNC"},
    {open_flag::kAppend, 0, "O_APPEND"},
    {open_flag::kNonblock, 0, "O_NONBLOCK"},
    {open_flag::kDsync, kSyncBit, "O_DSYNC"},
    {open_flag::kAsync, 0, "O_ASYNC"},
    {open_flag::kDirect, 0, "O_DIRECT"},
    {open_flag::kLargefile, 0, "O_LARGEFILE"},
    {open_flag::kDirectory, open_flag::kTmpfileBit, "O_DIRECTORY"},
    {open_flag::kNofollow, 0, "O_NOFOLLOW"},
    {open_flag::kNoatime, 0, "O_NOATIME"},
    {open_flag::kCloexec, 0, "O_CLOEXEC"},
    {open_flag::kSync, 0, "O_SYNC"},
    {open_flag::kPath, 0, "O_PATH"},
    {open_flag::kTmpfile, 0, "O_TMPFILE"},
};
static_assert(std::size(kFlags) + 2 <= OpenFlagNames::kMaxNames);

constexpr std::string_view kModes[] = {"O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE"};

}  // namespace

std::string_view OpenFlagNames::name(uint8_t index) {
  return index < std::size(kModes) ? kModes[index] : kFlags[index - std::size(kModes)].name;
}

OpenFlagNames open_flag_names(uint64_t flags) {
  OpenFlagNames r;
  r.index_[r.size_++] = static_cast<uint8_t>(flags & open_flag::kAccMode);
  uint64_t rest = flags & ~open_flag::kAccMode;
  for (size_t i = 0; rest != 0 && i < std::size(kFlags); ++i) {
    const FlagName& f = kFlags[i];
    if ((flags & f.mask) == f.mask && (flags & f.exclude) == 0) {
      r.index_[r.size_++] = static_cast<uint8_t>(std::size(kModes) + i);
      rest &= ~f.mask;
    }
  }
  if (rest != 0) {
    r.unknown_[0] = '0';
    r.unknown_[1] = 'x';
    auto res = std::to_chars(r.unknown_ + 2, r.unknown_ + sizeof r.unknown_, rest, 16);
    r.unknown_len_ = static_cast<uint8_t>(res.ptr - r.unknown_);
    r.size_++;
  }
  return r;
}

std::vector<std::string> decode_open_flags(uint64_t flags) {
  OpenFlagNames names = open_flag_names(flags);
  std::vector<std::string> out;
  out.reserve(names.size());
  for (size_t i = 0; i < names.size(); ++i) out.emplace_back(names[i]);
  return out;
}

namespace {

void append_int(std::string& out, int v) {
  char buf[16];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, res.ptr);
}

}  // namespace

void append_errno_name(std::string& out, int err) {
  if (const char* name = strerrorname_np(err)) {
    out.append(name);
  } else {
    out.push_back('E');
    append_int(out, err);
  }
}

void append_signal_name(std::string& out, int sig) {
  out.append("SIG", 3);
  if (const char* abbrev = sigabbrev_np(sig)) {
    out.append(abbrev);
  } else {
    append_int(out, sig);
  }
}

std::string errno_name(int err) {
  std::string out;
  append_errno_name(out, err);
  return out;
}

std::string signal_name(int sig) {
  std::string out;
  append_signal_name(out, sig);
  return out;
}

}  // namespace waggle
