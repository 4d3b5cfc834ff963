// HTTP exchanges as OTLP spans, with OpenTelemetry's HTTP semantic conventions: one server or
// client span per http.request, in the trace its request's traceparent names (else a new one).
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "core/events.hpp"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

namespace waggle::otlp {

namespace proto = opentelemetry::proto;

// Attributes every resource of this agent carries (host.name, ...).
struct HostResource {
  std::string host_name;
};

// Span and trace ids: random, never all zeros.
class IdSource {
 public:
  IdSource() : rng_(std::random_device{}()) {}
  explicit IdSource(uint64_t seed) : rng_(seed) {}
  std::string span_id();   // 8 bytes
  std::string trace_id();  // 16 bytes

 private:
  std::mt19937_64 rng_;
};

// The spans of `events` (http.request events written out), grouped by process: each process is
// one resource (service.name, process.pid, ...).
void add_spans(const std::vector<HttpEvent>& events, const HostResource& host, IdSource& ids,
               proto::collector::trace::v1::ExportTraceServiceRequest* request);

// The attributes of a process as an OTLP resource.
void set_process_resource(const ProcessRef& process, const HostResource& host, proto::resource::v1::Resource* out);

// An attribute appended to a list of them.
void add_attribute(google::protobuf::RepeatedPtrField<proto::common::v1::KeyValue>* attributes,
                   std::string_view key, std::string_view value);
void add_attribute(google::protobuf::RepeatedPtrField<proto::common::v1::KeyValue>* attributes,
                   std::string_view key, int64_t value);

// The instrumentation scope waggle's data is sent under.
void set_scope(proto::common::v1::InstrumentationScope* scope);

}  // namespace waggle::otlp
