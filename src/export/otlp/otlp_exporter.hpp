// Sends what the agent sees to an OpenTelemetry collector over OTLP/HTTP (docs/otlp.md), from
// a thread of its own: the event loop only copies an event into a bounded queue.
//
// - Spans: every http.request event written out (sensors.network.http_events samples them).
// - Metrics: a snapshot of the registry every metrics_interval, and one at stop.
// - Logs (optional): every event's JSON line.
// Batches of at most batch_size leave when full or batch_timeout after their first item.
// A request that fails in a way worth retrying (no answer, 429, 502, 503, 504) is tried again
// after 0.5 s, 1 s, 2 s, ... (at most max_backoff, or the collector's Retry-After) and keeps
// its place: nothing queued is lost while the collector is down. What does not fit in
// queue_size (spans and log records each) is dropped and counted, as are batches the
// collector rejects; a metrics snapshot that cannot be sent is skipped (the next one carries
// the same cumulative values).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <google/protobuf/message.h>

#include "config/config.hpp"
#include "core/events.hpp"
#include "export/metrics_registry.hpp"
#include "export/otlp/otlp_client.hpp"
#include "export/otlp/otlp_spans.hpp"

namespace waggle::otlp {

class OtlpExporter {
 public:
  // `registry`: the metrics to export (when config.metrics), and where the exporter's own
  // counters go (waggle_otlp_*); may be null. Fails (null, *error set) when the TLS files
  // cannot be read.
  static std::unique_ptr<OtlpExporter> start(const OtlpConfig& config, metrics::Registry* registry,
                                             const std::string& host_name, std::string* error);
  ~OtlpExporter();  // stop(0) if not stopped

  // From the event loop: queues what the event gives (a span for an http.request written out).
  void on_event(const Event& event);
  // Queues an event's JSON line as a log record (when config.logs).
  void on_line(std::string_view json_line);

  // Sends what is queued, and the metrics once more, for at most `grace_s`; what is left is
  // dropped (counted, reason "shutdown"). Then the thread ends.
  void stop(double grace_s);

  struct Counts {
    uint64_t sent_spans = 0, sent_logs = 0, sent_metrics = 0;  // metrics: snapshots
    uint64_t dropped_spans = 0, dropped_logs = 0;
    uint64_t failed_requests = 0;
    std::string last_error;
  };
  Counts counts() const;

 private:
  OtlpExporter(const OtlpConfig& config, metrics::Registry* registry, std::string host_name,
               std::unique_ptr<OtlpClient> client);
  template <typename T>
  struct Queue {
    std::deque<T> waiting;                        // mu_
    size_t inflight = 0;                          // mu_: batch.size(), which counts in the bound
    std::chrono::steady_clock::time_point first;  // mu_: when the oldest waiting item came
    std::vector<T> batch;  // the sender's only: taken, not sent yet (kept across retries)
    size_t size() const { return waiting.size() + inflight; }
  };
  // Whether `q` has a batch to send now. mu_ held.
  template <typename T>
  bool due(const Queue<T>& q, std::chrono::steady_clock::time_point now) const;
  // Moves the next batch of `q` into q.batch, unless one is there still.
  template <typename T>
  void take_batch(Queue<T>& q);
  // The batch of `q` was sent (or dropped): returns true.
  template <typename T>
  bool batch_done(Queue<T>& q);
  void run();
  // One request for `signal`; on success or for good, the batch is done. Returns false when it
  // must be tried again later. mu_ not held.
  bool send(std::string_view signal, const std::string& body, size_t items);
  bool send_spans();
  bool send_logs();
  bool send_metrics();
  const std::string& encode(const google::protobuf::Message& message);  // into body_
  // The spans' request, already in protobuf's wire format: turned into JSON if need be.
  const std::string& encode_traces();
  void drop(std::string_view signal, std::string_view reason, uint64_t n);
  uint64_t now_unix_ns() const;

  const OtlpConfig config_;
  metrics::Registry* registry_;
  HostResource host_;
  SpanEncoder spans_encoder_;
  std::unique_ptr<OtlpClient> client_;
  // The sender's: the encoded request, reused batch after batch.
  std::string body_;
  uint64_t start_ns_;

  mutable std::mutex mu_;
  std::condition_variable wake_;
  Queue<HttpEvent> spans_;
  Queue<std::string> logs_;
  bool stopping_ = false;
  bool finished_ = false;  // run() is past its loop
  std::condition_variable finished_cv_;
  double retry_after_s_ = 0;  // the last failure's Retry-After
  std::chrono::steady_clock::time_point stop_deadline_;
  Counts counts_;
  std::thread thread_;

  metrics::Counter* sent_ = nullptr;     // waggle_otlp_sent_total{signal}
  metrics::Counter* dropped_ = nullptr;  // waggle_otlp_dropped_total{signal,reason}
  metrics::Counter* failed_ = nullptr;   // waggle_otlp_failed_requests_total{signal}
};

}  // namespace waggle::otlp
