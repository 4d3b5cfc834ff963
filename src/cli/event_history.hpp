// The agent's recent events, for `waggle observe`: the last lines it wrote out, as JSON, each
// with a sequence number, kept within a count and a byte bound (the oldest go first; a line
// longer than the byte bound is numbered but reported as dropped). Filled
// from the lines the exporter renders anyway; read through the control socket.
#pragma once

#include <cstdint>
#include <memory>
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
  struct Line {
    uint64_t at = 0;  // where its bytes start, counted from the first byte ever kept
    size_t size = 0;
    bool kept = true;  // false: longer than the byte bound, dropped as it came
  };
  const Line& line(uint64_t seq) const { return lines_[seq % kMaxEvents]; }
  void drop_oldest();
  // Appends line `seq`'s bytes to `out` (they may wrap round the end of the byte ring).
  void append_line(uint64_t seq, std::string* out) const;
  std::string_view head_of(uint64_t seq) const;  // its first bytes, for its type

  // Sequence numbers first_ .. next_ - 1, each in slot seq % kMaxEvents; their bytes one after
  // the other in a ring of kMaxBytes (written in order: no allocation, no scattered copies).
  // Its memory is taken from the system as the history first fills.
  std::vector<Line> lines_ = std::vector<Line>(kMaxEvents);
  std::unique_ptr<char[]> bytes_{new char[kMaxBytes]};
  uint64_t first_ = 1, next_ = 1;
  uint64_t end_ = 0;  // where the next line's bytes go
};

}  // namespace waggle
