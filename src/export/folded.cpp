#include "export/folded.hpp"

#include <fmt/format.h>

#include <map>
#include <string_view>

namespace waggle {

namespace {

void append_name(std::string& out, std::string_view name) {
  if (name.empty()) name = "[unknown]";
  for (char c : name) out.push_back(c == ';' ? ':' : (c == '\n' || c == '\r') ? ' ' : c);
}

std::string_view kind_suffix(FrameKind kind) {
  switch (kind) {
    case FrameKind::kKernel:
      return "_[k]";
    case FrameKind::kJit:
      return "_[j]";
    default:
      return "";
  }
}

}  // namespace

std::string render_folded(const Profile& profile, const FoldedOptions& options) {
  // Keyed by the rendered line: stacks that render alike (same comm, other pid) merge here.
  std::map<std::string, uint64_t> lines;
  const std::vector<ProfileFrame>& frames = profile.frames();
  for (const ProfileStack& stack : profile.stacks()) {
    std::string line;
    append_name(line, stack.process);
    if (options.pid_in_process) line += fmt::format("-{}", stack.pid);
    for (uint32_t index : stack.frames) {
      const ProfileFrame& frame = frames[index];
      line.push_back(';');
      append_name(line, frame.function);
      if (options.annotate_kernel) line += kind_suffix(frame.kind);
    }
    lines[line] += stack.samples;
  }
  std::string out;
  for (const auto& [line, count] : lines) fmt::format_to(std::back_inserter(out), "{} {}\n", line, count);
  return out;
}

}  // namespace waggle
