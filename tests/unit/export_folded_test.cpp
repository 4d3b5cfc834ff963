// Folded stacks (flamegraph.pl's input): merging, annotations, escaping and order.
#include <gtest/gtest.h>

#include "sample_profile.hpp"

#include "export/folded.hpp"

namespace waggle {
namespace {

// Two processes named "app" (pids 10 and 11) share a stack; "node" runs JIT code.
Profile sample_profile() { return test::sample_profile("a;b\nc\rd"); }

TEST(FoldedExport, MergesProcessesByCommAndMarksKernelAndJitFrames) {
  EXPECT_EQ(render_folded(sample_profile()),
            "app;main;a:b c d 5\n"
            "app;main;do_syscall_64_[k] 1\n"
            "node;main;LazyCompile:foo_[j];app+0x1234 4\n");
}

TEST(FoldedExport, PidInProcessGivesEachProcessItsOwnRoot) {
  FoldedOptions options;
  options.pid_in_process = true;
  options.annotate_kernel = false;
  EXPECT_EQ(render_folded(sample_profile(), options),
            "app-10;main;a:b c d 3\n"
            "app-10;main;do_syscall_64 1\n"
            "app-11;main;a:b c d 2\n"
            "node-12;main;LazyCompile:foo;app+0x1234 4\n");
}

TEST(FoldedExport, ProcessNamesAreEscapedAndEmptyNamesShowAsUnknown) {
  Profile p;
  uint32_t empty = p.intern({"", "/bin/x", FrameKind::kUser});
  uint32_t f = p.intern({"f", "/bin/x", FrameKind::kUser});
  uint32_t stack[] = {empty, f};
  p.add("we;ird\nname", 7, stack, 2);
  p.add("", 8, stack, 1);
  FoldedOptions options;
  options.pid_in_process = true;
  EXPECT_EQ(render_folded(p, options),
            "[unknown]-8;[unknown];f 1\n"
            "we:ird name-7;[unknown];f 2\n");
}

TEST(FoldedExport, StackWithoutFramesIsJustTheProcess) {
  Profile p;
  p.add("idle", 0, {}, 9);
  EXPECT_EQ(render_folded(p), "idle 9\n");
}

TEST(FoldedExport, EmptyProfileRendersNothing) { EXPECT_EQ(render_folded(Profile{}), ""); }

TEST(FoldedExport, InternDeduplicatesFrames) {
  Profile p;
  EXPECT_EQ(p.intern({"f", "m", FrameKind::kUser}), p.intern({"f", "m", FrameKind::kUser}));
  EXPECT_NE(p.intern({"f", "m", FrameKind::kUser}), p.intern({"f", "m", FrameKind::kKernel}));
  EXPECT_EQ(p.frames().size(), 2u);
}

}  // namespace
}  // namespace waggle
