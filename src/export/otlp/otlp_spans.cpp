#include "export/otlp/otlp_spans.hpp"

#include <algorithm>

#include "export/otlp/otlp_wire.hpp"

namespace waggle::otlp {
namespace {

using namespace wire;

// Field numbers of the OTLP messages written here (opentelemetry/proto/trace/v1/trace.proto,
// resource/v1/resource.proto, common/v1/common.proto, collector/trace/v1/trace_service.proto).
enum : uint32_t {
  kRequestResourceSpans = 1,
  kResourceSpansResource = 1,
  kResourceSpansScopeSpans = 2,
  kResourceAttributes = 1,
  kScopeSpansScope = 1,
  kScopeSpansSpans = 2,
  kScopeName = 1,
  kSpanTraceId = 1,
  kSpanSpanId = 2,
  kSpanParentSpanId = 4,
  kSpanName = 5,
  kSpanKind = 6,
  kSpanStart = 7,
  kSpanEnd = 8,
  kSpanAttributes = 9,
  kSpanStatus = 15,
  kStatusCode = 3,
};
enum : uint64_t { kKindServer = 2, kKindClient = 3, kStatusError = 2 };

std::string_view bytes_of(const auto& array) {
  return std::string_view(reinterpret_cast<const char*>(array.data()), array.size());
}

void length_prefixed(std::string& out, uint32_t field, const std::string& body) { bytes_field(out, field, body); }

}  // namespace

SpanEncoder::SpanEncoder(HostResource host, uint64_t seed) : host_(std::move(host)), rng_(seed) {}

void SpanEncoder::random_id(char* out, size_t n) {
  bool zero = true;
  while (zero) {
    for (size_t i = 0; i < n; i += 8) {
      uint64_t r = rng_();
      std::copy_n(reinterpret_cast<const char*>(&r), std::min<size_t>(8, n - i), out + i);
    }
    zero = std::all_of(out, out + n, [](char c) { return c == 0; });
  }
}

void SpanEncoder::span(const HttpEvent& e, std::string& out) {
  char trace_id[16], span_id[8];
  // With a traceparent, both ends join its trace as children of the span it names: the
  // caller's (an instrumented client exports that span itself; reusing its id would make two
  // spans of one id).
  if (e.trace) {
    random_id(span_id, sizeof(span_id));
    bytes_field(out, kSpanTraceId, bytes_of(e.trace->trace_id));
    bytes_field(out, kSpanSpanId, std::string_view(span_id, sizeof(span_id)));
    bytes_field(out, kSpanParentSpanId, bytes_of(e.trace->parent_id));
  } else {
    random_id(trace_id, sizeof(trace_id));
    random_id(span_id, sizeof(span_id));
    bytes_field(out, kSpanTraceId, std::string_view(trace_id, sizeof(trace_id)));
    bytes_field(out, kSpanSpanId, std::string_view(span_id, sizeof(span_id)));
  }
  bool known_method = e.method != "_OTHER";
  std::string_view method = known_method ? std::string_view(e.method) : "HTTP";
  if (e.server) {
    resource_.assign(method).append(1, ' ').append(e.route);  // scratch: the name
    string_field(out, kSpanName, resource_);
  } else {
    string_field(out, kSpanName, method);
  }
  uint_field(out, kSpanKind, e.server ? kKindServer : kKindClient);
  fixed64_field(out, kSpanStart, e.time_ns - std::min(e.duration_ns, e.time_ns));
  fixed64_field(out, kSpanEnd, e.time_ns);

  constexpr uint32_t a = kSpanAttributes;
  string_attribute(out, a, "http.request.method", e.method);
  int_attribute(out, a, "http.response.status_code", e.status);
  const Endpoint& server = e.server ? e.local : e.remote;
  if (e.server) {
    size_t query = e.target.find('?');
    string_attribute(out, a, "url.path", std::string_view(e.target).substr(0, query));
    if (query != std::string::npos) string_attribute(out, a, "url.query", std::string_view(e.target).substr(query + 1));
    string_attribute(out, a, "url.scheme", "http");
    string_attribute(out, a, "http.route", e.route);
    string_attribute(out, a, "client.address", e.remote.address);
    int_attribute(out, a, "client.port", e.remote.port);
  } else {
    bool v6 = server.address.find(':') != std::string::npos;
    scope_.assign("http://");  // scratch: the URL
    if (v6) scope_.push_back('[');
    scope_.append(server.address);
    if (v6) scope_.push_back(']');
    scope_.append(1, ':').append(std::to_string(server.port)).append(e.target);
    string_attribute(out, a, "url.full", scope_);
  }
  string_attribute(out, a, "server.address", server.address);
  int_attribute(out, a, "server.port", server.port);
  string_attribute(out, a, "network.peer.address", e.remote.address);
  int_attribute(out, a, "network.peer.port", e.remote.port);
  string_attribute(out, a, "network.transport", "tcp");
  string_attribute(out, a, "network.protocol.name", "http");
  int_attribute(out, a, "http.request.size", int64_t(e.request_bytes));
  int_attribute(out, a, "http.response.size", int64_t(e.response_bytes));
  if (e.status >= 500 || (!e.server && e.status >= 400)) {
    tag(out, kSpanStatus, kLength);
    varint(out, 2);
    uint_field(out, kStatusCode, kStatusError);
  }
}

void SpanEncoder::resource(const ProcessRef& process, std::string& out) {
  constexpr uint32_t a = kResourceAttributes;
  string_attribute(out, a, "service.name", service_name_view(process));
  if (!host_.host_name.empty()) string_attribute(out, a, "host.name", host_.host_name);
  if (!process) return;
  int_attribute(out, a, "process.pid", process->pid);
  if (!process->binary.empty()) string_attribute(out, a, "process.executable.path", process->binary);
  if (!process->comm.empty()) string_attribute(out, a, "process.executable.name", process->comm);
  if (!process->container_id.empty()) string_attribute(out, a, "container.id", process->container_id);
}

void SpanEncoder::encode(const std::vector<HttpEvent>& events, std::string* out) {
  group_of_.clear();
  size_t used = 0;
  for (const HttpEvent& e : events) {
    auto [it, fresh] = group_of_.try_emplace(e.process.get(), used);
    if (fresh) {
      if (used == groups_.size()) groups_.emplace_back();
      groups_[used].first = e.process;
      groups_[used].second.clear();
      used++;
    }
    span_.clear();
    span(e, span_);
    length_prefixed(groups_[it->second].second, kScopeSpansSpans, span_);
  }
  out->clear();
  for (size_t g = 0; g < used; g++) {
    auto& [process, spans] = groups_[g];
    resource_.clear();
    resource(process, resource_);
    scope_.clear();
    string_field(scope_, kScopeName, "waggle");
    // ResourceSpans { resource, scope_spans { scope, spans... } }
    size_t scope_spans = 1 + varint_size(scope_.size()) + scope_.size() + spans.size();
    size_t resource_spans = 1 + varint_size(resource_.size()) + resource_.size() + 1 +
                            varint_size(scope_spans) + scope_spans;
    tag(*out, kRequestResourceSpans, kLength);
    varint(*out, resource_spans);
    length_prefixed(*out, kResourceSpansResource, resource_);
    tag(*out, kResourceSpansScopeSpans, kLength);
    varint(*out, scope_spans);
    length_prefixed(*out, kScopeSpansScope, scope_);
    out->append(spans);
    process.reset();  // not kept past the batch
  }
}

}  // namespace waggle::otlp
