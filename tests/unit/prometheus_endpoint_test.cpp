#include "export/prometheus_endpoint.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <string>

#include "core/net_address.hpp"
#include "export/metrics_registry.hpp"
#include "export/prometheus_text.hpp"

namespace waggle {
namespace {

using std::chrono::steady_clock;

class PrometheusEndpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    requests_ = registry_.counter("requests_total", "Requests.", {"code"});
    ASSERT_NE(requests_, nullptr);
    requests_->add({"200"}, 3);
    std::string error;
    endpoint_ = PrometheusEndpoint::start("127.0.0.1:0", registry_, &error);
    ASSERT_NE(endpoint_, nullptr) << error;
    ASSERT_NE(endpoint_->port(), 0);
  }

  httplib::Client client() { return httplib::Client("127.0.0.1", endpoint_->port()); }

  // What the n-th scrape returns: the registry's render plus the endpoint's own counters.
  std::string expected_body(uint64_t scrape, double render_seconds) {
    return render_prometheus_text(registry_, [&](metrics::Collector& c) {
      c.counter("waggle_prometheus_scrapes_total", "Requests for /metrics served, this one included.")
          .sample({}, static_cast<double>(scrape));
      c.counter("waggle_prometheus_render_seconds_total",
                "Time spent rendering /metrics, in seconds, this request excluded.")
          .sample({}, render_seconds);
    });
  }

  metrics::Registry registry_;
  metrics::Counter* requests_ = nullptr;
  std::unique_ptr<PrometheusEndpoint> endpoint_;
};

TEST_F(PrometheusEndpointTest, ServesTheRegistry) {
  EXPECT_EQ(endpoint_->address(), "127.0.0.1:" + std::to_string(endpoint_->port()));
  auto cli = client();
  auto res = cli.Get("/metrics");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(res->body, expected_body(1, 0));
  EXPECT_NE(res->body.find("requests_total{code=\"200\"} 3\n"), std::string::npos);
  EXPECT_EQ(endpoint_->scrapes(), 1u);

  requests_->add({"500"});
  res = cli.Get("/metrics?x=1");  // a query string changes nothing
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_NE(res->body.find("requests_total{code=\"500\"} 1\n"), std::string::npos);
  EXPECT_NE(res->body.find("waggle_prometheus_scrapes_total 2\n"), std::string::npos);
  EXPECT_EQ(endpoint_->scrapes(), 2u);
}

TEST_F(PrometheusEndpointTest, Head) {
  auto cli = client();
  auto res = cli.Head("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "");
  EXPECT_EQ(res->get_header_value("Content-Type"), kPrometheusContentType);
  EXPECT_EQ(res->get_header_value("Content-Length"), std::to_string(expected_body(1, 0).size()));
}

TEST_F(PrometheusEndpointTest, OtherPathsAreNotFound) {
  auto cli = client();
  for (const char* path : {"/", "/metricsx", "/metrics/", "/favicon.ico"}) {
    auto res = cli.Get(path);
    ASSERT_TRUE(res) << path;
    EXPECT_EQ(res->status, 404) << path;
    EXPECT_EQ(res->body, "Not found: metrics are at /metrics\n");
  }
  EXPECT_EQ(endpoint_->scrapes(), 0u);
}

TEST_F(PrometheusEndpointTest, OtherMethodsAreNotAllowed) {
  auto cli = client();
  auto res = cli.Post("/metrics", "x", "text/plain");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 405);
  EXPECT_EQ(res->get_header_value("Allow"), "GET, HEAD");
  EXPECT_EQ(res->body, "Method not allowed: use GET or HEAD\n");
  res = cli.Delete("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 405);
  res = cli.Put("/metrics", "x", "text/plain");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 405);
  EXPECT_EQ(endpoint_->scrapes(), 0u);
}

TEST_F(PrometheusEndpointTest, AddressInUse) {
  const std::string address = "127.0.0.1:" + std::to_string(endpoint_->port());
  std::string error;
  EXPECT_EQ(PrometheusEndpoint::start(address, registry_, &error), nullptr);
  EXPECT_EQ(error, "cannot listen on " + address + ": " + std::strerror(EADDRINUSE));
}

TEST_F(PrometheusEndpointTest, StopIsPromptAndIdempotent) {
  auto cli = client();
  ASSERT_TRUE(cli.Get("/metrics"));
  auto start = steady_clock::now();
  endpoint_->stop();
  EXPECT_LT(steady_clock::now() - start, std::chrono::milliseconds(500));
  endpoint_->stop();
  auto res = client().Get("/metrics");
  EXPECT_FALSE(res);  // nothing listens any more
  endpoint_.reset();
}

TEST_F(PrometheusEndpointTest, StopIsPromptWithAnIdleClient) {
  // A client that connects and says nothing holds a worker until the 1 s read timeout.
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(endpoint_->port());
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0) << std::strerror(errno);
  ASSERT_EQ(write(fd, "GET /met", 8), 8);
  usleep(50'000);
  auto start = steady_clock::now();
  endpoint_.reset();
  EXPECT_LT(steady_clock::now() - start, std::chrono::milliseconds(2000));
  close(fd);
}

TEST(PrometheusEndpoint, MalformedAddresses) {
  metrics::Registry registry;
  for (const char* address : {"", "nonsense", "127.0.0.1", "127.0.0.1:", ":9464", "localhost:9464",
                              "127.0.0.1:99999", "127.0.0.1:-1", "127.0.0.1:94x", "1.2.3.400:9464",
                              "::1:9464", "[::1]9464", "[::1]:", "[127.0.0.1]:9464", "[::1:9464"}) {
    std::string error;
    EXPECT_EQ(PrometheusEndpoint::start(address, registry, &error), nullptr) << address;
    EXPECT_EQ(error.rfind("invalid listen address \"" + std::string(address) + "\": ", 0), 0u) << error;
  }
  std::string error;
  EXPECT_EQ(PrometheusEndpoint::start("localhost:9464", registry, &error), nullptr);
  EXPECT_EQ(error, "invalid listen address \"localhost:9464\": the host must be an IPv4 address or [ipv6]");
}

TEST(PrometheusEndpoint, AddressNotOnThisHost) {
  metrics::Registry registry;
  std::string error;
  EXPECT_EQ(PrometheusEndpoint::start("192.0.2.1:0", registry, &error), nullptr);  // TEST-NET-1
  EXPECT_EQ(error, std::string("cannot listen on 192.0.2.1:0: ") + std::strerror(EADDRNOTAVAIL));
}

TEST(PrometheusEndpoint, ParsesAddresses) {
  std::string host, error;
  uint16_t port = 1;
  ASSERT_TRUE(split_host_port(PrometheusEndpoint::kDefaultAddress, &host, &port, &error)) << error;
  EXPECT_EQ(host, "127.0.0.1");
  EXPECT_EQ(port, 9464);
  ASSERT_TRUE(split_host_port("[::]:0", &host, &port, &error)) << error;
  EXPECT_EQ(host, "::");
  EXPECT_EQ(port, 0);
  ASSERT_TRUE(split_host_port("0.0.0.0:65535", &host, &port, &error)) << error;
  EXPECT_EQ(host, "0.0.0.0");
  EXPECT_EQ(port, 65535);
  EXPECT_FALSE(split_host_port("0.0.0.0:65536", &host, &port, &error));
  EXPECT_EQ(error, "the port must be a number from 0 to 65535");
}

TEST(PrometheusEndpoint, Ipv6Loopback) {
  metrics::Registry registry;
  std::string error;
  auto endpoint = PrometheusEndpoint::start("[::1]:0", registry, &error);
  if (endpoint == nullptr) GTEST_SKIP() << "no IPv6 loopback here: " << error;
  EXPECT_EQ(endpoint->address(), "[::1]:" + std::to_string(endpoint->port()));
  httplib::Client cli("::1", endpoint->port());
  auto res = cli.Get("/metrics");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
}

}  // namespace
}  // namespace waggle
