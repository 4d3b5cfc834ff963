// The agent's recent events, for `waggle observe`: the last lines it wrote out, as JSON, each
// with a sequence number, kept within a count and a byte bound (the oldest go first). Filled
// from the lines the exporter renders anyway; read through the control socket.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>

namespace waggle {

class EventHistory {
 public:
  static constexpr size_t kMaxEvents = 10000;
  static constexpr size_t kMaxBytes = 16 << 20;

  // One event as a JSON line (its newline included or not).
  void add(std::string_view json_line);

  // Answers "observe AFTER": "ok", then "last N dropped M" (N the newest sequence number, M
  // how many events after AFTER were dropped from the history before being read), then the
  // lines of the events after AFTER, oldest first.
  std::string handle(const std::string& request) const;

  uint64_t last() const { return next_ - 1; }
  size_t size() const { return lines_.size(); }

 private:
  std::deque<std::string> lines_;  // sequence numbers next_ - size() .. next_ - 1
  uint64_t next_ = 1;
  size_t bytes_ = 0;
};

}  // namespace waggle
