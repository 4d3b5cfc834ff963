// The agent's own health as metrics: records lost by sensor and cause, records undecodable,
// and each BPF program's run count and run time. Read on the agent's thread, served from the
// metrics endpoint's threads.
#pragma once

#include <linux/types.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/event_ring.hpp"
#include "export/metrics_registry.hpp"
#include "records.h"
#include "sensors/sensor.hpp"

namespace waggle {

inline constexpr const char* kSensorNames[WG_SENSORS] = {"process", "file", "policy", "network"};
inline constexpr const char* kCauseNames[WG_DROP_CAUSES] = {"ring_buffer_full", "pending_table_full",
                                                            "read_failed"};

class AgentHealth {
 public:
  // Registers a collector in `registry`; both must outlive the endpoint serving it.
  explicit AgentHealth(metrics::Registry& registry);
  // Takes a new reading (agent thread).
  void update(const EventRing& ring, const std::vector<std::unique_ptr<Sensor>>& sensors,
              uint64_t undecodable);

 private:
  struct Reading {
    std::vector<uint64_t> drops;
    uint64_t records = 0;
    uint64_t undecodable = 0;
    std::vector<std::pair<std::string, ProgramStats>> programs;  // sensor, program
    std::vector<Sensor::Counter> counters;
  };
  void collect(metrics::Collector& c) const;

  mutable std::mutex mutex_;
  Reading reading_;
};

}  // namespace waggle
