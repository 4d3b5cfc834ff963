// A real Prometheus server scrapes the agent's endpoint; its query API returns the series.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "agent_runner.hpp"
#include "test_servers.hpp"

namespace waggle::test {
namespace {

class PrometheusScrapeTest : public ::testing::Test {
 protected:
  void SetUp() override { skip_unless_bpf(); }
  TempDir dir_;
};

// The result vector of an instant query, or an empty array.
json query(int port, const std::string& promql) {
  std::string escaped;
  for (char c : promql) {
    if (isalnum(static_cast<unsigned char>(c)) || c == '_')
      escaped += c;
    else
      escaped += fmt::format("%{:02X}", static_cast<unsigned char>(c));
  }
  std::string body = http_get(port, "/api/v1/query?query=" + escaped);
  if (body.empty()) return json::array();
  json reply = json::parse(body, nullptr, false);
  if (reply.is_discarded() || reply["status"] != "success") return json::array();
  return reply["data"]["result"];
}

TEST_F(PrometheusScrapeTest, APrometheusServerScrapesTheAgentAndQueriesItsSeries) {
  int metrics_port = free_port();
  std::string config = dir_.file("config.yaml",
                                 "sensors:\n  file: {enabled: false}\n"
                                 "metrics: {program_stats: true, address: 127.0.0.1:" +
                                     std::to_string(metrics_port) + "}\n");
  AgentRun agent({"run", "--config", config});
  ASSERT_TRUE(agent.ready()) << agent.stderr_text();
  Spawned pair = spawn({helper_path(), "tcp-pair", "10", "20"});  // a TCP connection to count
  ASSERT_EQ(WEXITSTATUS(pair.status), 0);

  int prom_port = free_port();
  std::string root = dir_.mkdir("prometheus");
  std::string prom_config = dir_.file("prometheus/prometheus.yml",
                                      "global: {scrape_interval: 1s}\n"
                                      "scrape_configs:\n"
                                      "  - job_name: waggle\n"
                                      "    static_configs: [{targets: ['127.0.0.1:" +
                                          std::to_string(metrics_port) + "']}]\n");
  Background prometheus(
      {"/usr/bin/prometheus", "--config.file=" + prom_config, "--storage.tsdb.path=" + root + "/data",
       "--web.listen-address=127.0.0.1:" + std::to_string(prom_port)},
      root + "/log");
  ASSERT_TRUE(wait_for_port(prom_port, 30000)) << "prometheus did not start; see " << root << "/log";

  json up, connections;
  for (int i = 0; i < 300 && (up.empty() || connections.empty()); i++) {
    usleep(100000);
    up = query(prom_port, "up{job=\"waggle\"}");
    connections = query(prom_port, "waggle_tcp_connections_total{service_name=\"waggle_test_helper\"}");
  }
  ASSERT_EQ(up.size(), 1u) << "no scrape of the agent";
  EXPECT_EQ(up[0]["value"][1], "1");
  ASSERT_EQ(connections.size(), 2u);  // the accepted and the connected end
  for (auto& series : connections) {
    EXPECT_EQ(series["metric"]["network_connection_end"], "closed");
    EXPECT_EQ(series["value"][1], "1");
  }
  EXPECT_FALSE(query(prom_port, "waggle_bpf_program_runs_total").empty());
  ASSERT_EQ(agent.stop(), 0) << agent.stderr_text();
}

}  // namespace
}  // namespace waggle::test
