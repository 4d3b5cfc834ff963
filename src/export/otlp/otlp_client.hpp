// OTLP requests to a collector: over HTTP, one POST per batch to PATH/v1/traces, /v1/metrics
// or /v1/logs; over gRPC, one Export call (otlp_grpc.hpp). With the configured headers and TLS
// options. Blocking; used from one thread (stop() from another).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "config/config.hpp"

namespace httplib {
class Client;
}

namespace waggle::otlp {

class GrpcTransport;

struct PostResult {
  bool ok = false;
  // Worth trying again (OTLP/HTTP: no answer, 429, 502, 503, 504); else the data is rejected.
  bool retryable = false;
  double retry_after_s = 0;  // the collector's Retry-After, if it gave one
  std::string error;         // "503 Service Unavailable", "connection refused", ...
};

class OtlpClient {
 public:
  // Fails (null, *error set) when a TLS file cannot be read.
  static std::unique_ptr<OtlpClient> create(const OtlpConfig& config, std::string* error);
  ~OtlpClient();

  // `signal`: "traces", "metrics" or "logs".
  PostResult post(std::string_view signal, const std::string& body);

  // From another thread: cuts a request in flight short (it fails, worth retrying).
  void stop();

 private:
  explicit OtlpClient(const OtlpConfig& config);
  OtlpConfig config_;
  std::unique_ptr<httplib::Client> http_;  // http/protobuf and http/json
  std::unique_ptr<GrpcTransport> grpc_;    // grpc
};

}  // namespace waggle::otlp
