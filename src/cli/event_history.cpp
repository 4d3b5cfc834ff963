#include "cli/event_history.hpp"

#include <fmt/format.h>

#include <charconv>

namespace waggle {

void EventHistory::drop_oldest() {
  bytes_ -= line(first_).size();
  first_++;
}

void EventHistory::add(std::string_view json_line) {
  if (!json_line.empty() && json_line.back() == '\n') json_line.remove_suffix(1);
  if (size() == kMaxEvents) drop_oldest();
  std::string& slot = ring_[next_ % kMaxEvents];
  if (slot.capacity() > 65536 && slot.capacity() > 4 * json_line.size())
    slot = std::string(json_line);  // a huge line's memory is not kept for small ones
  else
    slot.assign(json_line);
  bytes_ += json_line.size();
  next_++;
  while (bytes_ > kMaxBytes && size() > 1) drop_oldest();
}

std::string EventHistory::handle(const std::string& request) const {
  std::string_view args = std::string_view(request).substr(std::string_view("observe").size());
  args = args.substr(0, args.find('\n'));
  while (!args.empty() && args.front() == ' ') args.remove_prefix(1);
  uint64_t after = 0;
  auto [end, ec] = std::from_chars(args.data(), args.data() + args.size(), after);
  if (ec != std::errc() || end != args.data() + args.size())
    return "error\nobserve: expected the sequence number to read after, got \"" + std::string(args) + "\"\n";
  const uint64_t first = std::max(after + 1, first_);
  std::string out = fmt::format("ok\nlast {} dropped {}\n", last(), first - (after + 1));
  for (uint64_t seq = first; seq < next_; seq++) {
    out += line(seq);
    out += '\n';
  }
  return out;
}

}  // namespace waggle
