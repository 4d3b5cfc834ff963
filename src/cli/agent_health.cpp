#include "cli/agent_health.hpp"

#include <map>

namespace waggle {

AgentHealth::AgentHealth(metrics::Registry& registry) {
  registry.add_collector([this](metrics::Collector& c) { collect(c); });
}

void AgentHealth::update(const EventRing& ring, const std::vector<std::unique_ptr<Sensor>>& sensors,
                         uint64_t undecodable) {
  Reading r;
  r.drops = ring.drop_counts();
  r.records = ring.records();
  r.undecodable = undecodable;
  for (const auto& sensor : sensors) {
    std::vector<ProgramStats> stats;
    sensor->program_stats(&stats);
    for (ProgramStats& s : stats) r.programs.emplace_back(std::string(sensor->name()), std::move(s));
    sensor->counters(&r.counters);
  }
  std::lock_guard lock(mutex_);
  reading_ = std::move(r);
}

void AgentHealth::collect(metrics::Collector& c) const {
  std::lock_guard lock(mutex_);
  const Reading& r = reading_;
  auto& records = c.counter("waggle_ring_records_total", "Records read from the kernel's ring buffer.");
  records.sample({}, double(r.records));
  auto& lost = c.counter("waggle_events_lost_total",
                         "Records the kernel could not deliver, by sensor and cause, and records user space "
                         "could not decode.",
                         {"sensor", "cause"});
  for (int s = 0; s < WG_SENSORS; s++)
    for (int k = 0; k < WG_DROP_CAUSES; k++) {
      size_t i = size_t(s) * WG_DROP_CAUSES + k;
      lost.sample({kSensorNames[s], kCauseNames[k]}, i < r.drops.size() ? double(r.drops[i]) : 0);
    }
  lost.sample({"agent", "undecodable"}, double(r.undecodable));
  for (const Sensor::Counter& counter : r.counters)
    c.counter(counter.name, counter.help).sample({}, double(counter.value));
  // Programs of one name (e.g. two policy generations) are summed.
  std::map<std::pair<std::string, std::string>, ProgramStats> programs;
  for (const auto& [sensor, stats] : r.programs) {
    ProgramStats& sum = programs[{sensor, stats.name}];
    sum.runs += stats.runs;
    sum.run_time_ns += stats.run_time_ns;
  }
  auto& runs = c.counter("waggle_bpf_program_runs_total", "Runs of each BPF program (kernel statistics).",
                         {"sensor", "program"});
  auto& time = c.counter("waggle_bpf_program_run_seconds_total",
                         "Time spent in each BPF program (kernel statistics).", {"sensor", "program"});
  for (const auto& [key, stats] : programs) {
    runs.sample({key.first, key.second}, double(stats.runs));
    time.sample({key.first, key.second}, double(stats.run_time_ns) / 1e9);
  }
}

}  // namespace waggle
