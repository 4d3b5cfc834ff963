// DNS queries against a real resolver (dnsmasq on 127.0.0.77) made by dig: names, types,
// response codes (NXDOMAIN included), answers, over UDP and TCP.
#include <gtest/gtest.h>

#include "agent_runner.hpp"
#include "test_servers.hpp"

namespace waggle::test {
namespace {

class DnsTest : public ::testing::Test {
 protected:
  void SetUp() override { skip_unless_bpf(); }
  TempDir dir_;
};

Spawned dig(std::vector<std::string> args) {
  args.insert(args.begin(), {"/usr/bin/dig", "+time=2", "+tries=1", std::string("@") + Dnsmasq::kAddress});
  return spawn(args);
}

std::vector<json> dns_events(const AgentRun& agent, int pid) {
  std::vector<json> found;
  for (auto& e : agent.events_of(pid))
    if (e["type"] == "dns.query") found.push_back(e);
  return found;
}

TEST_F(DnsTest, QueriesAreSeenWithNamesTypesCodesAndAnswers) {
  Dnsmasq dnsmasq(dir_);
  int metrics_port = free_port();
  std::string config = dir_.file("config.yaml",
                                 "sensors:\n  file: {enabled: false}\n"
                                 "metrics: {address: 127.0.0.1:" +
                                     std::to_string(metrics_port) + "}\n");
  AgentRun agent({"run", "--config", config});
  ASSERT_TRUE(agent.ready()) << agent.stderr_text();
  Spawned a = dig({"example.test", "A"});
  Spawned nx = dig({"www.nope.test", "AAAA"});
  Spawned tcp = dig({"+tcp", "example.test", "AAAA"});
  Spawned refused = dig({"other.test", "MX"});
  std::string page;
  for (int i = 0; i < 50; i++) {
    page = http_get(metrics_port, "/metrics");
    double n = 0;
    for (auto& [labels, v] : samples(page, "waggle_dns_queries_total", {{"service_name", "dig"}})) n += v;
    if (n >= 4) break;
    usleep(100000);
  }
  ASSERT_EQ(agent.stop(), 0) << agent.stderr_text();

  auto ev = dns_events(agent, a.pid);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0]["name"], "example.test");
  EXPECT_EQ(ev[0]["query_type"], "A");
  EXPECT_EQ(ev[0]["rcode"], "NOERROR");
  EXPECT_EQ(ev[0]["answers"], json::array({"A 10.1.2.3"}));
  EXPECT_EQ(ev[0]["server"], (json{{"address", Dnsmasq::kAddress}, {"port", 53}}));
  EXPECT_EQ(ev[0]["transport"], "udp");
  EXPECT_GT(ev[0]["latency_ns"].get<uint64_t>(), 0u);

  ev = dns_events(agent, nx.pid);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0]["name"], "www.nope.test");
  EXPECT_EQ(ev[0]["query_type"], "AAAA");
  EXPECT_EQ(ev[0]["rcode"], "NXDOMAIN");
  EXPECT_EQ(ev[0]["answers"], json::array());

  ev = dns_events(agent, tcp.pid);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0]["transport"], "tcp");
  EXPECT_EQ(ev[0]["rcode"], "NOERROR");
  EXPECT_EQ(ev[0]["answers"], json::array({"AAAA 2001:db8::3"}));

  ev = dns_events(agent, refused.pid);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0]["query_type"], "MX");
  EXPECT_EQ(ev[0]["rcode"], "REFUSED");

  auto counts = samples(page, "waggle_dns_queries_total", {{"service_name", "dig"}});
  std::map<std::string, double> by;
  for (auto& [labels, v] : counts)
    by[labels.at("dns_question_type") + " " + labels.at("dns_response_code")] += v;
  EXPECT_EQ(by, (std::map<std::string, double>{
                    {"A NOERROR", 1}, {"AAAA NXDOMAIN", 1}, {"AAAA NOERROR", 1}, {"MX REFUSED", 1}}));
}

// A query sent with sendto on an unconnected socket: its peer, and so its port, is known only
// from the call's address, which the kernel checks against a port selection when posting. The
// answer's sender is known only once recvfrom returns: from the socket tracepoint, its exit
// posts it (and without those tracepoints, the exits do it all).
TEST_F(DnsTest, APortSelectionAppliesToQueriesFromUnconnectedSockets) {
  Dnsmasq dnsmasq(dir_);
  for (auto [port, disabled] : {std::pair{53, ""}, {8053, ""}, {53, "socket tracepoints"}, {8053, "socket tracepoints"}}) {
    SCOPED_TRACE(std::to_string(port) + " " + disabled);
    std::string config =
        dir_.file("ports.yaml", "sensors:\n  file: {enabled: false}\n  network: {ports: [" +
                                    std::to_string(port) + "]}\nmetrics: {enabled: false}\n");
    AgentRun agent({"run", "--config", config}, {std::string("WAGGLE_DISABLE_FEATURES=") + disabled});
    ASSERT_TRUE(agent.ready()) << agent.stderr_text();
    Spawned query = spawn({helper_path(), "dns-sendto", Dnsmasq::kAddress, "example.test"});
    EXPECT_EQ(query.out, "rcode 0\n");
    ASSERT_EQ(agent.stop(), 0) << agent.stderr_text();
    auto ev = dns_events(agent, query.pid);
    if (port != 53) {
      EXPECT_EQ(ev.size(), 0u);
      continue;
    }
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_EQ(ev[0]["name"], "example.test");
    EXPECT_EQ(ev[0]["rcode"], "NOERROR");
    EXPECT_EQ(ev[0]["answers"], json::array({"A 10.1.2.3"}));
    EXPECT_GT(ev[0]["latency_ns"].get<uint64_t>(), 0u);  // the query was seen, not only the answer
  }
}

TEST_F(DnsTest, TheSystemResolverAskingForAAndAaaaTogetherIsSeenWhole) {
  Dnsmasq dnsmasq(dir_);
  std::string resolv = dir_.file("resolv.conf", std::string("nameserver ") + Dnsmasq::kAddress + "\n");
  std::string config =
      dir_.file("config.yaml", "sensors:\n  file: {enabled: false}\nmetrics: {enabled: false}\n");
  AgentRun agent({"run", "--config", config});
  ASSERT_TRUE(agent.ready()) << agent.stderr_text();
  // glibc's getaddrinfo, pointed at dnsmasq in a mount namespace of its own: it sends both
  // queries with one sendmmsg.
  Spawned getent = spawn({"/usr/bin/unshare", "-m", "/bin/sh", "-c",
                          "mount --bind " + resolv + " /etc/resolv.conf && exec getent ahosts example.test"});
  ASSERT_EQ(WEXITSTATUS(getent.status), 0) << getent.out;
  EXPECT_NE(getent.out.find("10.1.2.3"), std::string::npos) << getent.out;
  ASSERT_EQ(agent.stop(), 0) << agent.stderr_text();
  std::map<std::string, json> by_type;
  for (auto& e : dns_events(agent, getent.pid)) by_type[e["query_type"]] = e;
  ASSERT_EQ(by_type.size(), 2u);
  EXPECT_EQ(by_type["A"]["answers"], json::array({"A 10.1.2.3"}));
  EXPECT_EQ(by_type["AAAA"]["answers"], json::array({"AAAA 2001:db8::3"}));
  for (auto& [type, e] : by_type) {
    EXPECT_EQ(e["name"], "example.test");
    EXPECT_EQ(e["rcode"], "NOERROR");
    EXPECT_GT(e["latency_ns"].get<uint64_t>(), 0u) << type << ": the query itself was seen";
  }
}

TEST_F(DnsTest, TheSystemResolverOverTcpIsSeenThoughLengthsAndMessagesComeApart) {
  Dnsmasq dnsmasq(dir_);
  // use-vc: glibc asks over TCP, writing each length and query as separate buffers of one
  // writev and reading the answer's length and the answer with two reads.
  std::string resolv =
      dir_.file("resolv.conf", std::string("nameserver ") + Dnsmasq::kAddress + "\noptions use-vc\n");
  std::string config =
      dir_.file("config.yaml", "sensors:\n  file: {enabled: false}\nmetrics: {enabled: false}\n");
  AgentRun agent({"run", "--config", config});
  ASSERT_TRUE(agent.ready()) << agent.stderr_text();
  Spawned getent =
      spawn({"/usr/bin/unshare", "-m", "/bin/sh", "-c",
             "mount --bind " + resolv + " /etc/resolv.conf && exec getent ahostsv4 example.test"});
  ASSERT_EQ(WEXITSTATUS(getent.status), 0) << getent.out;
  ASSERT_EQ(agent.stop(), 0) << agent.stderr_text();
  auto events = dns_events(agent, getent.pid);
  ASSERT_GE(events.size(), 1u);
  bool a_seen = false;
  for (auto& e : events) {
    EXPECT_EQ(e["transport"], "tcp");
    EXPECT_EQ(e["rcode"], "NOERROR") << e.dump();
    if (e["query_type"] == "A") {
      a_seen = true;
      EXPECT_EQ(e["answers"], json::array({"A 10.1.2.3"}));
      EXPECT_GT(e["latency_ns"].get<uint64_t>(), 0u);
    }
  }
  EXPECT_TRUE(a_seen);
}

}  // namespace
}  // namespace waggle::test
