#include "export/event_metrics.hpp"

#include <array>
#include <charconv>
#include <string>
#include <variant>

#include "export/network_names.hpp"

namespace waggle {

namespace {

constexpr std::array<double, 10> kDnsBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1};

// A number as text in `buf`, without an allocation.
template <size_t N>
std::string_view decimal(char (&buf)[N], long value) {
  return {buf, size_t(std::to_chars(buf, buf + N, value).ptr - buf)};
}

// Registration of a fixed, valid family cannot fail; a failure is a bug caught by the tests.
template <typename T>
T* must(T* family) {
  if (!family) abort();
  return family;
}

}  // namespace

EventMetrics::EventMetrics(metrics::Registry& r) {
  const std::vector<std::string> http_labels = {"http_request_method", "http_route",
                                                "http_response_status_code", "service_name",
                                                "process_executable_name"};
  std::vector<std::string> client_labels = http_labels;
  client_labels.push_back("server_address");
  client_labels.push_back("server_port");
  events_ = must(r.counter("waggle_events_total", "Events decoded, by type.", {"type"}));
  http_server_ =
      must(r.histogram("http_server_request_duration_seconds",
                       "Duration of HTTP server requests, first request byte to last response byte.",
                       http_labels, kHttpDurationBounds));
  http_client_ =
      must(r.histogram("http_client_request_duration_seconds",
                       "Duration of HTTP client requests, first request byte to last response byte.",
                       client_labels, kHttpDurationBounds));
  const std::vector<std::string> tcp_labels = {"network_connection_direction", "service_name",
                                               "process_executable_name"};
  tcp_connections_ = must(r.counter(
      "waggle_tcp_connections_total", "TCP connections that ended, by how they ended.",
      {"network_connection_direction", "network_connection_end", "service_name", "process_executable_name"}));
  tcp_sent_ = must(
      r.counter("waggle_tcp_sent_bytes_total", "Data bytes sent on TCP connections that ended.", tcp_labels));
  tcp_received_ = must(r.counter("waggle_tcp_received_bytes_total",
                                 "Data bytes received on TCP connections that ended.", tcp_labels));
  tcp_retransmits_ = must(r.counter("waggle_tcp_retransmits_total",
                                    "Segments retransmitted on TCP connections that ended.", tcp_labels));
  dns_queries_ =
      must(r.counter("waggle_dns_queries_total", "DNS queries, by question type and response code.",
                     {"dns_question_type", "dns_response_code", "service_name", "process_executable_name"}));
  dns_latency_ =
      must(r.histogram("waggle_dns_query_duration_seconds", "Time from a DNS query to its answer.",
                       {"dns_question_type", "service_name", "process_executable_name"}, kDnsBuckets));
}

void EventMetrics::on_event(const Event& event) {
  const size_t type = event.index();
  if (!event_series_found_[type]) {
    std::string_view name = event_type_name(event);
    event_series_[type] = events_->series(metrics::LabelValues(&name, 1));
    event_series_found_[type] = true;
  }
  const auto* http = std::get_if<HttpEvent>(&event);
  event_series_[type].add(http && http->tally ? double(http->tally->count) : 1);
  std::visit([this](const auto& e) { on(e); }, event);
}

metrics::HistogramSeries& EventMetrics::http_series(const HttpEvent& e, std::string_view service) {
  const uint16_t port = e.server ? 0 : e.remote.port;
  std::string_view address = e.server ? std::string_view() : std::string_view(e.remote.address);
  size_t h = std::hash<std::string_view>{}(e.route);
  h ^= (size_t(e.status) << 17) ^ (size_t(port) << 1) ^ size_t(e.server) ^ (service.size() << 40) ^
       (e.method.empty() ? 0 : size_t(uint8_t(e.method[0])) << 48);
  h ^= h >> 29;
  HttpSlot& slot = (*http_slots_)[h % kHttpSlots];
  const HttpKey& k = slot.key;
  if (slot.used && k.server == e.server && k.status == e.status && k.port == port && k.route == e.route &&
      k.method == e.method && k.service == service && k.address == address)
    return slot.series;
  // Without an allocation for the labels: views, and numbers formatted on the stack.
  std::string_view binary = service;  // the executable's name, as OpenTelemetry's process.executable.name
  char status_text[16], port_text[8];
  std::string_view status = decimal(status_text, e.status);
  if (e.server) {
    std::array<std::string_view, 5> labels = {e.method, e.route, status, service, binary};
    slot.series = http_server_->series(labels);
  } else {
    std::array<std::string_view, 7> labels = {e.method, e.route, status, service, binary, address,
                                              decimal(port_text, port)};
    slot.series = http_client_->series(labels);
  }
  slot.used = true;
  slot.key.server = e.server;
  slot.key.status = e.status;
  slot.key.port = port;
  slot.key.service.assign(service);
  slot.key.route.assign(e.route);
  slot.key.method.assign(e.method);
  slot.key.address.assign(address);
  return slot.series;
}

void EventMetrics::on(const HttpEvent& e) {
  const metrics::HistogramSeries& series = http_series(e, service_name_view(e.process));
  if (e.tally)
    series.add(e.tally->buckets, double(e.tally->sum_ns) / 1e9);
  else
    series.observe(double(e.duration_ns) / 1e9);
}

void EventMetrics::on(const TcpEvent& e) {
  std::string service = service_name_of(e.process);
  std::string binary = service;  // the executable's name, as OpenTelemetry's process.executable.name
  std::string_view direction = tcp_direction_name(e.direction);
  tcp_connections_->add({direction, tcp_end_name(e.end), service, binary});
  tcp_sent_->add({direction, service, binary}, double(e.bytes_sent));
  tcp_received_->add({direction, service, binary}, double(e.bytes_received));
  tcp_retransmits_->add({direction, service, binary}, double(e.retransmits));
}

void EventMetrics::on(const DnsEvent& e) {
  std::string service = service_name_of(e.process);
  std::string binary = service;  // the executable's name, as OpenTelemetry's process.executable.name
  dns_queries_->add({e.type, e.rcode.empty() ? "none" : e.rcode, service, binary});
  if (!e.rcode.empty()) dns_latency_->observe({e.type, service, binary}, double(e.latency_ns) / 1e9);
}

}  // namespace waggle
