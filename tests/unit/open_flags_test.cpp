#include "core/open_flags.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <csignal>
#include <string>
#include <vector>

namespace waggle {
namespace {

using Names = std::vector<std::string>;

TEST(OpenFlags, AccessModeComesFirst) {
  EXPECT_EQ(decode_open_flags(O_RDONLY), Names({"O_RDONLY"}));
  EXPECT_EQ(decode_open_flags(O_WRONLY), Names({"O_WRONLY"}));
  EXPECT_EQ(decode_open_flags(O_RDWR), Names({"O_RDWR"}));
  EXPECT_EQ(decode_open_flags(3), Names({"O_ACCMODE"}));
  EXPECT_EQ(decode_open_flags(O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC),
            Names({"O_WRONLY", "O_CREAT", "O_TRUNC", "O_CLOEXEC"}));
}

TEST(OpenFlags, EveryNamedFlag) {
  const uint64_t all = O_RDWR | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_APPEND | O_NONBLOCK | O_ASYNC |
                       O_DIRECT | open_flag::kLargefile | O_DIRECTORY | O_NOFOLLOW | O_NOATIME | O_CLOEXEC |
                       O_PATH | O_DSYNC;
  EXPECT_EQ(decode_open_flags(all), Names({"O_RDWR", "O_CREAT", "O_EXCL", "O_NOCTTY", "O_TRUNC", "O_APPEND",
                                           "O_NONBLOCK", "O_DSYNC", "O_ASYNC", "O_DIRECT", "O_LARGEFILE",
                                           "O_DIRECTORY", "O_NOFOLLOW", "O_NOATIME", "O_CLOEXEC", "O_PATH"}));
  EXPECT_EQ(decode_open_flags(O_RDONLY | O_NDELAY), Names({"O_RDONLY", "O_NONBLOCK"}));
  EXPECT_EQ(decode_open_flags(O_RDONLY | FASYNC), Names({"O_RDONLY", "O_ASYNC"}));
  EXPECT_EQ(open_flag::kLargefile, 0100000u);
}

TEST(OpenFlags, CompositeFlagsHideTheirParts) {
  EXPECT_EQ(decode_open_flags(O_WRONLY | O_SYNC), Names({"O_WRONLY", "O_SYNC"}));
  EXPECT_EQ(decode_open_flags(O_WRONLY | O_DSYNC), Names({"O_WRONLY", "O_DSYNC"}));
  EXPECT_EQ(decode_open_flags(O_RDWR | O_TMPFILE), Names({"O_RDWR", "O_TMPFILE"}));
  EXPECT_EQ(decode_open_flags(O_RDONLY | O_DIRECTORY), Names({"O_RDONLY", "O_DIRECTORY"}));
  EXPECT_EQ(decode_open_flags(O_RDWR | O_TMPFILE | O_SYNC | O_EXCL),
            Names({"O_RDWR", "O_EXCL", "O_SYNC", "O_TMPFILE"}));
  // The private halves alone are unknown bits.
  EXPECT_EQ(decode_open_flags(O_RDONLY | 020000000), Names({"O_RDONLY", "0x400000"}));
  EXPECT_EQ(decode_open_flags(O_RDONLY | 04000000), Names({"O_RDONLY", "0x100000"}));
}

TEST(OpenFlags, UnknownBitsAsOneHexString) {
  EXPECT_EQ(decode_open_flags(O_RDONLY | 0x40000000), Names({"O_RDONLY", "0x40000000"}));
  EXPECT_EQ(decode_open_flags(O_WRONLY | O_CREAT | 0x40000000 | (uint64_t{1} << 63)),
            Names({"O_WRONLY", "O_CREAT", "0x8000000040000000"}));
  // Bits 2-5 (octal 074) and everything above __O_TMPFILE have no name.
  EXPECT_EQ(decode_open_flags(~uint64_t{0}).back(), "0xffffffffff80003c");
  EXPECT_EQ(decode_open_flags(~uint64_t{0}).size(), 17u);  // mode, 15 flags, unknown
}

TEST(OpenFlags, NamesObjectIsSafeToCopy) {
  OpenFlagNames copy;
  {
    OpenFlagNames original = open_flag_names(O_WRONLY | 0x40000000);
    copy = original;
    original = open_flag_names(O_RDONLY);
  }
  ASSERT_EQ(copy.size(), 2u);
  EXPECT_EQ(copy[0], "O_WRONLY");
  EXPECT_EQ(copy[1], "0x40000000");
}

TEST(OpenFlags, UsesMode) {
  EXPECT_TRUE(open_flags_use_mode(O_WRONLY | O_CREAT));
  EXPECT_TRUE(open_flags_use_mode(O_RDWR | O_TMPFILE));
  EXPECT_FALSE(open_flags_use_mode(O_RDONLY | O_DIRECTORY));
  EXPECT_FALSE(open_flags_use_mode(O_WRONLY | O_TRUNC));
}

TEST(OpenFlags, ErrnoNames) {
  EXPECT_EQ(errno_name(ENOENT), "ENOENT");
  EXPECT_EQ(errno_name(EACCES), "EACCES");
  EXPECT_EQ(errno_name(EAGAIN), "EAGAIN");
  EXPECT_EQ(errno_name(ENAMETOOLONG), "ENAMETOOLONG");
  EXPECT_EQ(errno_name(9999), "E9999");
  EXPECT_EQ(errno_name(-3), "E-3");
  std::string out = "x";
  append_errno_name(out, EPERM);
  EXPECT_EQ(out, "xEPERM");
}

TEST(OpenFlags, SignalNames) {
  EXPECT_EQ(signal_name(SIGKILL), "SIGKILL");
  EXPECT_EQ(signal_name(SIGSEGV), "SIGSEGV");
  EXPECT_EQ(signal_name(SIGTERM), "SIGTERM");
  EXPECT_EQ(signal_name(SIGHUP), "SIGHUP");
  EXPECT_EQ(signal_name(200), "SIG200");
  std::string out;
  append_signal_name(out, SIGINT);
  EXPECT_EQ(out, "SIGINT");
}

}  // namespace
}  // namespace waggle
