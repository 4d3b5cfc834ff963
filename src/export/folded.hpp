// A profile in flamegraph.pl's input format ("folded" stacks), as perf's stackcollapse-perf.pl
// writes it: one line per stack, "process;outermost;...;leaf COUNT\n".
#pragma once

#include <string>

#include "core/profile.hpp"

namespace waggle {

struct FoldedOptions {
  // Root frame "comm-PID" (stackcollapse-perf.pl --pid); otherwise the stacks of every process
  // with the same comm merge into one line per stack, their counts summed.
  bool pid_in_process = false;
  // Kernel frames end in "_[k]" (stackcollapse-perf.pl --kernel) and JIT frames in "_[j]"
  // (--jit): flamegraph.pl --color=java colours them apart from user frames.
  bool annotate_kernel = true;
};

// Lines sorted bytewise, so that the same profile always renders the same text. In frame and
// process names ';' (the frame separator) becomes ':', and '\n' and '\r' (the line separator)
// become ' '; an empty name becomes "[unknown]" as in perf's scripts. Spaces and digits stay:
// flamegraph.pl takes the count from after the line's last space.
std::string render_folded(const Profile& profile, const FoldedOptions& options = {});

}  // namespace waggle
