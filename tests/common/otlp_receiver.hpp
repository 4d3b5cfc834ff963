// An OTLP/HTTP receiver for tests, made from the OTLP .proto definitions: it listens on
// 127.0.0.1, decodes every request (protobuf or JSON) and keeps it. It can answer the next
// requests with an error to exercise the exporter's retries.
#pragma once

#include <grpcpp/grpcpp.h>
#include <httplib.h>

#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

namespace waggle::test {

namespace otlp_proto = opentelemetry::proto;

// A span with its resource's attributes, flattened for checks.
struct ReceivedSpan {
  otlp_proto::trace::v1::Span span;
  std::map<std::string, std::string> resource;  // string (and int, as text) attributes
  std::string attribute(const std::string& key) const;  // "" when missing; ints as text
};

class OtlpReceiver {
 public:
  // Listens on 127.0.0.1:port (0: any free port).
  explicit OtlpReceiver(int port = 0);
  // The same over TLS with this certificate and key; with `client_ca`, clients must present a
  // certificate it signed.
  struct Tls {
    std::string cert_file, key_file, client_ca;
  };
  OtlpReceiver(const Tls& tls, int port = 0);
  // The same over gRPC (plaintext): the collector services' Export calls.
  struct Grpc {};
  explicit OtlpReceiver(Grpc, int port = 0);
  ~OtlpReceiver();
  int port() const { return port_; }

  // The next `n` requests are answered `status` (and Retry-After: retry_after, if given).
  void fail_next(int n, int status, const std::string& retry_after = "");

  std::vector<ReceivedSpan> spans() const;
  std::vector<otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest> metrics() const;
  std::vector<otlp_proto::collector::logs::v1::ExportLogsServiceRequest> logs() const;
  std::vector<std::string> content_types() const;  // of every request, failed ones too
  std::vector<std::string> header_values(const std::string& name) const;
  size_t requests() const;  // answered 2xx
  size_t failed() const;    // answered with fail_next's status

  // Polls `done` (every 50 ms) for up to timeout_s; returns its last value.
  static bool wait_for(const std::function<bool()>& done, double timeout_s);

 private:
  void handle(const std::string& signal, const httplib::Request& req, httplib::Response& res);
  void start(int port);
  // Keeps one request of `signal` (protobuf, or JSON): the HTTP status to answer.
  int store(const std::string& signal, const std::string& body, bool json, const httplib::Headers& headers,
            const std::string& content_type, std::string* retry_after);
  friend class GrpcReceiverService;

  std::unique_ptr<httplib::Server> server_;
  std::unique_ptr<grpc::CallbackGenericService> grpc_service_;
  std::unique_ptr<grpc::Server> grpc_server_;
  std::thread thread_;
  int port_ = 0;
  mutable std::mutex mu_;
  std::vector<otlp_proto::collector::trace::v1::ExportTraceServiceRequest> traces_;
  std::vector<otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest> metrics_;
  std::vector<otlp_proto::collector::logs::v1::ExportLogsServiceRequest> logs_;
  std::vector<std::string> content_types_;
  std::vector<httplib::Headers> headers_;
  int fail_next_ = 0, fail_status_ = 0;
  std::string retry_after_;
  size_t ok_ = 0, failed_ = 0;
};

// The value of metric `name`'s data point whose attributes include `labels` in the last
// request that has it (sums and gauges; histograms: their count). -1 when there is none.
double otlp_metric_value(const std::vector<otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest>& requests,
                         const std::string& name, const std::map<std::string, std::string>& labels = {});

}  // namespace waggle::test
