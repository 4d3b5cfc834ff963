#include "cli/event_history.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <vector>

namespace waggle {

void EventHistory::drop_oldest() { first_++; }

void EventHistory::add(std::string_view json_line) {
  if (!json_line.empty() && json_line.back() == '\n') json_line.remove_suffix(1);
  if (size() == kMaxEvents) drop_oldest();
  if (json_line.size() > kMaxBytes) {  // cannot be kept: numbered, and reported as dropped
    lines_[next_ % kMaxEvents] = Line{end_, 0, false};
    next_++;
    return;
  }
  while (size() > 0 && end_ + json_line.size() - line(first_).at > kMaxBytes) drop_oldest();
  lines_[next_ % kMaxEvents] = Line{end_, json_line.size()};
  const size_t at = end_ % kMaxBytes, first_part = std::min(json_line.size(), kMaxBytes - at);
  std::memcpy(bytes_.get() + at, json_line.data(), first_part);
  std::memcpy(bytes_.get(), json_line.data() + first_part, json_line.size() - first_part);
  end_ += json_line.size();
  next_++;
}

void EventHistory::append_line(uint64_t seq, std::string* out) const {
  const Line& l = line(seq);
  const size_t at = l.at % kMaxBytes, first_part = std::min(l.size, kMaxBytes - at);
  out->append(bytes_.get() + at, first_part);
  out->append(bytes_.get(), l.size - first_part);
}

std::string_view EventHistory::head_of(uint64_t seq) const {
  const Line& l = line(seq);
  const size_t at = l.at % kMaxBytes;
  return std::string_view(bytes_.get() + at, std::min(l.size, kMaxBytes - at));
}

std::string EventHistory::handle(const std::string& request) const {
  std::string_view args = std::string_view(request).substr(std::string_view("observe").size());
  args = args.substr(0, args.find('\n'));
  // AFTER [MAX [TYPE,TYPE...]]
  std::vector<std::string_view> words;
  while (!args.empty()) {
    while (!args.empty() && args.front() == ' ') args.remove_prefix(1);
    if (args.empty()) break;
    size_t space = args.find(' ');
    words.push_back(args.substr(0, space));
    args = space == std::string_view::npos ? std::string_view() : args.substr(space);
  }
  auto number = [](std::string_view w, uint64_t* n) {
    auto [end, ec] = std::from_chars(w.data(), w.data() + w.size(), *n);
    return ec == std::errc() && end == w.data() + w.size();
  };
  uint64_t after = 0, max = UINT64_MAX;
  if (words.empty() || words.size() > 3 || !number(words[0], &after))
    return "error\nobserve: expected the sequence number to read after, got \"" +
           std::string(words.empty() ? std::string_view() : words[0]) + "\"\n";
  if (words.size() >= 2 && !number(words[1], &max))
    return "error\nobserve: expected how many events at most, got \"" + std::string(words[1]) + "\"\n";
  std::vector<std::string_view> types;
  if (words.size() == 3)
    for (std::string_view rest = words[2]; !rest.empty();) {
      size_t comma = rest.find(',');
      types.push_back(rest.substr(0, comma));
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
  // A line's type: every event line starts {"time":"...","type":"NAME" (json_events.cpp). A
  // head cut by the end of the byte ring is copied whole first.
  std::string joined;
  auto type_of = [&](uint64_t seq) {
    std::string_view l = head_of(seq);
    if (l.size() < line(seq).size && l.size() < 128) {
      joined.clear();
      append_line(seq, &joined);
      l = joined;
    }
    constexpr std::string_view kKey = "\"type\":\"";
    size_t at = l.substr(0, 64).find(kKey);
    if (at == std::string_view::npos) return std::string_view();
    l.remove_prefix(at + kKey.size());
    return l.substr(0, l.find('"'));
  };
  // The newest `max` after AFTER; those skipped for the bound are not "dropped". AFTER at or
  // past the newest (a reader of an agent that restarted): nothing, nothing dropped.
  after = std::min(after, next_ - 1);
  uint64_t first = std::max(after + 1, first_);
  uint64_t dropped = first - (after + 1);
  if (next_ - first > max) first = next_ - max;
  for (uint64_t seq = first; seq < next_; seq++) dropped += !line(seq).kept;
  std::string out = fmt::format("ok\nlast {} dropped {}\n", last(), dropped);
  for (uint64_t seq = first; seq < next_; seq++) {
    if (!line(seq).kept) continue;
    if (!types.empty() && std::find(types.begin(), types.end(), type_of(seq)) == types.end()) continue;
    append_line(seq, &out);
    out += '\n';
  }
  return out;
}

}  // namespace waggle
