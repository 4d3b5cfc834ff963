// What every sensor offers the agent: a plan (can it run here, on which hook), and decoding
// of the records its BPF programs write into the shared ring.
#pragma once

#include <linux/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "core/bpf_loader.hpp"
#include "core/event_ring.hpp"
#include "core/events.hpp"
#include "core/feature_probe.hpp"
#include "core/process_cache.hpp"
#include "records.h"

namespace waggle {

struct SensorPlan {
  bool can_run = false;
  std::string hook;    // what it attaches to, when it can run
  std::string reason;  // why it cannot, otherwise
  // The syscall tracepoints it puts programs on (empty: none). While any is attached, every
  // syscall of every task takes the kernel's slower tracing path: `waggle doctor` lists them.
  std::string syscalls;
};

struct SensorEnv {
  EventRing* ring = nullptr;
  ProcessCache* cache = nullptr;
  const Config* config = nullptr;
  const KernelFeatures* features = nullptr;
  std::string tracefs;
  uint32_t self_tgid = 0;
};

using EventCallback = std::function<void(const Event&)>;

class Sensor {
 public:
  virtual ~Sensor() = default;
  virtual std::string_view name() const = 0;
  virtual std::string_view hook() const = 0;
  // Whether records of this type are this sensor's.
  virtual bool handles(uint16_t record_type) const = 0;
  // Decodes one of its records (already checked to hold at least a wg_header).
  virtual void decode(const wg_header& header, const void* record, size_t size,
                      const EventCallback& emit) = 0;
  // Called about once a second, and once more after the last records were decoded: what the
  // sensor reads from the kernel's maps rather than from records (e.g. HTTP tallies).
  virtual void tick(const EventCallback& emit) { (void)emit; }
  // Detaches every program; records already in the ring can still be decoded.
  virtual void detach() = 0;
  // Events decoded but deliberately not posted (a rule's rateLimit): counted, not lost.
  virtual uint64_t rate_limited() const { return 0; }
  // Records of this sensor were lost in the kernel (counted there): state built from the
  // stream of its records (e.g. a connection's HTTP parser) may have a hole and should restart.
  virtual void on_records_lost() {}
  // What the sensor dropped or gave up on in user space, as (metric name, help, count): e.g.
  // HTTP connections that were not HTTP after all. Exported as counters named `name`.
  struct Counter {
    std::string name;
    std::string help;
    uint64_t value = 0;
  };
  virtual void counters(std::vector<Counter>* out) const { (void)out; }
  // The kernel's counters of its attached programs.
  virtual void program_stats(std::vector<ProgramStats>* out) const = 0;
};

// Why no sensor can run on this kernel (no BTF, ring buffers or bpf_loop), or empty.
std::string missing_core_features(const KernelFeatures& f);

// The process a record belongs to: from the cache, or, when the process is unknown there
// and gone from /proc, described from the record's header alone.
ProcessRef process_of(ProcessCache& cache, const wg_header& header);

// Sets the settings every sensor's BPF object shares (see bpf/common.bpf.h).
template <typename Rodata>
void set_common_rodata(Rodata* rodata, const SensorEnv& env) {
  // A quarter of the ring: the reader then has three quarters left to catch up in, and it
  // wakes a quarter as often as at a sixteenth. Each wakeup finds its caches cold (the loaded
  // processes ran in between): under a saturated HTTP server the agent took 1.26 µs of CPU per
  // request at a sixteenth, 1.12 µs at a quarter (docs/benchmarks.md).
  rodata->wakeup_bytes = env.config->ring_buffer_bytes / 4;
  rodata->self_tgid = env.self_tgid;
  rodata->filter_tgid = env.config->pid.value_or(0);
  if (env.config->comm) {
    const std::string& comm = *env.config->comm;
    for (size_t i = 0; i < sizeof(rodata->filter_comm); i++)
      rodata->filter_comm[i] = i < comm.size() ? comm[i] : 0;
  }
}

// Copies a fixed-size, possibly unterminated kernel char array.
std::string comm_string(const char* comm, size_t size);

}  // namespace waggle
