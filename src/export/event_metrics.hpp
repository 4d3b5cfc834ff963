// Metrics derived from events, named after OpenTelemetry's semantic conventions: HTTP request
// durations for servers and clients, TCP connections and bytes, DNS queries. Knows events,
// never sensors.
#pragma once

#include "core/events.hpp"
#include "export/metrics_registry.hpp"

namespace waggle {

class EventMetrics {
 public:
  // Registers its families in `registry`, which must outlive this.
  explicit EventMetrics(metrics::Registry& registry);
  void on_event(const Event& event);

 private:
  void on(const HttpEvent& e);
  void on(const TcpEvent& e);
  void on(const DnsEvent& e);
  template <typename T>
  void on(const T&) {}

  metrics::Counter* events_;
  metrics::Histogram* http_server_;
  metrics::Histogram* http_client_;
  metrics::Counter* tcp_connections_;
  metrics::Counter* tcp_sent_;
  metrics::Counter* tcp_received_;
  metrics::Counter* tcp_retransmits_;
  metrics::Counter* dns_queries_;
  metrics::Histogram* dns_latency_;
};

}  // namespace waggle
