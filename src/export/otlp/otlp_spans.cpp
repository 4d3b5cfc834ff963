#include "export/otlp/otlp_spans.hpp"

#include <map>

namespace waggle::otlp {
namespace {

using proto::common::v1::KeyValue;
using proto::trace::v1::Span;
using Attributes = google::protobuf::RepeatedPtrField<KeyValue>;

std::string random_bytes(std::mt19937_64& rng, size_t n) {
  std::string out;
  while (out.empty() || out.find_first_not_of('\0') == std::string::npos) {
    out.clear();
    while (out.size() < n) {
      uint64_t r = rng();
      out.append(reinterpret_cast<const char*>(&r), std::min(n - out.size(), sizeof(r)));
    }
  }
  return out;
}

std::string bytes_of(const auto& array) { return std::string(reinterpret_cast<const char*>(array.data()), array.size()); }

void fill_span(const HttpEvent& e, IdSource& ids, Span* span) {
  // A server span joins the caller's trace as its child; a client span is the span the
  // traceparent it sent names (the caller's id for this request).
  if (e.trace) {
    span->set_trace_id(bytes_of(e.trace->trace_id));
    if (e.server) {
      span->set_span_id(ids.span_id());
      span->set_parent_span_id(bytes_of(e.trace->parent_id));
    } else {
      span->set_span_id(bytes_of(e.trace->parent_id));
    }
  } else {
    span->set_trace_id(ids.trace_id());
    span->set_span_id(ids.span_id());
  }
  bool known_method = e.method != "_OTHER";
  if (e.server)
    span->set_name(known_method ? e.method + " " + e.route : "HTTP " + e.route);
  else
    span->set_name(known_method ? e.method : "HTTP");
  span->set_kind(e.server ? Span::SPAN_KIND_SERVER : Span::SPAN_KIND_CLIENT);
  span->set_start_time_unix_nano(e.time_ns - std::min(e.duration_ns, e.time_ns));
  span->set_end_time_unix_nano(e.time_ns);
  if (e.status >= 500 || (!e.server && e.status >= 400))
    span->mutable_status()->set_code(proto::trace::v1::Status::STATUS_CODE_ERROR);

  Attributes* a = span->mutable_attributes();
  add_attribute(a, "http.request.method", e.method);
  add_attribute(a, "http.response.status_code", int64_t(e.status));
  const Endpoint& server = e.server ? e.local : e.remote;
  if (e.server) {
    size_t query = e.target.find('?');
    add_attribute(a, "url.path", std::string_view(e.target).substr(0, query));
    if (query != std::string::npos) add_attribute(a, "url.query", std::string_view(e.target).substr(query + 1));
    add_attribute(a, "url.scheme", "http");
    add_attribute(a, "http.route", e.route);
    add_attribute(a, "client.address", e.remote.address);
    add_attribute(a, "client.port", int64_t(e.remote.port));
  } else {
    bool v6 = server.address.find(':') != std::string::npos;
    add_attribute(a, "url.full", "http://" + (v6 ? "[" + server.address + "]" : server.address) + ":" +
                                     std::to_string(server.port) + e.target);
  }
  add_attribute(a, "server.address", server.address);
  add_attribute(a, "server.port", int64_t(server.port));
  add_attribute(a, "network.peer.address", e.remote.address);
  add_attribute(a, "network.peer.port", int64_t(e.remote.port));
  add_attribute(a, "network.transport", "tcp");
  add_attribute(a, "network.protocol.name", "http");
  add_attribute(a, "http.request.size", int64_t(e.request_bytes));
  add_attribute(a, "http.response.size", int64_t(e.response_bytes));
}

}  // namespace

std::string IdSource::span_id() { return random_bytes(rng_, 8); }
std::string IdSource::trace_id() { return random_bytes(rng_, 16); }

void add_attribute(Attributes* attributes, std::string_view key, std::string_view value) {
  KeyValue* kv = attributes->Add();
  kv->set_key(std::string(key));
  kv->mutable_value()->set_string_value(std::string(value));
}

void add_attribute(Attributes* attributes, std::string_view key, int64_t value) {
  KeyValue* kv = attributes->Add();
  kv->set_key(std::string(key));
  kv->mutable_value()->set_int_value(value);
}

void set_scope(proto::common::v1::InstrumentationScope* scope) {
  scope->set_name("waggle");
}

void set_process_resource(const ProcessRef& process, const HostResource& host, proto::resource::v1::Resource* out) {
  Attributes* a = out->mutable_attributes();
  add_attribute(a, "service.name", service_name_view(process));
  if (!host.host_name.empty()) add_attribute(a, "host.name", host.host_name);
  if (!process) return;
  add_attribute(a, "process.pid", int64_t(process->pid));
  if (!process->binary.empty()) add_attribute(a, "process.executable.path", process->binary);
  if (!process->comm.empty()) add_attribute(a, "process.executable.name", process->comm);
  if (!process->container_id.empty()) add_attribute(a, "container.id", process->container_id);
}

void add_spans(const std::vector<HttpEvent>& events, const HostResource& host, IdSource& ids,
               proto::collector::trace::v1::ExportTraceServiceRequest* request) {
  std::map<const ProcessInfo*, proto::trace::v1::ScopeSpans*> by_process;
  for (const HttpEvent& e : events) {
    auto& scope_spans = by_process[e.process.get()];
    if (!scope_spans) {
      auto* resource_spans = request->add_resource_spans();
      set_process_resource(e.process, host, resource_spans->mutable_resource());
      scope_spans = resource_spans->add_scope_spans();
      set_scope(scope_spans->mutable_scope());
    }
    fill_span(e, ids, scope_spans->add_spans());
  }
}

}  // namespace waggle::otlp
