// OTLP over gRPC: the same encoded requests, sent as the unary Export call of the collector's
// TraceService, MetricsService or LogsService (grpc++'s generic stub: the bytes are sent as
// they are, no second encoding). Used by OtlpClient when otlp.protocol is grpc.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "export/otlp/otlp_client.hpp"

namespace waggle::otlp {

class GrpcTransport {
 public:
  // Reads the TLS files (PEM); fails with *error set when one cannot be read.
  static std::unique_ptr<GrpcTransport> create(const OtlpConfig& config, std::string* error);
  ~GrpcTransport();

  // `signal`: "traces", "metrics" or "logs". Worth retrying (OTLP's list): CANCELLED,
  // DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED, OUT_OF_RANGE, UNAVAILABLE, DATA_LOSS.
  PostResult post(std::string_view signal, const std::string& body);
  // From another thread: cancels a call in flight.
  void stop();

 private:
  struct Impl;
  explicit GrpcTransport(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace waggle::otlp
