#include "otlp_receiver.hpp"

#include <grpcpp/generic/async_generic_service.h>
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
bool decode(const std::string& body, bool json, Message* message) {
  if (json) {
    std::string error;
    return otlp::from_otlp_json(body, message, &error);
  }
  return message->ParseFromString(body);
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

// Each Export call: one request message read, kept, answered with an empty response (or the
// status fail_next asked for).
class GrpcReceiverService : public grpc::CallbackGenericService {
 public:
  explicit GrpcReceiverService(OtlpReceiver* receiver) : receiver_(receiver) {}

  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* ctx) override {
    class Reactor : public grpc::ServerGenericBidiReactor {
     public:
      Reactor(OtlpReceiver* receiver, grpc::GenericCallbackServerContext* ctx) : receiver_(receiver), ctx_(ctx) {
        grpc::Slice empty;  // an Export response with no partial_success: no bytes
        response_ = grpc::ByteBuffer(&empty, 1);
        StartRead(&request_);
      }
      void OnReadDone(bool ok) override {
        if (!ok) return Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no request"));
        std::string method = ctx_->method(), signal;
        for (const char* s : {"trace", "metrics", "logs"})
          if (method.find(std::string(".") + s + ".v1.") != std::string::npos) signal = s;
        if (signal == "trace") signal = "traces";
        std::vector<grpc::Slice> slices;
        request_.Dump(&slices);
        std::string body;
        for (const auto& slice : slices) body.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
        httplib::Headers headers;
        for (const auto& [key, value] : ctx_->client_metadata())
          headers.emplace(std::string(key.data(), key.size()), std::string(value.data(), value.size()));
        std::string retry_after;
        int status = signal.empty() ? 404 : receiver_->store(signal, body, false, headers, "application/grpc", &retry_after);
        if (status == 200) return StartWriteAndFinish(&response_, grpc::WriteOptions(), grpc::Status::OK);
        Finish(grpc::Status(status == 503 ? grpc::StatusCode::UNAVAILABLE : grpc::StatusCode::INVALID_ARGUMENT,
                            "refused"));
      }
      void OnDone() override { delete this; }

     private:
      OtlpReceiver* receiver_;
      grpc::GenericCallbackServerContext* ctx_;
      grpc::ByteBuffer request_, response_;
    };
    return new Reactor(receiver_, ctx);
  }

 private:
  OtlpReceiver* receiver_;
};

OtlpReceiver::OtlpReceiver(Grpc, int port) {
  grpc_service_ = std::make_unique<GrpcReceiverService>(this);
  grpc::ServerBuilder builder;
  int picked = 0;
  builder.AddListeningPort("127.0.0.1:" + std::to_string(port), grpc::InsecureServerCredentials(), &picked);
  builder.RegisterCallbackGenericService(grpc_service_.get());
  grpc_server_ = builder.BuildAndStart();
  port_ = grpc_server_ && picked > 0 ? picked : -1;
}

OtlpReceiver::~OtlpReceiver() {
  if (grpc_server_) grpc_server_->Shutdown();
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

void OtlpReceiver::fail_next(int n, int status, const std::string& retry_after) {
  std::lock_guard lock(mu_);
  fail_next_ = n;
  fail_status_ = status;
  retry_after_ = retry_after;
}

void OtlpReceiver::handle(const std::string& signal, const httplib::Request& req, httplib::Response& res) {
  std::string retry_after;
  res.status = store(signal, req.body, req.get_header_value("Content-Type") == "application/json", req.headers,
                     req.get_header_value("Content-Type"), &retry_after);
  if (!retry_after.empty()) res.set_header("Retry-After", retry_after);
  if (res.status == 200) res.set_content("", req.get_header_value("Content-Type"));
}

int OtlpReceiver::store(const std::string& signal, const std::string& body, bool json, const httplib::Headers& headers,
                        const std::string& content_type, std::string* retry_after) {
  std::lock_guard lock(mu_);
  content_types_.push_back(content_type);
  headers_.push_back(headers);
  if (fail_next_ > 0) {
    fail_next_--;
    failed_++;
    *retry_after = retry_after_;
    return fail_status_;
  }
  bool ok = false;
  if (signal == "traces") ok = decode(body, json, &traces_.emplace_back());
  if (signal == "metrics") ok = decode(body, json, &metrics_.emplace_back());
  if (signal == "logs") ok = decode(body, json, &logs_.emplace_back());
  if (!ok) return 400;
  ok_++;
  return 200;
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
