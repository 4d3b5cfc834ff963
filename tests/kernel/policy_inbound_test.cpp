// network.accept rules on servers this test starts, inside a cgroup it made, reached from
// loopback addresses: 127.0.0.2 plays the outsider, 127.0.0.1 the neighbour.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include "agent_runner.hpp"
#include "test_servers.hpp"

namespace waggle::test {
namespace {

std::string inbound_policy(const TempDir& dir, const std::string& name, const std::string& match,
                           const std::string& action) {
  return dir.file(name + ".yaml", "apiVersion: waggle.dev/v1\nkind: Policy\nmetadata: {name: " + name +
                                      "}\nspec:\n  rules:\n    - name: outsider\n      on: network.accept\n"
                                      "      match:\n" +
                                      match + "      action: " + action + "\n");
}

std::vector<json> inbound_matches(const AgentRun& agent) {
  std::vector<json> out;
  for (auto& e : agent.events())
    if (e["type"] == "policy.match" && e["event"]["type"] == "network.accept") out.push_back(e);
  return out;
}

TEST(PolicyInboundTest, DenyDropsANewConnectionFromTheSourceBeforeAnyProcessAcceptsIt) {
  skip_unless_bpf();
  TempDir dir;
  TestCgroup cgroup;
  int port = free_port();
  std::string policy =
      inbound_policy(dir, "no-outsiders",
                     "        source: {cidr: [127.0.0.2/32]}\n        port: [" + std::to_string(port) +
                         "]\n        cgroup: {in: [" + cgroup.relative() + "]}\n",
                     "deny");
  AgentRun agent({"run", "--policy", policy});
  ASSERT_TRUE(agent.ready()) << agent.stderr_text();
  std::string p = std::to_string(port);
  Spawned server =
      spawn({helper_path(), "inbound", "tcp", p, "127.0.0.1", "127.0.0.2"}, "", false, cgroup.path());
  // The same server outside the cgroup: the rule does not reach it.
  Spawned outside = spawn({helper_path(), "inbound", "tcp", p, "127.0.0.2"});
  ASSERT_EQ(agent.stop(), 0) << agent.stderr_text();

  EXPECT_EQ(server.out, "127.0.0.1 connected\n127.0.0.2 timeout\naccepted 127.0.0.1\n");
  EXPECT_EQ(outside.out, "127.0.0.2 connected\naccepted 127.0.0.2\n");
  auto events = inbound_matches(agent);
  ASSERT_GE(events.size(), 1u);  // one per SYN the client sent in its second
  for (auto& e : events) {
    EXPECT_EQ(e["policy"], "no-outsiders");
    EXPECT_EQ(e["rule"], "outsider");
    EXPECT_EQ(e["outcome"], "denied");
    EXPECT_EQ(e["event"]["peer_address"], "127.0.0.2");
    EXPECT_EQ(e["event"]["local_port"], port);
    EXPECT_EQ(e["event"]["protocol"], "tcp");
    EXPECT_EQ(e["process"], nullptr);  // no process acts when a packet arrives
  }
  EXPECT_EQ(events[0]["event"]["peer_port"], events.back()["event"]["peer_port"]);  // SYN retransmits
}

TEST(PolicyInboundTest, DenyReadsTheSourceOfIpv6PacketsToo) {
  skip_unless_bpf();
  TempDir dir;
  TestCgroup cgroup;
  int port = free_port(), other_port = free_port();
  std::string policy = inbound_policy(dir, "no-loopback6",
                                      "        source: {cidr: [\"::1/128\"]}\n        port: [" +
                                          std::to_string(port) + "]\n        cgroup: {in: [" + cgroup.relative() +
                                          "]}\n",
                                      "deny");
  AgentRun agent({"run", "--policy", policy});
  ASSERT_TRUE(agent.ready()) << agent.stderr_text();
  Spawned denied = spawn({helper_path(), "inbound", "tcp", std::to_string(port), "::1"}, "", false, cgroup.path());
  Spawned other =
      spawn({helper_path(), "inbound", "tcp", std::to_string(other_port), "::1"}, "", false, cgroup.path());
  ASSERT_EQ(agent.stop(), 0) << agent.stderr_text();

  EXPECT_EQ(denied.out, "::1 timeout\n");
  EXPECT_EQ(other.out, "::1 connected\naccepted ::1\n");  // another port
  auto events = inbound_matches(agent);
  ASSERT_GE(events.size(), 1u);
  EXPECT_EQ(events[0]["outcome"], "denied");
  EXPECT_EQ(events[0]["event"]["peer_address"], "::1");
  EXPECT_EQ(events[0]["event"]["local_port"], port);
  EXPECT_GT(events[0]["event"]["peer_port"].get<int>(), 0);  // read past the 40-byte IPv6 header
}

TEST(PolicyInboundTest, DenyDropsUdpDatagramsFromTheSource) {
  skip_unless_bpf();
  TempDir dir;
  TestCgroup cgroup;
  int port = free_port();
  std::string policy = inbound_policy(
      dir, "no-outsiders",
      "        source: {cidr: [127.0.0.2/32]}\n        protocol: [udp]\n        cgroup: {in: [" +
          cgroup.relative() + "]}\n",
      "deny");
  AgentRun agent({"run", "--policy", policy});
  ASSERT_TRUE(agent.ready()) << agent.stderr_text();
  std::string p = std::to_string(port);
  Spawned server =
      spawn({helper_path(), "inbound", "udp", p, "127.0.0.2", "127.0.0.1"}, "", false, cgroup.path());
  Spawned tcp = spawn({helper_path(), "inbound", "tcp", p, "127.0.0.2"}, "", false, cgroup.path());
  // A client's connected socket gets its answer from the denied source: only servers are judged.
  Spawned client = spawn({helper_path(), "udp-roundtrip", "127.0.0.2"}, "", false, cgroup.path());
  ASSERT_EQ(agent.stop(), 0) << agent.stderr_text();

  EXPECT_EQ(server.out, "received 127.0.0.1\n");
  EXPECT_EQ(tcp.out, "127.0.0.2 connected\naccepted 127.0.0.2\n");  // the rule says udp
  EXPECT_EQ(client.out, "answered\n");
  auto events = inbound_matches(agent);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["outcome"], "denied");
  EXPECT_EQ(events[0]["event"]["peer_address"], "127.0.0.2");
  EXPECT_EQ(events[0]["event"]["local_port"], port);
  EXPECT_EQ(events[0]["event"]["protocol"], "udp");
}

TEST(PolicyInboundTest, KillEndsTheServerBeforeAcceptReturnsTheOutsidersConnection) {
  skip_unless_bpf();
  TempDir dir;
  TestCgroup cgroup;
  int port = free_port();
  std::string match =
      "        source: {cidr: [127.0.0.2/32]}\n        cgroup: {in: [" + cgroup.relative() + "]}\n";
  std::string kill = inbound_policy(dir, "kill-server", match, "kill");
  AgentRun agent({"run", "--policy", kill});
  ASSERT_TRUE(agent.ready()) << agent.stderr_text();
  std::string p = std::to_string(port);
  Spawned server =
      spawn({helper_path(), "inbound", "tcp", p, "127.0.0.1", "127.0.0.2"}, "", false, cgroup.path());
  ASSERT_EQ(agent.stop(), 0) << agent.stderr_text();

  EXPECT_TRUE(WIFSIGNALED(server.status) && WTERMSIG(server.status) == SIGKILL) << server.status;
  // Both connected (the kernel completes handshakes); accept returned only the first.
  EXPECT_EQ(server.out, "127.0.0.1 connected\n127.0.0.2 connected\naccepted 127.0.0.1\n");
  auto events = inbound_matches(agent);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["process"]["pid"], server.pid);
  EXPECT_EQ(events[0]["outcome"], "killed");
  EXPECT_EQ(events[0]["event"]["peer_address"], "127.0.0.2");
  EXPECT_EQ(events[0]["event"]["local_port"], port);
  EXPECT_GT(events[0]["event"]["peer_port"].get<int>(), 0);
}

TEST(PolicyInboundTest, LogNamesTheAcceptingProcessAndThePeer) {
  skip_unless_bpf();
  TempDir dir;
  TestCgroup cgroup;
  int port = free_port();
  std::string policy = inbound_policy(
      dir, "audit-inbound",
      "        binary: {in: [" + helper_path() + "]}\n        cgroup: {in: [" + cgroup.relative() + "]}\n",
      "log");
  AgentRun agent({"run", "--policy", policy});
  ASSERT_TRUE(agent.ready()) << agent.stderr_text();
  std::string p = std::to_string(port);
  Spawned server =
      spawn({helper_path(), "inbound", "tcp", p, "127.0.0.2", "127.0.0.1"}, "", false, cgroup.path());
  ASSERT_EQ(agent.stop(), 0) << agent.stderr_text();

  EXPECT_EQ(server.out, "127.0.0.2 connected\n127.0.0.1 connected\naccepted 127.0.0.2\naccepted 127.0.0.1\n");
  auto events = inbound_matches(agent);
  ASSERT_EQ(events.size(), 2u);
  for (size_t i = 0; i < 2; i++) {
    EXPECT_EQ(events[i]["process"]["pid"], server.pid);
    EXPECT_EQ(events[i]["outcome"], "logged");
    EXPECT_EQ(events[i]["event"]["local_port"], port);
    EXPECT_EQ(events[i]["event"]["protocol"], "tcp");
  }
  EXPECT_EQ(events[0]["event"]["peer_address"], "127.0.0.2");
  EXPECT_EQ(events[1]["event"]["peer_address"], "127.0.0.1");
}

}  // namespace
}  // namespace waggle::test
