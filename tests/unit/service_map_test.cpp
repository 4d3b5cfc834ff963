// The UI's service map without the kernel: HTTP traffic over windows from histogram snapshots,
// quantiles from buckets, servers and peers from recent events, and the bridge to the loop.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <atomic>
#include <thread>

#include "cli/ui_bridge.hpp"
#include "core/events.hpp"
#include "export/http_traffic.hpp"
#include "export/json_events.hpp"
#include "export/service_map.hpp"

namespace waggle {
namespace {

using nlohmann::json;

// The families the agent registers, with `n` exchanges per label set (each 3 ms).
struct Registry {
  metrics::Registry r;
  metrics::Histogram* client = r.histogram(
      "http_client_request_duration_seconds", "c",
      {"http_request_method", "http_route", "http_response_status_code", "service_name", "process_executable_name",
       "server_address", "server_port"},
      kHttpDurationBounds);
  metrics::Histogram* server = r.histogram(
      "http_server_request_duration_seconds", "s",
      {"http_request_method", "http_route", "http_response_status_code", "service_name", "process_executable_name"},
      kHttpDurationBounds);
  void call(const std::string& status, int n, double seconds = 0.003) {
    for (int i = 0; i < n; i++) {
      client->observe({"GET", "/a", status, "curl", "curl", "10.0.0.5", "80"}, seconds);
      server->observe({"GET", "/a", status, "nginx", "nginx"}, seconds);
    }
  }
};

TEST(HttpTraffic, QuantilesInterpolateInsideTheirBucket) {
  std::vector<double> bounds = {0.005, 0.01, 0.025};
  auto q = [&](double quantile, std::vector<uint64_t> buckets) { return histogram_quantile(quantile, bounds, buckets); };
  EXPECT_DOUBLE_EQ(q(0.5, {10, 0, 0, 0}), 0.0025);
  EXPECT_DOUBLE_EQ(q(0.5, {0, 10, 0, 0}), 0.0075);
  EXPECT_DOUBLE_EQ(q(0.99, {0, 0, 0, 10}), 0.025);  // +Inf: the last bound
  EXPECT_DOUBLE_EQ(q(0.5, {0, 0, 0, 0}), 0);
}

TEST(HttpTraffic, AWindowIsTheDifferenceFromTheSnapshotThatFarBack) {
  Registry reg;
  HttpTraffic traffic;
  traffic.record(reg.r.collect(), 0);  // the agent's start
  reg.call("200", 3);
  traffic.record(reg.r.collect(), 10);
  reg.call("500", 2);
  reg.call("404", 1);
  traffic.record(reg.r.collect(), 20);
  reg.call("200", 4);
  // The last 10 s, up to now (25 s): what came after the snapshot at 10 s.
  HttpTraffic::Window w = traffic.window(10, reg.r.collect(), 25);
  EXPECT_DOUBLE_EQ(w.seconds, 15);  // from the latest snapshot at least 10 s old
  ASSERT_EQ(w.edges.size(), 1u);
  EXPECT_EQ(w.edges[0].service, "curl");
  EXPECT_EQ(w.edges[0].server_address, "10.0.0.5");
  EXPECT_EQ(w.edges[0].server_port, 80);
  EXPECT_EQ(w.edges[0].requests, 7u);
  EXPECT_EQ(w.edges[0].errors, 2u);
  EXPECT_EQ(w.edges[0].client_errors, 1u);
  EXPECT_DOUBLE_EQ(w.edges[0].p50_s, 0.0025);  // all 7 in (0, 5 ms]: interpolated to its middle
  ASSERT_EQ(w.services.size(), 1u);
  EXPECT_EQ(w.services[0].service, "nginx");
  EXPECT_EQ(w.services[0].requests, 7u);
  // Longer than the agent has run: everything since its start.
  HttpTraffic::Window all = traffic.window(3600, reg.r.collect(), 25);
  EXPECT_DOUBLE_EQ(all.seconds, 25);
  EXPECT_EQ(all.edges[0].requests, 10u);
}

TEST(HttpTraffic, SnapshotsAreDueEveryFifteenSeconds) {
  HttpTraffic traffic;
  EXPECT_TRUE(traffic.due(0));
  traffic.record({}, 0);
  EXPECT_FALSE(traffic.due(14.9));
  EXPECT_TRUE(traffic.due(15));
}

TEST(ServiceMap, ServersPeersNamesAndTcpEdgesFromRecentEvents) {
  Registry reg;
  HttpTraffic traffic;
  traffic.record(reg.r.collect(), 0);
  reg.call("200", 2);
  reg.client->observe({"GET", "/", "200", "curl", "curl", "10.1.2.3", "443"}, 0.02);
  HttpTraffic::Window w = traffic.window(60, reg.r.collect(), 30);
  uint64_t now = parse_rfc3339_ns("2026-12-07T01:00:30Z");
  std::string history =
      R"({"time":"2026-12-07T01:00:10Z","type":"http.request","process":{"pid":9,"binary":"/usr/sbin/nginx"},"role":"server","local":{"address":"10.0.0.5","port":80},"remote":{"address":"10.0.0.9","port":5000}})"
      "\n"
      R"({"time":"2026-12-07T01:00:11Z","type":"dns.query","process":{"pid":7,"comm":"curl"},"name":"example.test","answers":["A 10.1.2.3","CNAME x"]})"
      "\n"
      R"({"time":"2026-12-07T01:00:12Z","type":"network.tcp","process":{"pid":7,"binary":"/usr/bin/curl"},"direction":"connected","local":{"address":"10.0.0.9","port":5001},"remote":{"address":"10.1.2.3","port":443},"bytes_sent":10,"bytes_received":20})"
      "\n"
      R"({"time":"2026-12-07T00:50:00Z","type":"network.tcp","process":{"pid":7,"binary":"/usr/bin/curl"},"direction":"connected","local":{"address":"10.0.0.9","port":5002},"remote":{"address":"10.1.2.3","port":443},"bytes_sent":1,"bytes_received":1})"
      "\n"
      "not json\n";
  json map = json::parse(service_map_json(w, history, now, "127.0.0.1 9464"));
  EXPECT_DOUBLE_EQ(map["window_s"].get<double>(), 30);
  std::map<std::string, json> nodes;
  for (const json& n : map["nodes"]) nodes[n["id"]] = n;
  ASSERT_EQ(nodes.size(), 3u) << map.dump();
  EXPECT_EQ(nodes["svc:nginx"]["requests"], 2);
  EXPECT_EQ(nodes["peer:10.1.2.3 443"]["label"], "10.1.2.3:443");
  EXPECT_EQ(nodes["peer:10.1.2.3 443"]["names"], json::array({"example.test"}));
  std::map<std::string, json> edges;
  for (const json& e : map["edges"]) edges[e["to"].get<std::string>()] = e;
  ASSERT_EQ(edges.size(), 2u);
  EXPECT_EQ(edges["svc:nginx"]["from"], "svc:curl");  // 10.0.0.5:80 is where nginx serves
  EXPECT_EQ(edges["svc:nginx"]["http"]["requests"], 2);
  EXPECT_TRUE(edges["svc:nginx"]["tcp"].is_null());
  EXPECT_EQ(edges["peer:10.1.2.3 443"]["http"]["requests"], 1);
  EXPECT_EQ(edges["peer:10.1.2.3 443"]["tcp"]["connections"], 1);  // the one older than the window is left out
  EXPECT_EQ(edges["peer:10.1.2.3 443"]["tcp"]["bytes_received"], 20);
}

TEST(ServiceMap, NamesThatAreNotUtf8DoNotBreakIt) {
  Registry reg;
  HttpTraffic traffic;
  traffic.record(reg.r.collect(), 0);
  reg.client->observe({"GET", "/", "200", "caf\xe9", "caf\xe9", "10.1.2.3", "80"}, 0.001);
  json map = json::parse(service_map_json(traffic.window(60, reg.r.collect(), 1), "", 0));
  EXPECT_EQ(map["nodes"][1]["label"], "caf\xEF\xBF\xBD") << map.dump();
}

TEST(ServiceMap, ReadsTheEventsTimes) {
  EXPECT_EQ(parse_rfc3339_ns("1970-01-01T00:00:01.5Z"), 1'500'000'000u);
  EXPECT_EQ(parse_rfc3339_ns("2026-12-07T01:00:30.000000007Z") % 1'000'000'000, 7u);
  EXPECT_EQ(parse_rfc3339_ns("soon"), 0u);
}

TEST(UiBridge, TheLoopAnswersWhatOtherThreadsAsk) {
  UiBridge bridge;
  std::optional<std::string> answer;
  std::atomic<bool> done = false;
  std::thread asker([&] {
    answer = bridge.ask("observe 3", std::chrono::seconds(5));
    done = true;
  });
  for (int i = 0; i < 500 && !done; i++) {
    bridge.serve([](const std::string& request) { return "answer to " + request; });
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  asker.join();
  EXPECT_EQ(answer, "answer to observe 3");
  // Nobody serving: the ask gives up; a closed bridge answers nothing at once.
  EXPECT_FALSE(bridge.ask("x", std::chrono::milliseconds(20)));
  bridge.close();
  EXPECT_FALSE(bridge.ask("x", std::chrono::seconds(5)));
}

}  // namespace
}  // namespace waggle
