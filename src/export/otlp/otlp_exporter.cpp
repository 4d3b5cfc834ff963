#include "export/otlp/otlp_exporter.hpp"

#include <fmt/format.h>
#include <time.h>

#include <algorithm>

#include "export/otlp/otlp_json.hpp"
#include "export/otlp/otlp_metrics.hpp"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

namespace waggle::otlp {

using clock = std::chrono::steady_clock;

namespace {
clock::duration seconds(double s) { return std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(s)); }
}  // namespace

std::unique_ptr<OtlpExporter> OtlpExporter::start(const OtlpConfig& config, metrics::Registry* registry,
                                                  const std::string& host_name, std::string* error) {
  auto client = OtlpClient::create(config, error);
  if (!client) return nullptr;
  std::unique_ptr<OtlpExporter> exporter(new OtlpExporter(config, registry, host_name, std::move(client)));
  exporter->thread_ = std::thread([e = exporter.get()] { e->run(); });
  return exporter;
}

OtlpExporter::OtlpExporter(const OtlpConfig& config, metrics::Registry* registry, std::string host_name,
                           std::unique_ptr<OtlpClient> client)
    : config_(config),
      registry_(registry),
      host_{std::move(host_name)},
      spans_encoder_(host_),
      client_(std::move(client)) {
  start_ns_ = now_unix_ns();
  if (!registry_) return;
  sent_ = registry_->counter("waggle_otlp_sent_total",
                             "Items the OTLP collector accepted: spans, log records, metric snapshots", {"signal"});
  dropped_ = registry_->counter("waggle_otlp_dropped_total",
                                "Items not sent: queue_full, rejected (by the collector), shutdown (left at stop)",
                                {"signal", "reason"});
  failed_ = registry_->counter("waggle_otlp_failed_requests_total",
                               "OTLP requests that failed (those worth it are tried again)", {"signal"});
}

OtlpExporter::~OtlpExporter() { stop(0); }

uint64_t OtlpExporter::now_unix_ns() const {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return uint64_t(ts.tv_sec) * 1'000'000'000 + uint64_t(ts.tv_nsec);
}

void OtlpExporter::on_event(const Event& event) {
  if (!config_.traces) return;
  const auto* http = std::get_if<HttpEvent>(&event);
  if (!http || http->metrics_only) return;
  std::lock_guard lock(mu_);
  if (spans_.size() >= config_.queue_size) {
    counts_.dropped_spans++;
    if (dropped_) dropped_->add({"traces", "queue_full"});
    return;
  }
  if (spans_.waiting.empty()) spans_.first = clock::now();
  spans_.waiting.push_back(*http);
  if (spans_.waiting.size() == 1 || spans_.waiting.size() == config_.batch_size) wake_.notify_one();
}

void OtlpExporter::on_line(std::string_view json_line) {
  if (!config_.logs) return;
  if (json_line.ends_with('\n')) json_line.remove_suffix(1);
  std::lock_guard lock(mu_);
  if (logs_.size() >= config_.queue_size) {
    counts_.dropped_logs++;
    if (dropped_) dropped_->add({"logs", "queue_full"});
    return;
  }
  if (logs_.waiting.empty()) logs_.first = clock::now();
  logs_.waiting.emplace_back(json_line);
  if (logs_.waiting.size() == 1 || logs_.waiting.size() == config_.batch_size) wake_.notify_one();
}

void OtlpExporter::stop(double grace_s) {
  std::unique_lock lock(mu_);
  if (!thread_.joinable()) return;
  stopping_ = true;
  stop_deadline_ = clock::now() + seconds(grace_s);
  wake_.notify_one();
  // A request still in flight at the deadline is cut short (its batch is then dropped, as
  // what is left at stop): stopping takes the grace, not a request's timeout on top.
  bool finished = finished_cv_.wait_until(lock, stop_deadline_ + std::chrono::milliseconds(100), [&] { return finished_; });
  lock.unlock();
  if (!finished) client_->stop();
  thread_.join();
}

OtlpExporter::Counts OtlpExporter::counts() const {
  std::lock_guard lock(mu_);
  return counts_;
}

void OtlpExporter::drop(std::string_view signal, std::string_view reason, uint64_t n) {
  if (n == 0) return;
  {
    std::lock_guard lock(mu_);
    (signal == "traces" ? counts_.dropped_spans : counts_.dropped_logs) += n;
  }
  if (dropped_) dropped_->add({signal, reason}, double(n));
}

template <typename T>
bool OtlpExporter::due(const Queue<T>& q, clock::time_point now) const {
  if (q.inflight > 0) return true;  // a batch to try again
  if (q.waiting.empty()) return false;
  return stopping_ || q.waiting.size() >= config_.batch_size || now - q.first >= seconds(config_.batch_timeout_s);
}

template <typename T>
void OtlpExporter::take_batch(Queue<T>& q) {
  std::lock_guard lock(mu_);
  if (!q.batch.empty()) return;
  size_t n = std::min<size_t>(q.waiting.size(), config_.batch_size);
  q.batch.assign(std::make_move_iterator(q.waiting.begin()), std::make_move_iterator(q.waiting.begin() + long(n)));
  q.waiting.erase(q.waiting.begin(), q.waiting.begin() + long(n));
  q.inflight = n;
  q.first = clock::now();  // the rest waits at most one more timeout
}

template <typename T>
bool OtlpExporter::batch_done(Queue<T>& q) {
  q.batch.clear();
  std::lock_guard lock(mu_);
  q.inflight = 0;
  return true;
}

const std::string& OtlpExporter::encode_traces() {
  spans_encoder_.encode(spans_.batch, &body_);
  if (config_.protocol != OtlpProtocol::kHttpJson) return body_;
  proto::collector::trace::v1::ExportTraceServiceRequest request;
  if (!request.ParseFromString(body_)) {  // cannot happen: the encoder writes valid messages
    fmt::print(stderr, "waggle: otlp: spans do not parse back for JSON\n");
    body_.clear();
    return body_;
  }
  return encode(request);
}

const std::string& OtlpExporter::encode(const google::protobuf::Message& message) {
  std::string error;
  body_.clear();  // its capacity stays, for the next batch
  if (config_.protocol != OtlpProtocol::kHttpJson)
    message.SerializeToString(&body_);
  else if (!to_otlp_json(message, &body_, &error))
    fmt::print(stderr, "waggle: otlp: cannot encode JSON: {}\n", error);
  return body_;
}

bool OtlpExporter::send(std::string_view signal, const std::string& body, size_t items) {
  PostResult result = client_->post(signal, body);
  if (result.ok) {
    if (sent_) sent_->add({signal}, double(items));
    std::lock_guard lock(mu_);
    if (!counts_.last_error.empty()) fmt::print(stderr, "waggle: otlp: sending again\n");
    counts_.last_error.clear();
    (signal == "traces" ? counts_.sent_spans : signal == "logs" ? counts_.sent_logs : counts_.sent_metrics) += items;
    return true;
  }
  if (failed_) failed_->add({signal});
  {
    std::lock_guard lock(mu_);
    counts_.failed_requests++;
    if (counts_.last_error != result.error)
      fmt::print(stderr, "waggle: otlp: {}{}\n", result.error, result.retryable ? " (trying again)" : " (dropped)");
    counts_.last_error = result.error;
    retry_after_s_ = result.retry_after_s;
  }
  if (!result.retryable && signal != "metrics") drop(signal, "rejected", items);
  return !result.retryable;
}

bool OtlpExporter::send_spans() {
  take_batch(spans_);
  return send("traces", encode_traces(), spans_.batch.size()) && batch_done(spans_);
}

bool OtlpExporter::send_logs() {
  take_batch(logs_);
  proto::collector::logs::v1::ExportLogsServiceRequest request;
  auto* resource_logs = request.add_resource_logs();
  add_attribute(resource_logs->mutable_resource()->mutable_attributes(), "service.name", "waggle");
  if (!host_.host_name.empty())
    add_attribute(resource_logs->mutable_resource()->mutable_attributes(), "host.name", host_.host_name);
  auto* scope_logs = resource_logs->add_scope_logs();
  set_scope(scope_logs->mutable_scope());
  uint64_t now = now_unix_ns();
  for (const std::string& line : logs_.batch) {
    auto* record = scope_logs->add_log_records();
    record->set_observed_time_unix_nano(now);
    record->mutable_body()->set_string_value(line);
  }
  return send("logs", encode(request), logs_.batch.size()) && batch_done(logs_);
}

bool OtlpExporter::send_metrics() {
  proto::collector::metrics::v1::ExportMetricsServiceRequest request;
  add_metrics(registry_->collect(), host_, start_ns_, now_unix_ns(), &request);
  return send("metrics", encode(request), 1);
}

void OtlpExporter::run() {
  const bool metrics_on = config_.metrics && registry_ != nullptr;
  auto next_metrics = clock::now() + seconds(config_.metrics_interval_s);
  bool final_metrics_sent = !metrics_on;
  double backoff_s = 0;
  clock::time_point retry_at{};
  std::unique_lock lock(mu_);
  while (true) {
    auto now = clock::now();
    bool spans_due = due(spans_, now), logs_due = due(logs_, now);
    bool metrics_due = metrics_on && (now >= next_metrics || (stopping_ && !final_metrics_sent));
    if (stopping_ && (now >= stop_deadline_ || (!spans_due && !logs_due && final_metrics_sent))) break;
    if (now >= retry_at && (spans_due || logs_due || metrics_due)) {
      const bool stopping = stopping_;
      lock.unlock();
      bool ok = true;
      if (spans_due) ok = send_spans();
      if (ok && logs_due) ok = send_logs();
      if (ok && metrics_due) {
        ok = send_metrics();  // skipped when it fails: the next one carries the same totals
        next_metrics = now + seconds(config_.metrics_interval_s);
        if (stopping) final_metrics_sent = true;
      }
      lock.lock();
      if (ok) {
        backoff_s = 0;
      } else {
        backoff_s = std::min(config_.max_backoff_s, backoff_s == 0 ? 0.5 : backoff_s * 2);
        retry_at = clock::now() + seconds(std::max(backoff_s, std::min(retry_after_s_, config_.max_backoff_s)));
      }
      continue;
    }
    // Sleep until something can be due.
    auto until = now + std::chrono::hours(1);
    if (metrics_on) until = std::min(until, next_metrics);
    if (!spans_.waiting.empty()) until = std::min(until, spans_.first + seconds(config_.batch_timeout_s));
    if (!logs_.waiting.empty()) until = std::min(until, logs_.first + seconds(config_.batch_timeout_s));
    if (now < retry_at) until = retry_at;  // nothing is sent before
    if (stopping_) until = std::min(until, stop_deadline_);
    wake_.wait_until(lock, until);
  }
  size_t left_spans = spans_.size(), left_logs = logs_.size();
  spans_.waiting.clear();
  logs_.waiting.clear();
  finished_ = true;
  finished_cv_.notify_all();
  lock.unlock();
  drop("traces", "shutdown", left_spans);
  drop("logs", "shutdown", left_logs);
}

}  // namespace waggle::otlp
