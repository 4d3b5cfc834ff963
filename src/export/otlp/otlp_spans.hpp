// HTTP exchanges as OTLP spans, with OpenTelemetry's HTTP semantic conventions: one server or
// client span per http.request, in the trace its request's traceparent names (else a new one).
// Encoded straight into protobuf's wire format (otlp_wire.hpp): once warm, a batch allocates
// nothing.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/events.hpp"

namespace waggle::otlp {

// Attributes every resource of this agent carries (host.name, ...).
struct HostResource {
  std::string host_name;
};

class SpanEncoder {
 public:
  // `seed` for the span and trace ids (random: from std::random_device).
  explicit SpanEncoder(HostResource host, uint64_t seed = std::random_device{}());

  // An ExportTraceServiceRequest holding the spans of `events` (http.request events written
  // out), into *out (replaced). Each process is one resource (service.name, process.pid, ...).
  void encode(const std::vector<HttpEvent>& events, std::string* out);

 private:
  void span(const HttpEvent& e, std::string& out);
  void resource(const ProcessRef& process, std::string& out);
  void random_id(char* out, size_t n);  // never all zeros

  HostResource host_;
  std::mt19937_64 rng_;
  // Reused from batch to batch: one buffer of spans per process, and scratch.
  std::unordered_map<const ProcessInfo*, size_t> group_of_;
  std::vector<std::pair<ProcessRef, std::string>> groups_;
  std::string span_, resource_, scope_;
};

}  // namespace waggle::otlp
