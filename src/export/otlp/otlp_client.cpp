#include "export/otlp/otlp_client.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <httplib.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>

#include "export/otlp/otlp_grpc.hpp"

namespace waggle::otlp {
namespace {

std::string check_readable(std::string_view what, const std::string& path) {
  if (path.empty()) return {};
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fmt::format("otlp.tls.{}: cannot read {}: {}", what, path, strerror(errno));
  ::close(fd);
  return {};
}

void set_seconds(double s, auto setter) {
  double whole = std::floor(s);
  setter(time_t(whole), time_t((s - whole) * 1e6));
}

}  // namespace

std::unique_ptr<OtlpClient> OtlpClient::create(const OtlpConfig& config, std::string* error) {
  for (auto [what, path] : {std::pair{"ca_file", &config.ca_file}, std::pair{"cert_file", &config.cert_file},
                            std::pair{"key_file", &config.key_file}}) {
    *error = check_readable(what, *path);
    if (!error->empty()) return nullptr;
  }
  auto client = std::unique_ptr<OtlpClient>(new OtlpClient(config));
  if (config.protocol == OtlpProtocol::kGrpc) {
    client->grpc_ = GrpcTransport::create(config, error);
    if (!client->grpc_) return nullptr;
  }
  return client;
}

OtlpClient::OtlpClient(const OtlpConfig& config) : config_(config) {
  http_ = config.cert_file.empty() ? std::make_unique<httplib::Client>(config.origin)
                                   : std::make_unique<httplib::Client>(config.origin, config.cert_file, config.key_file);
  set_seconds(config.timeout_s, [this](time_t s, time_t us) { http_->set_connection_timeout(s, us); });
  set_seconds(config.timeout_s, [this](time_t s, time_t us) { http_->set_read_timeout(s, us); });
  set_seconds(config.timeout_s, [this](time_t s, time_t us) { http_->set_write_timeout(s, us); });
  http_->set_keep_alive(true);
  if (!config.ca_file.empty()) http_->set_ca_cert_path(config.ca_file.c_str());
  http_->enable_server_certificate_verification(!config.insecure_skip_verify);
}

OtlpClient::~OtlpClient() = default;

void OtlpClient::stop() {
  if (grpc_) grpc_->stop();
  http_->stop();
}

PostResult OtlpClient::post(std::string_view signal, const std::string& body) {
  if (grpc_) return grpc_->post(signal, body);
  httplib::Headers headers;
  for (const auto& [name, value] : config_.headers) headers.emplace(name, value);
  bool json = config_.protocol == OtlpProtocol::kHttpJson;
  std::string path = fmt::format("{}/v1/{}", config_.path, signal);
  auto res = http_->Post(path.c_str(), headers, body, json ? "application/json" : "application/x-protobuf");
  PostResult result;
  if (!res) {
    result.retryable = true;
    result.error = fmt::format("{}{}: {}", config_.origin, path, httplib::to_string(res.error()));
    return result;
  }
  if (res->status >= 200 && res->status < 300) {
    result.ok = true;
    return result;
  }
  int s = res->status;
  result.retryable = s == 429 || s == 502 || s == 503 || s == 504;
  if (result.retryable && res->has_header("Retry-After")) {
    const std::string value = res->get_header_value("Retry-After");
    char* end = nullptr;
    double seconds = std::strtod(value.c_str(), &end);
    if (end && *end == '\0' && seconds > 0) result.retry_after_s = seconds;
  }
  result.error = fmt::format("{}{}: HTTP {}", config_.origin, path, s);
  return result;
}

}  // namespace waggle::otlp
