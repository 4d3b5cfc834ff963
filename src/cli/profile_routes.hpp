// The profiler's paths on the metrics endpoint of `waggle run`:
//   /debug/pprof/profile?seconds=N   gzipped profile.proto, as Parca and Pyroscope scrape it
//   /debug/flamegraph?seconds=N      the same window as an interactive SVG flame graph
// Both take pid=, comm= and container= (an id or prefix) to keep one process or container.
#pragma once

#include <vector>

#include "config/config.hpp"
#include "export/metrics_registry.hpp"
#include "export/prometheus_endpoint.hpp"
#include "sensors/profile/continuous_profiler.hpp"

namespace waggle {

// Seconds of a window when the request names none (as Go's net/http/pprof).
constexpr double kDefaultProfileSeconds = 30;

// Starts sampling every CPU as the configuration says (the agent itself excluded).
std::unique_ptr<ContinuousProfiler> start_profiler(const ProfilerConfig& config, std::string* error);

// The profiler's own counters as metrics (waggle_profiler_*), read at each scrape. The
// profiler must outlive the endpoint serving the registry.
void add_profiler_metrics(metrics::Registry& registry, ContinuousProfiler& profiler);

std::vector<HttpRoute> profile_routes(ContinuousProfiler& profiler, const ProfilerConfig& config);

}  // namespace waggle
