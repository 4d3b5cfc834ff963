// The web UI in headless Chromium, against an agent watching nginx and curl traffic the test
// made: the service map's curl -> nginx edge with its exact request count, the flows table
// filtered to the 404s, the processes, the policies with their match counts, the agent's
// health. A screenshot of each page is kept in the build's artifacts/ui/.
#include <gtest/gtest.h>

#include <httplib.h>

#include <regex>

#include "agent_runner.hpp"
#include "headless_chromium.hpp"
#include "test_servers.hpp"

namespace waggle::test {
namespace {

class UiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    skip_unless_bpf();
    if (access(kChromium, X_OK) != 0) GTEST_SKIP() << kChromium << " is not installed";
  }

  // The page at `hash`, after its scripts ran, as Chromium's DOM.
  std::string dom(const std::string& hash) {
    return chromium(dir_.path(), "dom", "--virtual-time-budget=4000 --dump-dom", base_ + "/" + hash);
  }
  void screenshot(const std::string& hash, const std::string& name) {
    std::filesystem::create_directories(artifact_dir() / "ui");
    std::filesystem::path shot = artifact_dir() / "ui" / (name + ".png");
    std::filesystem::remove(shot);
    chromium(dir_.path(), "shot", "--virtual-time-budget=4000 --window-size=1280,900 --screenshot=" + shot.string(),
             base_ + "/" + hash);
    EXPECT_TRUE(std::filesystem::exists(shot)) << shot;
  }
  static size_t count(const std::string& text, const std::string& pattern) {
    std::regex re(pattern);
    return size_t(std::distance(std::sregex_iterator(text.begin(), text.end(), re), std::sregex_iterator()));
  }

  TempDir dir_;
  std::string base_;
};

TEST_F(UiTest, PagesShowExactlyWhatTheTestMade) {
  Nginx nginx(dir_);
  int port = free_port();
  std::string watched = dir_.mkdir("watched");
  std::string file = dir_.file("watched/secret", "x");  // before the agent: its creation is not a match
  std::string policy = dir_.file("audit.yaml",
                                 "apiVersion: waggle.dev/v1\nkind: Policy\nmetadata: {name: audit}\nspec:\n"
                                 "  rules:\n    - name: watched-files\n      on: file.open\n"
                                 "      match: {path: {prefix: [" + watched + "/]}}\n      action: log\n");
  std::string config = dir_.file("config.yaml", "sensors:\n  file: {enabled: false}\n"
                                                "metrics: {address: 127.0.0.1:" + std::to_string(port) + "}\n");
  AgentRun agent({"run", "--config", config, "--policy", policy});
  ASSERT_TRUE(agent.ready()) << agent.stderr_text();
  base_ = "http://127.0.0.1:" + std::to_string(port);
  std::string url = "http://127.0.0.1:" + std::to_string(nginx.port());
  for (const char* path : {"/users/1", "/users/2", "/users/3", "/missing/a", "/missing/b"})
    ASSERT_EQ(WEXITSTATUS(spawn({"/usr/bin/curl", "-s", "-o", "/dev/null", url + path}).status), 0);
  Spawned opener = spawn({helper_path(), "open-print", file});
  spawn({helper_path(), "open-print", file});
  usleep(500000);

  // The service map: one edge from curl to nginx, five requests, two of them 4xx. (Its TCP
  // connections count once they have ended on curl's side, which depends on nginx's
  // keep-alive: not checked here.)
  std::string map = dom("#map");
  EXPECT_EQ(count(map, "<g class=\"edge\" data-from=\"curl\" data-to=\"nginx\" data-requests=\"5\" "), 1u) << map;
  EXPECT_EQ(count(map, "<tr data-from=\"curl\" data-to=\"nginx\"><td>curl</td><td>nginx</td><td class=\"num\">5</td>"
                       "<td class=\"num\">[0-9.]+/s</td><td class=\"num\">0 \\(0.0%\\)</td><td class=\"num\">2</td>"),
            1u)
      << map;
  EXPECT_EQ(count(map, "class=\"node service\" data-id=\"svc:nginx\""), 1u);

  // Flows: the 404s on nginx's port, both ends of both requests, and nothing else.
  std::string flows = dom("#flows&status=404&port=" + std::to_string(nginx.port()));
  EXPECT_EQ(count(flows, "<tr data-type=\"http.request\" data-status=\"404\">"), 4u) << flows;
  EXPECT_EQ(count(flows, "<tr data-type="), 4u);
  EXPECT_EQ(count(flows, "server GET /missing/a → 404"), 1u);
  EXPECT_EQ(count(flows, "client GET /missing/b → 404"), 1u);

  // Processes: the helper that opened the file, with its events.
  std::string processes = dom("#processes&pid=" + std::to_string(opener.pid));
  EXPECT_EQ(count(processes, "<li data-pid=\"" + std::to_string(opener.pid) + "\" class=\"selected\">"), 1u)
      << processes;
  EXPECT_GE(count(processes, "<td>process.exec</td>"), 1u);

  // Policies: the rule matched twice.
  std::string policies = dom("#policies");
  EXPECT_EQ(count(policies, "<tr data-policy=\"audit\" data-rule=\"watched-files\"><td>audit</td><td>enforce</td>"
                            "<td>watched-files</td><td class=\"num\">2</td>"),
            1u)
      << policies;

  // Health: the agent's own metrics, events by type among them.
  std::string health = dom("#health");
  EXPECT_EQ(count(health, "<table class=\"data\" data-family=\"waggle_events_total\">"), 1u) << health;

  // The flame graph page, linked to profile the agent's host for a second: it shows the
  // profiler's flame graph.
  std::string flame = dom("#flamegraph&seconds=1");
  EXPECT_EQ(count(flame, "<iframe src=\"/debug/flamegraph[?]seconds=1\" title=\"flame graph\">"), 1u) << flame;
  EXPECT_NE(http_get(port, "/debug/flamegraph?seconds=1").find("<svg"), std::string::npos);

  for (const char* page : {"map", "flows", "processes", "policies", "flamegraph", "health"}) {
    std::string extra = std::string(page) == "flows" ? "&status=404" : std::string(page) == "flamegraph" ? "&seconds=1" : "";
    screenshot(std::string("#") + page + extra, page);
  }
  ASSERT_EQ(agent.stop(), 0) << agent.stderr_text();
}

// The status and body of GET path on the agent's port, with this Host header (or the default).
std::pair<int, std::string> get(int port, const std::string& path, const std::string& host = "") {
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(5);
  httplib::Headers headers;
  if (!host.empty()) headers.emplace("Host", host);
  auto response = client.Get(path.c_str(), headers);
  return response ? std::pair{response->status, response->body} : std::pair{-1, std::string()};
}

TEST_F(UiTest, ApiRejectsBadParametersForeignHostsAndCanBeTurnedOff) {
  int port = free_port();
  std::string config = dir_.file("config.yaml", "sensors:\n  file: {enabled: false}\nprofiler: {enabled: false}\n"
                                                "metrics: {address: 127.0.0.1:" + std::to_string(port) + "}\n");
  {
    AgentRun agent({"run", "--config", config});
    ASSERT_TRUE(agent.ready()) << agent.stderr_text();
    EXPECT_EQ(get(port, "/api/services?window=0"),
              (std::pair<int, std::string>{400, "{\"error\":\"window: expected seconds, 1 to 3600\"}"}));
    EXPECT_EQ(get(port, "/api/services?window=60").first, 200);
    EXPECT_EQ(get(port, "/api/events?after=x").first, 400);
    EXPECT_EQ(get(port, "/api/events?after=0&limit=0").first, 400);
    EXPECT_NE(get(port, "/api/events?after=0").second.find("\"events\":["), std::string::npos);
    EXPECT_NE(get(port, "/").second.find("<title>waggle</title>"), std::string::npos);
    EXPECT_EQ(get(port, "/favicon.ico").first, 204);
    // A page whose name resolves to the agent's address (DNS rebinding) reads nothing.
    EXPECT_EQ(get(port, "/api/events?after=0", "attacker.example:" + std::to_string(port)).first, 403);
    EXPECT_EQ(get(port, "/", "attacker.example").first, 403);
    EXPECT_EQ(get(port, "/api/health", "localhost:" + std::to_string(port)).first, 200);
    EXPECT_EQ(get(port, "/api/health", "[::1]:" + std::to_string(port)).first, 200);
    // /metrics is for Prometheus, which may name the host.
    EXPECT_EQ(get(port, "/metrics", "node-1.example:" + std::to_string(port)).first, 200);
    ASSERT_EQ(agent.stop(), 0);
  }
  std::string off = dir_.file("off.yaml", "sensors:\n  file: {enabled: false}\nprofiler: {enabled: false}\n"
                                          "metrics: {address: 127.0.0.1:" + std::to_string(port) + ", ui: false}\n");
  AgentRun agent({"run", "--config", off});
  ASSERT_TRUE(agent.ready()) << agent.stderr_text();
  EXPECT_EQ(get(port, "/").first, 404);
  EXPECT_EQ(get(port, "/api/events?after=0").first, 404);
  EXPECT_NE(get(port, "/metrics").second.find("# TYPE waggle_"), std::string::npos) << agent.stderr_text();
  ASSERT_EQ(agent.stop(), 0);
}

}  // namespace
}  // namespace waggle::test
