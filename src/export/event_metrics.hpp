// Metrics derived from events, named after OpenTelemetry's semantic conventions: HTTP request
// durations for servers and clients, TCP connections and bytes, DNS queries. Knows events,
// never sensors.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <variant>

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
  metrics::HistogramSeries& http_series(const HttpEvent& e, std::string_view service);

  // The series of recent HTTP label values, so that an exchange like an earlier one (the same
  // service, route, method, status and, for a client, server) is counted without building its
  // labels or looking them up: a direct-mapped cache, a slot replaced by the next key hashed to it.
  struct HttpKey {
    bool server = false;
    int status = 0;
    uint16_t port = 0;
    std::string service, route, method, address;
  };
  struct HttpSlot {
    bool used = false;
    HttpKey key;
    metrics::HistogramSeries series;
  };
  static constexpr size_t kHttpSlots = 1024;
  std::unique_ptr<std::array<HttpSlot, kHttpSlots>> http_slots_ = std::make_unique<std::array<HttpSlot, kHttpSlots>>();
  // waggle_events_total's series of each event type, looked up at the type's first event.
  std::array<metrics::CounterSeries, std::variant_size_v<Event>> event_series_;
  std::array<bool, std::variant_size_v<Event>> event_series_found_{};

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
