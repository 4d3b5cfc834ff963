#include "export/otlp/otlp_metrics.hpp"

#include <numeric>

#include "export/json_string.hpp"

namespace waggle::otlp {
namespace {

using proto::metrics::v1::AGGREGATION_TEMPORALITY_CUMULATIVE;

// UCUM units for the suffixes the agent's metric names use.
std::string_view unit_of(std::string_view name) {
  if (name.ends_with("_seconds") || name.ends_with("_seconds_total")) return "s";
  if (name.ends_with("_bytes") || name.ends_with("_bytes_total")) return "By";
  return "";
}

template <typename Point>
void set_labels(const metrics::FamilySnapshot& family, const metrics::SeriesSnapshot& series, Point* point) {
  for (size_t i = 0; i < family.label_names.size() && i < series.label_values.size(); i++)
    add_attribute(point->mutable_attributes(), family.label_names[i], series.label_values[i]);
}

}  // namespace

void add_attribute(google::protobuf::RepeatedPtrField<proto::common::v1::KeyValue>* attributes,
                   std::string_view key, std::string_view value) {
  thread_local std::string scratch;
  value = valid_utf8(value, &scratch);  // protobuf strings are UTF-8; labels carry what clients sent
  proto::common::v1::KeyValue* kv = attributes->Add();
  kv->set_key(key.data(), key.size());
  kv->mutable_value()->set_string_value(value.data(), value.size());
}

void set_scope(proto::common::v1::InstrumentationScope* scope) { scope->set_name("waggle"); }

void add_metrics(const std::vector<metrics::FamilySnapshot>& families, const HostResource& host, uint64_t start_ns,
                 uint64_t now_ns, proto::collector::metrics::v1::ExportMetricsServiceRequest* request) {
  auto* resource_metrics = request->add_resource_metrics();
  auto* resource = resource_metrics->mutable_resource();
  add_attribute(resource->mutable_attributes(), "service.name", "waggle");
  if (!host.host_name.empty()) add_attribute(resource->mutable_attributes(), "host.name", host.host_name);
  auto* scope_metrics = resource_metrics->add_scope_metrics();
  set_scope(scope_metrics->mutable_scope());
  for (const metrics::FamilySnapshot& family : families) {
    auto* metric = scope_metrics->add_metrics();
    metric->set_name(family.name);
    metric->set_description(family.help);
    metric->set_unit(std::string(unit_of(family.name)));
    for (const metrics::SeriesSnapshot& series : family.series) {
      switch (family.type) {
        case metrics::Type::kCounter: {
          auto* sum = metric->mutable_sum();
          sum->set_is_monotonic(true);
          sum->set_aggregation_temporality(AGGREGATION_TEMPORALITY_CUMULATIVE);
          auto* point = sum->add_data_points();
          set_labels(family, series, point);
          point->set_start_time_unix_nano(start_ns);
          point->set_time_unix_nano(now_ns);
          point->set_as_double(series.value);
          break;
        }
        case metrics::Type::kGauge: {
          auto* point = metric->mutable_gauge()->add_data_points();
          set_labels(family, series, point);
          point->set_time_unix_nano(now_ns);
          point->set_as_double(series.value);
          break;
        }
        case metrics::Type::kHistogram: {
          auto* histogram = metric->mutable_histogram();
          histogram->set_aggregation_temporality(AGGREGATION_TEMPORALITY_CUMULATIVE);
          auto* point = histogram->add_data_points();
          set_labels(family, series, point);
          point->set_start_time_unix_nano(start_ns);
          point->set_time_unix_nano(now_ns);
          point->set_count(std::accumulate(series.buckets.begin(), series.buckets.end(), uint64_t{0}));
          point->set_sum(series.sum);
          for (uint64_t n : series.buckets) point->add_bucket_counts(n);
          for (double bound : family.bounds) point->add_explicit_bounds(bound);
          break;
        }
      }
    }
  }
}

}  // namespace waggle::otlp
