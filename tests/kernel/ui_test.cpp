// The web UI in headless Chromium, against an agent watching nginx and curl traffic the test
// made: the service map's curl -> nginx edge with its exact request count, the flows table
// filtered to the 404s, the processes, the policies with their match counts, the agent's
// health. A screenshot of each page is kept in the build's artifacts/ui/.
#include <gtest/gtest.h>

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
  std::string config = dir_.file("config.yaml", "sensors:\n  file: {enabled: false}\nprofiler: {enabled: false}\n"
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

  for (const char* page : {"map", "flows", "processes", "policies", "flamegraph", "health"})
    screenshot(std::string("#") + page + (std::string(page) == "flows" ? "&status=404" : ""), page);
  ASSERT_EQ(agent.stop(), 0) << agent.stderr_text();
}

TEST_F(UiTest, ApiRejectsBadParametersAndCanBeTurnedOff) {
  int port = free_port();
  std::string config = dir_.file("config.yaml", "sensors:\n  file: {enabled: false}\nprofiler: {enabled: false}\n"
                                                "metrics: {address: 127.0.0.1:" + std::to_string(port) + "}\n");
  {
    AgentRun agent({"run", "--config", config});
    ASSERT_TRUE(agent.ready()) << agent.stderr_text();
    EXPECT_EQ(http_get(port, "/api/services?window=0"), "");  // 400: http_get returns the body of 200s only
    EXPECT_NE(http_get(port, "/api/services?window=60").find("\"window_s\""), std::string::npos);
    EXPECT_NE(http_get(port, "/").find("<title>waggle</title>"), std::string::npos);
    EXPECT_EQ(http_get(port, "/api/events?after=x"), "");
    EXPECT_NE(http_get(port, "/api/events?after=0").find("\"events\":["), std::string::npos);
    ASSERT_EQ(agent.stop(), 0);
  }
  std::string off = dir_.file("off.yaml", "sensors:\n  file: {enabled: false}\nprofiler: {enabled: false}\n"
                                          "metrics: {address: 127.0.0.1:" + std::to_string(port) + ", ui: false}\n");
  AgentRun agent({"run", "--config", off});
  ASSERT_TRUE(agent.ready()) << agent.stderr_text();
  EXPECT_EQ(http_get(port, "/"), "");
  EXPECT_NE(http_get(port, "/metrics").find("# TYPE waggle_"), std::string::npos) << agent.stderr_text();
  ASSERT_EQ(agent.stop(), 0);
}

}  // namespace
}  // namespace waggle::test
