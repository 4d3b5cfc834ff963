#include "export/folded.hpp"

#include <fmt/format.h>

#include <map>

namespace waggle {

namespace {

void append_name(std::string* out, const std::string& name) {
  for (char c : name) out->push_back(c == ';' ? ':' : (c == '\n' || c == '\r') ? ' ' : c);
}

}  // namespace

std::string render_folded(const Profile& profile, const FoldedOptions& options) {
  // Stacks of processes with the same comm merge unless pids are wanted.
  std::map<std::string, uint64_t> lines;
  const auto& frames = profile.frames();
  for (const ProfileStack& stack : profile.stacks()) {
    std::string line;
    append_name(&line, options.pid_in_process ? fmt::format("{}-{}", stack.process, stack.pid) : stack.process);
    for (uint32_t id : stack.frames) {
      const ProfileFrame& f = frames[id];
      line.push_back(';');
      append_name(&line, f.function);
      if (options.annotate_kernel && f.kind == FrameKind::kKernel) line += "_[k]";
      if (options.annotate_kernel && f.kind == FrameKind::kJit) line += "_[j]";
    }
    lines[line] += stack.samples;
  }
  std::string out;
  for (const auto& [line, count] : lines) out += fmt::format("{} {}\n", line, count);
  return out;
}

}  // namespace waggle
