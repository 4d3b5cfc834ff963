#include "core/event_ring.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fmt/format.h>
#include <linux/types.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "records.h"

namespace waggle {

std::unique_ptr<EventRing> EventRing::create(uint64_t bytes, std::string* error) {
  long page = sysconf(_SC_PAGESIZE);
  if (bytes < uint64_t(page) || (bytes & (bytes - 1)) != 0) {
    *error = fmt::format("ring buffer size {} is not a power of two of at least {} bytes", bytes, page);
    return nullptr;
  }
  std::unique_ptr<EventRing> ring(new EventRing());
  ring->events_fd_ = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "wg_events", 0, 0, bytes, nullptr);
  if (ring->events_fd_ < 0) {
    *error = fmt::format("cannot create the event ring buffer ({} bytes): {}", bytes, strerror(errno));
    return nullptr;
  }
  ring->drops_fd_ = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "wg_drops", sizeof(__u32), sizeof(__u64),
                                   WG_SENSORS * WG_DROP_CAUSES, nullptr);
  if (ring->drops_fd_ < 0) {
    *error = fmt::format("cannot create the drop counters: {}", strerror(errno));
    return nullptr;
  }
  return ring;
}

EventRing::~EventRing() {
  if (reader_) ring_buffer__free(reader_);
  if (events_fd_ >= 0) close(events_fd_);
  if (drops_fd_ >= 0) close(drops_fd_);
}

int EventRing::on_record(void* ctx, void* data, size_t size) {
  auto* self = static_cast<EventRing*>(ctx);
  self->records_++;
  self->handler_(data, size);
  return 0;
}

bool EventRing::start(Handler handler, std::string* error) {
  handler_ = std::move(handler);
  reader_ = ring_buffer__new(events_fd_, &EventRing::on_record, this, nullptr);
  if (!reader_) {
    *error = fmt::format("cannot read the event ring buffer: {}", strerror(errno));
    return false;
  }
  return true;
}

int EventRing::poll(int timeout_ms) {
  int n = ring_buffer__poll(reader_, timeout_ms);
  if (n < 0 && n != -EINTR) return n;
  int more = ring_buffer__consume(reader_);
  if (more < 0) return more;
  return (n > 0 ? n : 0) + more;
}

std::vector<uint64_t> EventRing::drop_counts() const {
  std::vector<uint64_t> totals(WG_SENSORS * WG_DROP_CAUSES, 0);
  int cpus = libbpf_num_possible_cpus();
  if (cpus <= 0) return totals;
  std::vector<__u64> per_cpu(cpus);
  for (__u32 key = 0; key < totals.size(); key++) {
    if (bpf_map_lookup_elem(drops_fd_, &key, per_cpu.data()) != 0) continue;
    for (auto v : per_cpu) totals[key] += v;
  }
  return totals;
}

}  // namespace waggle
