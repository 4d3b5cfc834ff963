// The shipped Grafana dashboard (config/grafana/waggle-dashboard.json) asks only for metrics and
// labels that a running agent really exports: every query of it is checked against a scrape
// taken after HTTP, TCP and DNS traffic the test made.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "agent_runner.hpp"
#include "test_servers.hpp"

namespace waggle::test {
namespace {

using nlohmann::json;

std::string dashboard_path() {
  std::string file = __FILE__;  // .../tests/kernel/grafana_dashboard_test.cpp
  return file.substr(0, file.rfind("/tests/")) + "/config/grafana/waggle-dashboard.json";
}

// Each sample name of a Prometheus text page, with the label names its samples carry.
std::map<std::string, std::set<std::string>> exported(const std::string& page) {
  static const std::regex kLabel(R"(([a-zA-Z_][a-zA-Z0-9_]*)=")");
  std::map<std::string, std::set<std::string>> out;
  std::istringstream in(page);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    size_t end = line.find_first_of("{ ");
    std::set<std::string>& labels = out[line.substr(0, end)];
    if (end == std::string::npos || line[end] != '{') continue;
    std::string inside = line.substr(end + 1, line.find('}') - end - 1);
    for (std::sregex_iterator it(inside.begin(), inside.end(), kLabel), stop; it != stop; ++it)
      labels.insert((*it)[1]);
  }
  return out;
}

// Every PromQL query of the dashboard: its panels' targets and its variables.
std::vector<std::string> queries(const json& dashboard) {
  std::vector<std::string> out;
  for (const json& panel : dashboard["panels"])
    if (panel.contains("targets"))
      for (const json& target : panel["targets"]) out.push_back(target["expr"]);
  for (const json& variable : dashboard["templating"]["list"])
    if (variable["type"] == "query") out.push_back(variable["query"]["query"]);
  return out;
}

// Label names a query groups or selects by.
std::set<std::string> labels_of(const std::string& query) {
  static const std::regex kBy(R"(by \(([^)]*)\))"), kSelector(R"(\{([^}]*)\})"),
      kName(R"(([a-z_]+)\s*(=~|!=|!~|=))"), kValues(R"(label_values\([a-z_]+, ([a-z_]+)\))");
  std::set<std::string> out;
  for (std::sregex_iterator it(query.begin(), query.end(), kBy), stop; it != stop; ++it) {
    std::istringstream names((*it)[1].str());
    for (std::string name; std::getline(names, name, ',');) {
      name.erase(0, name.find_first_not_of(' '));
      out.insert(name);
    }
  }
  for (std::sregex_iterator it(query.begin(), query.end(), kSelector), stop; it != stop; ++it) {
    std::string inside = (*it)[1];
    for (std::sregex_iterator n(inside.begin(), inside.end(), kName); n != stop; ++n) out.insert((*n)[1]);
  }
  for (std::sregex_iterator it(query.begin(), query.end(), kValues), stop; it != stop; ++it) out.insert((*it)[1]);
  return out;
}

TEST(GrafanaDashboard, EveryQueryNamesExportedMetricsAndLabels) {
  skip_unless_bpf();
  std::ifstream file(dashboard_path());
  ASSERT_TRUE(file) << dashboard_path();
  json dashboard = json::parse(file);
  std::vector<std::string> all = queries(dashboard);
  ASSERT_GT(all.size(), 20u);

  TempDir dir;
  Nginx nginx(dir);
  Dnsmasq dnsmasq(dir);
  int port = free_port();
  std::string config = dir.file("config.yaml", "sensors:\n  file: {enabled: false}\nmetrics: {address: 127.0.0.1:" +
                                                   std::to_string(port) + ", program_stats: true}\n");
  AgentRun agent({"run", "--config", config});
  ASSERT_TRUE(agent.ready()) << agent.stderr_text();
  std::string url = "http://127.0.0.1:" + std::to_string(nginx.port());
  Spawned curl = spawn({"/usr/bin/curl", "-s", "-o", "/dev/null", "-o", "/dev/null", url + "/users/1", url + "/missing"});
  ASSERT_EQ(WEXITSTATUS(curl.status), 0);
  Spawned query = spawn({helper_path(), "dns-sendto", Dnsmasq::kAddress, "example.test"});
  ASSERT_EQ(query.out, "rcode 0\n");
  std::map<std::string, std::set<std::string>> metrics;
  for (int i = 0; i < 50; i++) {  // until the exchanges, the connections' ends and the answer are counted
    metrics = exported(http_get(port, "/metrics"));
    if (metrics.count("http_client_request_duration_seconds_bucket") &&
        metrics.count("http_server_request_duration_seconds_bucket") &&
        metrics.count("waggle_tcp_connections_total") && metrics.count("waggle_dns_query_duration_seconds_bucket"))
      break;
    usleep(100000);
  }
  ASSERT_EQ(agent.stop(), 0) << agent.stderr_text();

  // A metric is named before its selector or range, or first in label_values().
  static const std::regex kMetric(R"(\b([a-z_]+)(?=\{|\[)|label_values\(([a-z_]+))");
  for (const std::string& q : all) {
    SCOPED_TRACE(q);
    std::set<std::string> labels;  // those the query's metrics carry
    int named = 0;
    for (std::sregex_iterator it(q.begin(), q.end(), kMetric), stop; it != stop; ++it) {
      named++;
      std::string name = (*it)[1].matched ? (*it)[1] : (*it)[2];
      auto m = metrics.find(name);
      if (m == metrics.end()) {
        ADD_FAILURE() << "not exported: " << name;
        continue;
      }
      labels.insert(m->second.begin(), m->second.end());
    }
    EXPECT_GT(named, 0);
    for (const std::string& label : labels_of(q)) EXPECT_TRUE(labels.count(label)) << "no such label: " << label;
  }
}

}  // namespace
}  // namespace waggle::test
