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

namespace proto = opentelemetry::proto;

// An attribute appended to a list of them (metrics and logs, built as messages).
void add_attribute(google::protobuf::RepeatedPtrField<proto::common::v1::KeyValue>* attributes,
                   std::string_view key, std::string_view value);

// The instrumentation scope waggle's data is sent under.
void set_scope(proto::common::v1::InstrumentationScope* scope);

// `start_ns`: when the agent started counting; `now_ns`: the collection time (Unix epoch ns).
void add_metrics(const std::vector<metrics::FamilySnapshot>& families, const HostResource& host, uint64_t start_ns,
                 uint64_t now_ns, proto::collector::metrics::v1::ExportMetricsServiceRequest* request);

}  // namespace waggle::otlp
