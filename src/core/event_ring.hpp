// The ring buffer every sensor writes to, the per-CPU drop counters beside it, and the loop
// that drains them. Sensors' BPF objects are handed these maps before they load.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

struct ring_buffer;

namespace waggle {

class EventRing {
 public:
  using Handler = std::function<void(const void* data, size_t size)>;

  // `bytes`: ring size, a power of two and a multiple of the page size.
  static std::unique_ptr<EventRing> create(uint64_t bytes, std::string* error);
  ~EventRing();
  EventRing(const EventRing&) = delete;
  EventRing& operator=(const EventRing&) = delete;

  int events_fd() const { return events_fd_; }
  int drops_fd() const { return drops_fd_; }

  // Starts reading: every record is passed to `handler`, in order, on the calling thread.
  bool start(Handler handler, std::string* error);
  // Waits up to timeout_ms for a wakeup, then drains what is there (records are submitted
  // without wakeups until enough data waits, so the timeout is what bounds their latency).
  // Returns the number of records handled, or -errno.
  int poll(int timeout_ms);

  // Drop counters summed over CPUs, indexed sensor * WG_DROP_CAUSES + cause.
  std::vector<uint64_t> drop_counts() const;
  uint64_t records() const { return records_; }

 private:
  EventRing() = default;
  static int on_record(void* ctx, void* data, size_t size);

  int events_fd_ = -1;
  int drops_fd_ = -1;
  ring_buffer* reader_ = nullptr;
  Handler handler_;
  uint64_t records_ = 0;
};

}  // namespace waggle
