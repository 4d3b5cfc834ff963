// `waggle observe` against a running agent: exactly the flows the test made, with each filter,
// from the agent's history and while following.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "agent_runner.hpp"
#include "test_servers.hpp"

namespace waggle::test {
namespace {

class ObserveTest : public ::testing::Test {
 protected:
  void SetUp() override { skip_unless_bpf(); }

  // `waggle observe --socket S ARGS... -o json`: its JSON lines.
  std::vector<json> observe(std::vector<std::string> args) {
    args.insert(args.begin(), {WAGGLE_BINARY, "observe", "--socket", socket_});
    args.insert(args.end(), {"-o", "json"});
    Spawned run = spawn(args);
    EXPECT_EQ(WEXITSTATUS(run.status), 0) << run.out;
    std::vector<json> out;
    std::istringstream in(run.out);
    for (std::string line; std::getline(in, line);) out.push_back(json::parse(line));
    return out;
  }

  TempDir dir_;
  std::string socket_ = dir_.path() + "/waggle.sock";
};

std::multiset<std::string> summary(const std::vector<json>& events) {
  std::multiset<std::string> out;
  for (const json& e : events)
    out.insert(e["role"].get<std::string>() + " " + e["target"].get<std::string>() + " " +
               std::to_string(e["status"].get<int>()));
  return out;
}

TEST_F(ObserveTest, ReturnsExactlyTheFlowsMadeWithEachFilter) {
  Nginx nginx(dir_);
  std::string config = dir_.file("config.yaml", "sensors:\n  file: {enabled: false}\nmetrics: {enabled: false}\n");
  AgentRun agent({"run", "--config", config, "--control-socket", socket_});
  ASSERT_TRUE(agent.ready()) << agent.stderr_text();
  std::string url = "http://127.0.0.1:" + std::to_string(nginx.port());
  Spawned curl = spawn({"/usr/bin/curl", "-s", "-o", "/dev/null", "-o", "/dev/null", "-o", "/dev/null",
                        url + "/users/1", url + "/missing/a", url + "/missing/b"});
  ASSERT_EQ(WEXITSTATUS(curl.status), 0);
  // Until both ends of the three requests, and the connection's end, are in the history.
  std::vector<json> http;
  for (int i = 0; i < 50 && http.size() < 6; i++) {
    usleep(100000);
    http = observe({"--type", "http.request", "--port", std::to_string(nginx.port())});
  }
  EXPECT_EQ(summary(http), (std::multiset<std::string>{"server /users/1 200", "client /users/1 200",
                                                       "server /missing/a 404", "client /missing/a 404",
                                                       "server /missing/b 404", "client /missing/b 404"}));
  EXPECT_EQ(summary(observe({"--type", "http.request", "--status", "404", "--port", std::to_string(nginx.port())})),
            (std::multiset<std::string>{"server /missing/a 404", "client /missing/a 404", "server /missing/b 404",
                                        "client /missing/b 404"}));
  EXPECT_EQ(summary(observe({"--type", "http.request", "--process", "curl", "--port", std::to_string(nginx.port())})),
            (std::multiset<std::string>{"client /users/1 200", "client /missing/a 404", "client /missing/b 404"}));
  EXPECT_EQ(summary(observe({"--pid", std::to_string(curl.pid), "--type", "http.request"})),
            (std::multiset<std::string>{"client /users/1 200", "client /missing/a 404", "client /missing/b 404"}));
  // curl's own arguments name /missing/b too: the text is matched anywhere in the event.
  EXPECT_EQ(summary(observe({"--text", "\"target\":\"/missing/b\"", "--type", "http.request"})),
            (std::multiset<std::string>{"server /missing/b 404", "client /missing/b 404"}));
  std::vector<json> last = observe({"--type", "http.request", "--port", std::to_string(nginx.port()), "--last", "1"});
  ASSERT_EQ(last.size(), 1u);
  EXPECT_EQ(last[0]["target"], "/missing/b");
  EXPECT_TRUE(observe({"--type", "http.request", "--status", "500"}).empty());
  // The connection curl opened: its two ends, once it closed.
  std::vector<json> tcp;
  for (int i = 0; i < 50 && tcp.size() < 2; i++) {
    tcp = observe({"--type", "network.tcp", "--port", std::to_string(nginx.port())});
    if (tcp.size() < 2) usleep(100000);
  }
  std::multiset<std::string> directions;
  for (const json& e : tcp) directions.insert(e["direction"].get<std::string>());
  EXPECT_EQ(directions, (std::multiset<std::string>{"connected", "accepted"}));

  // Following: the requests made after it started, and only those.
  std::string log = dir_.path() + "/follow.out";
  {
    Background follow({WAGGLE_BINARY, "observe", "--socket", socket_, "-f", "--type", "http.request", "--text",
                       "/followed", "-o", "json"},
                      log);
    usleep(500000);
    ASSERT_EQ(WEXITSTATUS(spawn({"/usr/bin/curl", "-s", "-o", "/dev/null", url + "/followed"}).status), 0);
    std::string text;
    for (int i = 0; i < 50; i++) {
      usleep(100000);
      std::ifstream in(log);
      std::stringstream s;
      s << in.rdbuf();
      text = s.str();
      if (std::count(text.begin(), text.end(), '\n') >= 2) break;
    }
    std::vector<json> followed;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
      if (line.starts_with("{")) followed.push_back(json::parse(line));
    EXPECT_EQ(summary(followed), (std::multiset<std::string>{"server /followed 404", "client /followed 404"}))
        << text;
  }
  ASSERT_EQ(agent.stop(), 0) << agent.stderr_text();
  // Every line is one the agent wrote out.
  std::vector<json> written = agent.events();
  for (const json& e : http) EXPECT_NE(std::find(written.begin(), written.end(), e), written.end()) << e.dump();
}

// A bad answer from the agent's side is the agent's: a socket with no agent behind it fails
// with the reason, and so does a bad filter value.
TEST_F(ObserveTest, NoAgentAndBadValuesAreErrors) {
  Spawned none = spawn({WAGGLE_BINARY, "observe", "--socket", dir_.path() + "/none.sock"}, "", true);
  EXPECT_EQ(WEXITSTATUS(none.status), 1);
  EXPECT_NE(none.out.find("none.sock"), std::string::npos) << none.out;
  Spawned since = spawn({WAGGLE_BINARY, "observe", "--socket", socket_, "--since", "soon"}, "", true);
  EXPECT_EQ(WEXITSTATUS(since.status), 2);
  EXPECT_NE(since.out.find("--since: expected a duration such as 30s, 5m or 1h, got \"soon\""), std::string::npos)
      << since.out;
  Spawned type = spawn({WAGGLE_BINARY, "observe", "--socket", socket_, "--type", "http"}, "", true);
  EXPECT_NE(WEXITSTATUS(type.status), 0);
  EXPECT_NE(type.out.find("--type"), std::string::npos) << type.out;
}

}  // namespace
}  // namespace waggle::test
