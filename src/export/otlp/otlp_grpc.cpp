#include "export/otlp/otlp_grpc.hpp"

#include <fmt/format.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <cctype>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <sstream>

namespace waggle::otlp {
namespace {

bool read_pem(const std::string& path, std::string* out, std::string* error, std::string_view what) {
  if (path.empty()) return true;
  std::ifstream in(path);
  if (!in) {
    *error = fmt::format("otlp.tls.{}: cannot read {}", what, path);
    return false;
  }
  std::stringstream s;
  s << in.rdbuf();
  *out = s.str();
  return true;
}

std::string_view method_of(std::string_view signal) {
  if (signal == "traces") return "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
  if (signal == "metrics") return "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";
  return "/opentelemetry.proto.collector.logs.v1.LogsService/Export";
}

bool retryable(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::CANCELLED:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
    case grpc::StatusCode::ABORTED:
    case grpc::StatusCode::OUT_OF_RANGE:
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DATA_LOSS:
      return true;
    default:
      return false;
  }
}

}  // namespace

struct GrpcTransport::Impl {
  OtlpConfig config;
  std::string target;  // host:port
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<grpc::GenericStub> stub;
  std::mutex mu;
  grpc::ClientContext* in_flight = nullptr;  // mu
};

std::unique_ptr<GrpcTransport> GrpcTransport::create(const OtlpConfig& config, std::string* error) {
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  bool tls = config.origin.starts_with("https://");
  impl->target = config.origin.substr(tls ? 8 : 7);
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  if (tls) {
    grpc::SslCredentialsOptions options;
    if (!read_pem(config.ca_file, &options.pem_root_certs, error, "ca_file") ||
        !read_pem(config.cert_file, &options.pem_cert_chain, error, "cert_file") ||
        !read_pem(config.key_file, &options.pem_private_key, error, "key_file"))
      return nullptr;
    credentials = grpc::SslCredentials(options);
  } else {
    credentials = grpc::InsecureChannelCredentials();
  }
  impl->channel = grpc::CreateChannel(impl->target, credentials);
  impl->stub = std::make_unique<grpc::GenericStub>(impl->channel);
  return std::unique_ptr<GrpcTransport>(new GrpcTransport(std::move(impl)));
}

GrpcTransport::GrpcTransport(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
GrpcTransport::~GrpcTransport() = default;

PostResult GrpcTransport::post(std::string_view signal, const std::string& body) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::milliseconds(int64_t(impl_->config.timeout_s * 1000)));
  for (const auto& [name, value] : impl_->config.headers) {
    std::string key = name;
    std::transform(key.begin(), key.end(), key.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    context.AddMetadata(key, value);  // gRPC metadata keys are lowercase
  }
  grpc::Slice slice(body);
  grpc::ByteBuffer request(&slice, 1), response;
  std::mutex done_mu;
  std::condition_variable done_cv;
  bool done = false;
  grpc::Status status;
  {
    std::lock_guard lock(impl_->mu);
    impl_->in_flight = &context;
  }
  impl_->stub->UnaryCall(&context, std::string(method_of(signal)), grpc::StubOptions(), &request, &response,
                         [&](grpc::Status s) {
                           std::lock_guard lock(done_mu);
                           status = std::move(s);
                           done = true;
                           done_cv.notify_one();
                         });
  {
    std::unique_lock lock(done_mu);
    done_cv.wait(lock, [&] { return done; });
  }
  {
    std::lock_guard lock(impl_->mu);
    impl_->in_flight = nullptr;
  }
  PostResult result;
  if (status.ok()) {
    result.ok = true;
    return result;
  }
  result.retryable = retryable(status.error_code());
  result.error = fmt::format("grpc {}{}: status {} {}", impl_->target, method_of(signal), int(status.error_code()),
                             status.error_message());
  return result;
}

void GrpcTransport::stop() {
  std::lock_guard lock(impl_->mu);
  if (impl_->in_flight) impl_->in_flight->TryCancel();
}

}  // namespace waggle::otlp
