#include "otlp_receiver.hpp"

#include <unistd.h>

#include "export/otlp/otlp_json.hpp"

namespace waggle::test {
namespace {

std::string text_of(const otlp_proto::common::v1::AnyValue& v) {
  if (v.has_string_value()) return v.string_value();
  if (v.has_int_value()) return std::to_string(v.int_value());
  if (v.has_bool_value()) return v.bool_value() ? "true" : "false";
  return "?";
}

template <typename Message>
bool decode(const httplib::Request& req, Message* message) {
  if (req.get_header_value("Content-Type") == "application/json") {
    std::string error;
    return otlp::from_otlp_json(req.body, message, &error);
  }
  return message->ParseFromString(req.body);
}

}  // namespace

std::string ReceivedSpan::attribute(const std::string& key) const {
  for (const auto& kv : span.attributes())
    if (kv.key() == key) return text_of(kv.value());
  return "";
}

OtlpReceiver::OtlpReceiver(int port) : server_(std::make_unique<httplib::Server>()) { start(port); }

OtlpReceiver::OtlpReceiver(const Tls& tls, int port)
    : server_(std::make_unique<httplib::SSLServer>(tls.cert_file.c_str(), tls.key_file.c_str(),
                                                   tls.client_ca.empty() ? nullptr : tls.client_ca.c_str())) {
  start(port);
}

void OtlpReceiver::start(int port) {
  for (std::string signal : {"traces", "metrics", "logs"})
    server_->Post("/v1/" + signal, [this, signal](const httplib::Request& req, httplib::Response& res) {
      handle(signal, req, res);
    });
  if (!server_->is_valid()) return;
  port_ = port == 0 ? server_->bind_to_any_port("127.0.0.1") : (server_->bind_to_port("127.0.0.1", port) ? port : -1);
  if (port_ > 0) thread_ = std::thread([this] { server_->listen_after_bind(); });
}

OtlpReceiver::~OtlpReceiver() {
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

void OtlpReceiver::fail_next(int n, int status, const std::string& retry_after) {
  std::lock_guard lock(mu_);
  fail_next_ = n;
  fail_status_ = status;
  retry_after_ = retry_after;
}

void OtlpReceiver::handle(const std::string& signal, const httplib::Request& req, httplib::Response& res) {
  std::lock_guard lock(mu_);
  content_types_.push_back(req.get_header_value("Content-Type"));
  headers_.push_back(req.headers);
  if (fail_next_ > 0) {
    fail_next_--;
    failed_++;
    res.status = fail_status_;
    if (!retry_after_.empty()) res.set_header("Retry-After", retry_after_);
    return;
  }
  bool ok = false;
  if (signal == "traces") ok = decode(req, &traces_.emplace_back());
  if (signal == "metrics") ok = decode(req, &metrics_.emplace_back());
  if (signal == "logs") ok = decode(req, &logs_.emplace_back());
  if (!ok) {
    res.status = 400;
    return;
  }
  ok_++;
  res.set_content("", req.get_header_value("Content-Type"));
}

std::vector<ReceivedSpan> OtlpReceiver::spans() const {
  std::lock_guard lock(mu_);
  std::vector<ReceivedSpan> out;
  for (const auto& request : traces_)
    for (const auto& rs : request.resource_spans()) {
      std::map<std::string, std::string> resource;
      for (const auto& kv : rs.resource().attributes()) resource[kv.key()] = text_of(kv.value());
      for (const auto& ss : rs.scope_spans())
        for (const auto& span : ss.spans()) out.push_back({span, resource});
    }
  return out;
}

std::vector<otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest> OtlpReceiver::metrics() const {
  std::lock_guard lock(mu_);
  return metrics_;
}

std::vector<otlp_proto::collector::logs::v1::ExportLogsServiceRequest> OtlpReceiver::logs() const {
  std::lock_guard lock(mu_);
  return logs_;
}

std::vector<std::string> OtlpReceiver::content_types() const {
  std::lock_guard lock(mu_);
  return content_types_;
}

std::vector<std::string> OtlpReceiver::header_values(const std::string& name) const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& headers : headers_) {
    auto it = headers.find(name);
    out.push_back(it == headers.end() ? "" : it->second);
  }
  return out;
}

size_t OtlpReceiver::requests() const {
  std::lock_guard lock(mu_);
  return ok_;
}

size_t OtlpReceiver::failed() const {
  std::lock_guard lock(mu_);
  return failed_;
}

bool OtlpReceiver::wait_for(const std::function<bool()>& done, double timeout_s) {
  for (int i = 0; i < int(timeout_s * 20); i++) {
    if (done()) return true;
    usleep(50000);
  }
  return done();
}

double otlp_metric_value(const std::vector<otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest>& requests,
                         const std::string& name, const std::map<std::string, std::string>& labels) {
  auto matches = [&](const auto& attributes) {
    for (const auto& [key, value] : labels) {
      bool found = false;
      for (const auto& kv : attributes) found = found || (kv.key() == key && text_of(kv.value()) == value);
      if (!found) return false;
    }
    return true;
  };
  for (auto r = requests.rbegin(); r != requests.rend(); ++r)
    for (const auto& rm : r->resource_metrics())
      for (const auto& sm : rm.scope_metrics())
        for (const auto& m : sm.metrics()) {
          if (m.name() != name) continue;
          for (const auto& p : m.sum().data_points())
            if (matches(p.attributes())) return p.as_double();
          for (const auto& p : m.gauge().data_points())
            if (matches(p.attributes())) return p.as_double();
          for (const auto& p : m.histogram().data_points())
            if (matches(p.attributes())) return double(p.count());
        }
  return -1;
}

}  // namespace waggle::test
