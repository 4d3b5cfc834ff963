// The network sensor's TCP connections against the real kernel: who connected and accepted,
// exact data bytes both ways, and how each connection ended.
#include <gtest/gtest.h>

#include <sstream>

#include "agent_runner.hpp"
#include "test_servers.hpp"

namespace waggle::test {
namespace {

class NetworkTcpTest : public ::testing::Test {
 protected:
  void SetUp() override { skip_unless_bpf(); }

  // Only the network sensor's TCP events: no file events, no metrics endpoint.
  std::string config() {
    return dir_.file("config.yaml",
                     "sensors:\n  file: {enabled: false}\n  network: {http: false, dns: false}\n"
                     "metrics: {enabled: false}\n");
  }

  TempDir dir_;
};

struct Pair {
  int server = 0, client = 0, port = 0;
  long server_got = 0, client_got = 0;
};

Pair parse_pair(const std::string& out) {
  Pair p;
  std::istringstream in(out);
  in >> p.server >> p.client >> p.port >> p.server_got >> p.client_got;
  return p;
}

// The network.tcp events of `pid`.
std::vector<json> tcp_events(const AgentRun& agent, int pid) {
  std::vector<json> found;
  for (auto& e : agent.events_of(pid))
    if (e["type"] == "network.tcp") found.push_back(e);
  return found;
}

TEST_F(NetworkTcpTest, BothEndsOfAConnectionCarryTheirProcessExactBytesAndHowItEnded) {
  AgentRun agent({"run", "--config", config()});
  ASSERT_TRUE(agent.ready()) << agent.stderr_text();
  Spawned run = spawn({helper_path(), "tcp-pair", "1000", "70000"});
  ASSERT_EQ(WEXITSTATUS(run.status), 0) << run.out;
  Pair pair = parse_pair(run.out);
  ASSERT_EQ(pair.server_got, 1000);
  ASSERT_EQ(pair.client_got, 70000);
  ASSERT_EQ(agent.stop(), 0) << agent.stderr_text();

  auto server = tcp_events(agent, pair.server);
  ASSERT_EQ(server.size(), 1u);
  EXPECT_EQ(server[0]["direction"], "accepted");
  EXPECT_EQ(server[0]["end"], "closed");
  EXPECT_EQ(server[0]["local"], (json{{"address", "127.0.0.1"}, {"port", pair.port}}));
  EXPECT_EQ(server[0]["remote"]["address"], "127.0.0.1");
  EXPECT_EQ(server[0]["bytes_received"], 1000);
  EXPECT_EQ(server[0]["bytes_sent"], 70000);
  EXPECT_GT(server[0]["duration_ns"].get<uint64_t>(), 0u);

  auto client = tcp_events(agent, pair.client);
  ASSERT_EQ(client.size(), 1u);
  EXPECT_EQ(client[0]["direction"], "connected");
  EXPECT_EQ(client[0]["end"], "closed");
  EXPECT_EQ(client[0]["remote"], (json{{"address", "127.0.0.1"}, {"port", pair.port}}));
  EXPECT_EQ(client[0]["local"], server[0]["remote"]);  // the same connection, seen from both ends
  EXPECT_EQ(client[0]["bytes_sent"], 1000);
  EXPECT_EQ(client[0]["bytes_received"], 70000);
  EXPECT_EQ(client[0]["retransmits"], 0);
  EXPECT_EQ(agent.final_stats()["lost"], 0);
}

TEST_F(NetworkTcpTest, AResetIsReportedByBothEndsAndARefusedConnectFails) {
  AgentRun agent({"run", "--config", config()});
  ASSERT_TRUE(agent.ready()) << agent.stderr_text();
  Spawned run = spawn({helper_path(), "tcp-reset"});
  ASSERT_EQ(WEXITSTATUS(run.status), 0) << run.out;
  Pair pair = parse_pair(run.out);
  EXPECT_EQ(pair.client_got, -104);  // ECONNRESET
  // Nothing listens on that port any more: the connect is refused.
  Spawned refused = spawn({helper_path(), "connect", "127.0.0.1", std::to_string(pair.port)});
  EXPECT_EQ(refused.out, "-111\n");  // ECONNREFUSED
  ASSERT_EQ(agent.stop(), 0) << agent.stderr_text();

  auto server = tcp_events(agent, pair.server);
  ASSERT_EQ(server.size(), 1u);
  EXPECT_EQ(server[0]["end"], "reset_sent");
  auto client = tcp_events(agent, pair.client);
  ASSERT_EQ(client.size(), 1u);
  EXPECT_EQ(client[0]["end"], "reset_received");
  auto failed = tcp_events(agent, refused.pid);
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0]["direction"], "connected");
  EXPECT_EQ(failed[0]["end"], "failed");
  EXPECT_EQ(failed[0]["remote"], (json{{"address", "127.0.0.1"}, {"port", pair.port}}));
  EXPECT_EQ(failed[0]["bytes_sent"], 0);
}

TEST_F(NetworkTcpTest, APortSelectionReportsItsPortAndKeepsOtherConnectionsInTheKernel) {
  int selected = free_port();
  std::string cfg = dir_.file("ports.yaml", "sensors:\n  file: {enabled: false}\n  network: {ports: [" +
                                                std::to_string(selected) + "]}\nmetrics: {enabled: false}\n");
  AgentRun agent({"run", "--config", cfg});
  ASSERT_TRUE(agent.ready()) << agent.stderr_text();
  Pair in = parse_pair(spawn({helper_path(), "tcp-pair", "10", "10", std::to_string(selected)}).out);
  Pair out = parse_pair(spawn({helper_path(), "tcp-pair", "10", "10"}).out);
  ASSERT_EQ(in.port, selected);
  ASSERT_NE(out.port, selected);
  ASSERT_EQ(agent.stop(), 0) << agent.stderr_text();
  EXPECT_EQ(tcp_events(agent, in.server).size(), 1u);
  EXPECT_EQ(tcp_events(agent, in.client).size(), 1u);
  EXPECT_TRUE(tcp_events(agent, out.server).empty());
  EXPECT_TRUE(tcp_events(agent, out.client).empty());
}

}  // namespace
}  // namespace waggle::test
