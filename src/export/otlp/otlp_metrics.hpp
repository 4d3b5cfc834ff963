// The agent's metrics (what its Prometheus endpoint serves) as OTLP metrics: counters as
// monotonic cumulative sums, gauges as gauges, histograms as cumulative explicit-bucket
// histograms, each label a data point attribute. Names stay the Prometheus ones.
#pragma once

#include <cstdint>
#include <vector>

#include "export/metrics_registry.hpp"
#include "export/otlp/otlp_spans.hpp"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"

namespace waggle::otlp {

// `start_ns`: when the agent started counting; `now_ns`: the collection time (Unix epoch ns).
void add_metrics(const std::vector<metrics::FamilySnapshot>& families, const HostResource& host, uint64_t start_ns,
                 uint64_t now_ns, proto::collector::metrics::v1::ExportMetricsServiceRequest* request);

}  // namespace waggle::otlp
