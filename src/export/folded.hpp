// A profile in flamegraph.pl's input format ("folded" stacks): one line per stack,
// "process;outermost;...;leaf COUNT", sorted.
#pragma once

#include <string>

#include "core/profile.hpp"

namespace waggle {

struct FoldedOptions {
  bool pid_in_process = false;  // root frame "comm-PID" (stackcollapse-perf --pid), else merged by comm
  bool annotate_kernel = true;  // kernel frames end in "_[k]" and JIT frames in "_[j]", as perf's scripts do
};

// ';' in a name becomes ':' and a line break a space, so that names cannot break the format.
std::string render_folded(const Profile& profile, const FoldedOptions& options = {});

}  // namespace waggle
