// The hand-built profile the exporters' tests render: two processes named "app" (pids 10 and
// 11) share a stack, "node" runs JIT code; 10 samples in all.
#pragma once

#include <string>

#include "core/profile.hpp"

namespace waggle::test {

inline Profile sample_profile(const std::string& work = "work") {
  Profile p;
  uint32_t main_f = p.intern({"main", "/bin/app", FrameKind::kUser});
  uint32_t work_f = p.intern({work, "/bin/app", FrameKind::kUser});
  uint32_t sys = p.intern({"do_syscall_64", "[kernel.kallsyms]", FrameKind::kKernel});
  uint32_t jit = p.intern({"LazyCompile:foo", "[jit]", FrameKind::kJit});
  uint32_t unknown = p.intern({"app+0x1234", "/bin/app", FrameKind::kUnknown});
  uint32_t s1[] = {main_f, work_f};
  uint32_t s2[] = {main_f, sys};
  uint32_t s3[] = {main_f, jit, unknown};
  p.add("node", 12, s3, 4);
  p.add("app", 11, s1, 2);
  p.add("app", 10, s1, 3);
  p.add("app", 10, s2, 1);
  return p;
}

}  // namespace waggle::test
