// The agent's recent events, for `waggle observe`: the last lines it wrote out, as JSON, each
// with a sequence number, kept within a count and a byte bound (the oldest go first). Filled
// from the lines the exporter renders anyway; read through the control socket.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace waggle {

class EventHistory {
 public:
  static constexpr size_t kMaxEvents = 10000;
  static constexpr size_t kMaxBytes = 16 << 20;

  // One event as a JSON line (its newline included or not).
  void add(std::string_view json_line);

  // Answers "observe AFTER [MAX [TYPE,...]]": "ok", then "last N dropped M" (N the newest
  // sequence number, M how many events after AFTER were dropped from the history before being
  // read), then the lines of the events after AFTER, oldest first: the newest MAX of them, and
  // of those only the given event types (for the web UI).
  std::string handle(const std::string& request) const;

  uint64_t last() const { return next_ - 1; }
  size_t size() const { return size_t(next_ - first_); }

 private:
  const std::string& line(uint64_t seq) const { return ring_[seq % kMaxEvents]; }
  void drop_oldest();

  // Sequence numbers first_ .. next_ - 1, each in slot seq % kMaxEvents. A slot keeps its
  // memory for the next line: no allocation per event once the ring has gone round.
  std::vector<std::string> ring_ = std::vector<std::string>(kMaxEvents);
  uint64_t first_ = 1, next_ = 1;
  size_t bytes_ = 0;
};

}  // namespace waggle
