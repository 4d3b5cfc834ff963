#include "cli/event_history.hpp"

#include <fmt/format.h>

#include <charconv>

namespace waggle {

void EventHistory::add(std::string_view json_line) {
  if (!json_line.empty() && json_line.back() == '\n') json_line.remove_suffix(1);
  lines_.emplace_back(json_line);
  bytes_ += json_line.size();
  next_++;
  while (lines_.size() > kMaxEvents || (bytes_ > kMaxBytes && lines_.size() > 1)) {
    bytes_ -= lines_.front().size();
    lines_.pop_front();
  }
}

std::string EventHistory::handle(const std::string& request) const {
  std::string_view args = std::string_view(request).substr(std::string_view("observe").size());
  args = args.substr(0, args.find('\n'));
  while (!args.empty() && args.front() == ' ') args.remove_prefix(1);
  uint64_t after = 0;
  auto [end, ec] = std::from_chars(args.data(), args.data() + args.size(), after);
  if (ec != std::errc() || end != args.data() + args.size())
    return "error\nobserve: expected the sequence number to read after, got \"" + std::string(args) + "\"\n";
  const uint64_t oldest = next_ - lines_.size();
  const uint64_t first = std::max(after + 1, oldest);
  std::string out = fmt::format("ok\nlast {} dropped {}\n", last(), first - (after + 1));
  for (uint64_t seq = first; seq < next_; seq++) {
    out += lines_[seq - oldest];
    out += '\n';
  }
  return out;
}

}  // namespace waggle
