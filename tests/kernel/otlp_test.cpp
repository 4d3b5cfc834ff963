// OTLP export against a receiver made from the OTLP .proto definitions: the spans and metrics
// of a known set of requests (nginx and curl, started by the test), exact; and a collector
// that is down, then up, loses nothing within the queue bound.
#include <gtest/gtest.h>

#include <set>

#include "agent_runner.hpp"
#include "otlp_receiver.hpp"
#include "test_servers.hpp"

namespace waggle::test {
namespace {

std::string hex(const std::string& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) out += {digits[c >> 4], digits[c & 15]};
  return out;
}

std::string resource_of(const ReceivedSpan& s, const std::string& key) {
  auto it = s.resource.find(key);
  return it == s.resource.end() ? "(none)" : it->second;
}

class OtlpTest : public ::testing::Test {
 protected:
  void SetUp() override { skip_unless_bpf(); }

  std::string config(int port, const std::string& extra = "") {
    return dir_.file("config.yaml", "sensors:\n  file: {enabled: false}\n"
                                    "metrics: {enabled: false}\nprofiler: {enabled: false}\n"
                                    "otlp:\n  endpoint: http://127.0.0.1:" + std::to_string(port) +
                                        "/\n  batch_timeout: 100ms\n  metrics_interval: 500ms\n"
                                        "  headers: {Authorization: Bearer test-token}\n" + extra);
  }
  // curl GET url with these headers; its exit status.
  static int curl(const std::string& url, const std::vector<std::string>& headers = {}) {
    std::vector<std::string> argv = {"/usr/bin/curl", "-s", "-o", "/dev/null"};
    for (const auto& h : headers) argv.insert(argv.end(), {"-H", h});
    argv.push_back(url);
    return WEXITSTATUS(spawn(argv).status);
  }
  // The spans of requests to nginx's port.
  static std::vector<ReceivedSpan> spans_of(const OtlpReceiver& receiver, int port) {
    std::vector<ReceivedSpan> out;
    for (auto& s : receiver.spans())
      if (s.attribute("server.port") == std::to_string(port)) out.push_back(s);
    return out;
  }

  TempDir dir_;
};

TEST_F(OtlpTest, SpansAndMetricsOfKnownRequestsAreExact) {
  for (std::string protocol : {"http/protobuf", "http/json", "grpc"}) {
    SCOPED_TRACE(protocol);
    std::unique_ptr<OtlpReceiver> made = protocol == "grpc" ? std::make_unique<OtlpReceiver>(OtlpReceiver::Grpc{})
                                                            : std::make_unique<OtlpReceiver>();
    OtlpReceiver& receiver = *made;
    ASSERT_GT(receiver.port(), 0);
    TempDir nginx_dir;
    Nginx nginx(nginx_dir);
    AgentRun agent({"run", "--config", config(receiver.port(), "  protocol: " + protocol + "\n")});
    ASSERT_TRUE(agent.ready()) << agent.stderr_text();
    std::string url = "http://127.0.0.1:" + std::to_string(nginx.port());
    const std::string trace_id = "4bf92f3577b34da6a3ce929d0e0e4736", parent = "00f067aa0ba902b7";
    ASSERT_EQ(curl(url + "/users/7?x=1", {"traceparent: 00-" + trace_id + "-" + parent + "-01"}), 0);
    ASSERT_EQ(curl(url + "/users/8"), 0);
    ASSERT_EQ(curl(url + "/missing"), 0);
    ASSERT_TRUE(OtlpReceiver::wait_for([&] { return spans_of(receiver, nginx.port()).size() >= 6; }, 10));
    ASSERT_EQ(agent.stop(), 0) << agent.stderr_text();
    std::vector<ReceivedSpan> spans = spans_of(receiver, nginx.port());
    ASSERT_EQ(spans.size(), 6u);

    std::multiset<std::string> summary;
    std::set<std::string> span_ids;
    for (const ReceivedSpan& s : spans) {
      std::string resource;
      for (const auto& [k, v] : s.resource) resource += k + "=" + v + " ";
      SCOPED_TRACE(resource);
      bool server = s.span.kind() == otlp_proto::trace::v1::Span::SPAN_KIND_SERVER;
      summary.insert(std::string(server ? "server " : "client ") + s.span.name() + " " +
                     s.attribute("http.response.status_code") + " " + resource_of(s, "service.name"));
      span_ids.insert(hex(s.span.span_id()));
      EXPECT_EQ(s.span.trace_id().size(), 16u);
      EXPECT_EQ(s.attribute("http.request.method"), "GET");
      EXPECT_LT(s.span.start_time_unix_nano(), s.span.end_time_unix_nano());
      EXPECT_EQ(resource_of(s, "process.executable.path"), server ? "/usr/sbin/nginx" : "/usr/bin/curl");
      EXPECT_FALSE(resource_of(s, "process.pid").empty());
      EXPECT_FALSE(resource_of(s, "host.name").empty());
      if (server) {
        EXPECT_EQ(s.attribute("http.route"), s.attribute("url.path") == "/missing" ? "/missing" : "/users/{id}");
        EXPECT_EQ(s.attribute("client.address"), "127.0.0.1");
      }
      bool traced = s.attribute(server ? "url.path" : "url.full").find("/users/7") != std::string::npos;
      if (traced) {  // both ends are children of the span the header names
        EXPECT_EQ(hex(s.span.trace_id()), trace_id);
        EXPECT_EQ(hex(s.span.parent_span_id()), parent);
        EXPECT_NE(hex(s.span.span_id()), parent);
        if (server)
          EXPECT_EQ(s.attribute("url.query"), "x=1");
        else
          EXPECT_EQ(s.attribute("url.full"), url + "/users/7?x=1");
      } else {
        EXPECT_NE(hex(s.span.trace_id()), trace_id);
        EXPECT_TRUE(s.span.parent_span_id().empty());
      }
      bool error = s.attribute("http.response.status_code") == "404" && !server;
      EXPECT_EQ(s.span.status().code(), error ? otlp_proto::trace::v1::Status::STATUS_CODE_ERROR
                                              : otlp_proto::trace::v1::Status::STATUS_CODE_UNSET);
    }
    EXPECT_EQ(span_ids.size(), 6u);
    EXPECT_EQ(summary, (std::multiset<std::string>{"server GET /users/{id} 200 nginx", "server GET /users/{id} 200 nginx",
                                                   "server GET /missing 404 nginx", "client GET 200 curl",
                                                   "client GET 200 curl", "client GET 404 curl"}));
    // The metrics, as the Prometheus endpoint has them; the last export (at stop) is exact.
    auto metrics = receiver.metrics();
    ASSERT_FALSE(metrics.empty());
    EXPECT_EQ(otlp_metric_value(metrics, "http_server_request_duration_seconds",
                                {{"http_route", "/users/{id}"}, {"http_response_status_code", "200"}}),
              2);
    EXPECT_EQ(otlp_metric_value(metrics, "http_server_request_duration_seconds",
                                {{"http_route", "/missing"}, {"http_response_status_code", "404"}}),
              1);
    EXPECT_EQ(otlp_metric_value(metrics, "waggle_otlp_dropped_total"), -1);  // nothing dropped: no series
    for (const std::string& type : receiver.content_types())
      EXPECT_EQ(type, protocol == "http/json" ? "application/json"
                      : protocol == "grpc"    ? "application/grpc"
                                              : "application/x-protobuf");
    for (const std::string& value : receiver.header_values("Authorization")) EXPECT_EQ(value, "Bearer test-token");
    EXPECT_EQ(nginx.access_log().size(), 3u);
  }
}

TEST_F(OtlpTest, ACollectorDownThenUpLosesNothingWithinTheQueueBound) {
  int port = free_port();
  Nginx nginx(dir_);
  // Six spans wait for a collector that is not there; four more than the queue holds are dropped.
  AgentRun agent({"run", "--config", config(port, "  queue_size: 6\n  batch_size: 2\n  max_backoff: 1s\n")});
  ASSERT_TRUE(agent.ready()) << agent.stderr_text();
  std::string url = "http://127.0.0.1:" + std::to_string(nginx.port());
  for (int i = 0; i < 5; i++) ASSERT_EQ(curl(url + "/users/" + std::to_string(i)), 0);
  usleep(1500000);  // the agent tries and backs off
  OtlpReceiver receiver(port);
  ASSERT_EQ(receiver.port(), port);
  ASSERT_TRUE(OtlpReceiver::wait_for(
      [&] { return otlp_metric_value(receiver.metrics(), "waggle_otlp_sent_total", {{"signal", "traces"}}) >= 6; }, 15));
  EXPECT_EQ(spans_of(receiver, nginx.port()).size(), 6u);
  // The first six exchanges (three requests, both ends) were kept, and arrived in order.
  std::vector<std::string> targets;
  for (const ReceivedSpan& s : spans_of(receiver, nginx.port()))
    if (s.span.kind() == otlp_proto::trace::v1::Span::SPAN_KIND_SERVER) targets.push_back(s.attribute("url.path"));
  EXPECT_EQ(targets, (std::vector<std::string>{"/users/0", "/users/1", "/users/2"}));
  EXPECT_EQ(otlp_metric_value(receiver.metrics(), "waggle_otlp_dropped_total", {{"signal", "traces"}, {"reason", "queue_full"}}),
            4);
  EXPECT_GT(otlp_metric_value(receiver.metrics(), "waggle_otlp_failed_requests_total", {{"signal", "traces"}}), 0);
  ASSERT_EQ(agent.stop(), 0) << agent.stderr_text();
  EXPECT_NE(agent.stderr_text().find("(trying again)"), std::string::npos) << agent.stderr_text();
  EXPECT_NE(agent.stderr_text().find("otlp: sending again"), std::string::npos) << agent.stderr_text();
}

}  // namespace
}  // namespace waggle::test
