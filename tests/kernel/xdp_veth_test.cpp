// Packet rules end to end: `waggle xdp apply` on one end of a veth pair between two network
// namespaces the test creates (never eth0 or lo), real traffic from the other end, exact
// counters, replacement under traffic, refusal of a foreign program, detach. Everything is
// removed at the end, also when the test fails.
#include <arpa/inet.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

#include "agent_runner.hpp"
#include "test_servers.hpp"
#include "core/netns.hpp"
#include "packets.hpp"
#include "xdp/compile.hpp"
#include "xdp/xdp_filter.hpp"

namespace waggle::test {
namespace {

void sh(const std::string& command) {
  Spawned s = spawn({"/bin/sh", "-c", command}, "", true);
  ASSERT_EQ(s.status, 0) << command << ": " << s.out;
}

bool bpffs_at_sys_fs_bpf() {
  struct statfs fs {};
  return statfs("/sys/fs/bpf", &fs) == 0 && uint32_t(fs.f_type) == 0xcafe4a11u;
}

// The BPF file system that `waggle xdp apply` mounts at /sys/fs/bpf when there was none, so
// that its pins outlive it: unmounted again when the test made it and nothing is pinned in it
// (bpf_preload's maps.debug and progs.debug come with every mount).
class BpffsMount {
 public:
  BpffsMount() : was_mounted_(bpffs_at_sys_fs_bpf()) {}
  ~BpffsMount() {
    if (was_mounted_ || !bpffs_at_sys_fs_bpf()) return;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/sys/fs/bpf", ec)) {
      std::string name = entry.path().filename().string();
      if (name != "maps.debug" && name != "progs.debug") return;
    }
    umount2("/sys/fs/bpf", 0);
  }

 private:
  bool was_mounted_;
};

// Two network namespaces joined by a veth pair: A (10.203.0.1, the traffic's source) and B
// (10.203.0.2, where the rules go).
class VethPair {
 public:
  VethPair() {
    std::string id = std::to_string(getpid());
    a = "wgxa" + id;
    b = "wgxb" + id;
    dev_a = "wgxa" + id;
    dev_b = "wgxb" + id;
    sh("ip netns add " + a + " && ip netns add " + b + " && ip link add " + dev_a + " netns " + a +
       " type veth peer name " + dev_b + " netns " + b + " && ip -n " + a + " addr add 10.203.0.1/24 dev " + dev_a + " && ip -n " + a + " addr add 10.203.0.3/24 dev " + dev_a +
       " && ip -n " + b + " addr add 10.203.0.2/24 dev " + dev_b + " && ip -n " + a + " link set " + dev_a +
       " up && ip -n " + b + " link set " + dev_b + " up && ip -n " + a + " link set lo up && ip -n " + b +
       " link set lo up");
  }
  ~VethPair() {
    // Detached before the namespace goes, or the pin would outlive the interface.
    spawn({WAGGLE_BINARY, "xdp", "detach", "--netns", b, "--interface", dev_b}, "", true);
    spawn({"/bin/sh", "-c", "ip netns del " + a + "; ip netns del " + b}, "", true);
  }
  BpffsMount bpffs;  // destroyed after the detach above
  std::string a, b, dev_a, dev_b;
};

// Runs fn in a child process inside that network namespace; the child's exit status is fn's.
class InNetns {
 public:
  InNetns(const std::string& netns, std::function<int()> fn) {
    pid_ = fork();
    if (pid_ == 0) {
      std::string error;
      if (!enter_netns(netns, &error)) _exit(120);
      _exit(fn());
    }
  }
  ~InNetns() {
    if (pid_ > 0 && !done_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  int wait() {
    int status = 0;
    waitpid(pid_, &status, 0);
    done_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  void stop() { kill(pid_, SIGTERM); }

 private:
  pid_t pid_ = -1;
  bool done_ = false;
};

// TCP: accepts and echoes one read per connection, until killed.
int echo_server() {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{AF_INET, htons(8080), {inet_addr("10.203.0.2")}, {}};
  if (bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || listen(s, 64) != 0) return 1;
  for (;;) {
    int c = accept(s, nullptr, nullptr);
    if (c < 0) continue;
    char buf[64];
    ssize_t n = read(c, buf, sizeof(buf));
    if (n > 0 && write(c, buf, size_t(n)) != n) return 2;
    close(c);
  }
}

// UDP: counts datagrams on the port until SIGTERM, then writes to `out` the count, and the
// count of those from 10.203.0.3.
volatile sig_atomic_t udp_stop = 0;
int udp_counter(uint16_t port, const std::string& out) {
  signal(SIGTERM, [](int) { udp_stop = 1; });
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  int big = 8 << 20;
  setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
  sockaddr_in addr{AF_INET, htons(port), {inet_addr("10.203.0.2")}, {}};
  if (bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) return 1;
  { std::ofstream(out + ".ready") << "1"; }
  uint64_t n = 0, from_other = 0;
  char buf[2048];
  auto drain = [&] {
    sockaddr_in from{};
    socklen_t len = sizeof(from);
    while (recvfrom(s, buf, sizeof(buf), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &len) > 0) {
      n++;
      from_other += from.sin_addr.s_addr == inet_addr("10.203.0.3");
      len = sizeof(from);
    }
  };
  while (!udp_stop) {
    pollfd p{s, POLLIN, 0};
    if (poll(&p, 1, 50) > 0) drain();
  }
  drain();
  std::ofstream(out) << n << " " << from_other;
  return 0;
}

void wait_for_file(const std::string& path) {
  for (int i = 0; i < 200 && access(path.c_str(), F_OK) != 0; i++) usleep(10000);
}

// The count a udp_counter wrote (or, with second, the count from 10.203.0.3).
uint64_t read_count(const std::string& path, bool second = false) {
  std::ifstream in(path);
  uint64_t n = 0, other = 0;
  in >> n >> other;
  return second ? other : n;
}

// From namespace A (from `source`): `count` datagrams to 10.203.0.2:port, one every `gap_us`.
int send_udp(uint16_t port, int count, int gap_us, const char* source = "10.203.0.1") {
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in from{AF_INET, 0, {inet_addr(source)}, {}};
  if (bind(s, reinterpret_cast<sockaddr*>(&from), sizeof(from)) != 0) return 2;
  sockaddr_in addr{AF_INET, htons(port), {inet_addr("10.203.0.2")}, {}};
  char payload[32] = "legitimate";
  for (int i = 0; i < count; i++) {
    if (sendto(s, payload, sizeof(payload), 0, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != ssize_t(sizeof(payload)))
      return 1;
    if (gap_us) usleep(useconds_t(gap_us));
  }
  return 0;
}

// From namespace A: `n` TCP exchanges with the echo server; returns how many failed.
int tcp_exchanges(int n) {
  int failed = 0;
  for (int i = 0; i < n; i++) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{2, 0};
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    sockaddr_in addr{AF_INET, htons(8080), {inet_addr("10.203.0.2")}, {}};
    char buf[8] = {};
    bool ok = connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 && write(s, "hello", 5) == 5 &&
              read(s, buf, sizeof(buf)) == 5 && std::string(buf) == "hello";
    failed += ok ? 0 : 1;
    close(s);
  }
  return failed;
}

// From namespace A: crafted frames on the interface, as they are.
int send_frames(const std::string& dev, const Bytes& frame, int count) {
  int s = socket(AF_PACKET, SOCK_RAW, htons(0x0800));
  sockaddr_ll to{};
  to.sll_family = AF_PACKET;
  to.sll_ifindex = int(if_nametoindex(dev.c_str()));
  to.sll_halen = 6;
  for (int i = 0; i < count; i++)
    if (sendto(s, frame.data(), frame.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof(to)) != ssize_t(frame.size()))
      return 1;
  return 0;
}

std::string rules_file(const TempDir& dir, const std::string& name, const std::string& rules) {
  return dir.file(name + ".yaml", "apiVersion: waggle.dev/v1\nkind: PacketRules\nmetadata: {name: " + name +
                                      "}\nspec:\n  rules:\n" + rules);
}

const char* kRules = R"(    - name: sack-panic
      action: drop
      match: {protocol: tcp, tcp_flags: syn, tcp_option: {kind: 2, value: 0-499}}
    - {name: flood, action: drop, match: {protocol: udp, destination_port: 9999}}
)";

// The packets counted for a rule in `waggle xdp status` output ("  NAME  PACKETS  BYTES").
uint64_t status_packets(const std::string& status, const std::string& rule) {
  size_t at = status.find("  " + rule + " ");
  if (at == std::string::npos) return UINT64_MAX;
  return std::stoull(status.substr(at + 2 + rule.size()));
}

Spawned waggle(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {WAGGLE_BINARY, "xdp"};
  argv.insert(argv.end(), args.begin(), args.end());
  return spawn(argv, "", true);
}

TEST(XdpVeth, RulesDropWhatTheySayCountExactlyAndTcpKeepsWorking) {
  VethPair net;
  TempDir dir;
  std::string file = rules_file(dir, "edge", kRules);
  Spawned apply = waggle({"apply", file, "--netns", net.b, "--interface", net.dev_b});
  ASSERT_EQ(apply.status, 0) << apply.out;
  EXPECT_NE(apply.out.find("edge: 2 rules of " + file + " attached to " + net.dev_b + " (native mode)"),
            std::string::npos)
      << apply.out;
  InNetns server(net.b, echo_server);
  std::string flood_out = dir.path() + "/flood";
  InNetns flood_counter(net.b, [&] { return udp_counter(9999, flood_out); });
  wait_for_file(flood_out + ".ready");
  usleep(100000);
  // The SACK Panic shape, 50 times, then 20 real connections, then a 1000-datagram flood.
  Bytes syn = frame4({.src = "10.203.0.1", .dst = "10.203.0.2"},
                     tcp({.sport = 40001, .dport = 8080, .options = cat({nop(), nop(), mss(48)})}));
  InNetns syns(net.a, [&] { return send_frames(net.dev_a, syn, 50); });
  ASSERT_EQ(syns.wait(), 0);
  InNetns clients(net.a, [] { return tcp_exchanges(20); });
  EXPECT_EQ(clients.wait(), 0) << "TCP exchanges failed through the rules";
  InNetns flood(net.a, [] { return send_udp(9999, 1000, 0); });
  ASSERT_EQ(flood.wait(), 0);
  usleep(200000);
  flood_counter.stop();
  ASSERT_EQ(flood_counter.wait(), 0);
  EXPECT_EQ(read_count(flood_out), 0u) << "the flood reached its socket";
  Spawned status = waggle({"status", "--netns", net.b, "--interface", net.dev_b});
  ASSERT_EQ(status.status, 0) << status.out;
  EXPECT_EQ(status_packets(status.out, "sack-panic"), 50u) << status.out;
  EXPECT_EQ(status_packets(status.out, "flood"), 1000u) << status.out;
  EXPECT_EQ(status_packets(status.out, "(malformed)"), 0u) << status.out;
  // Detached: the interface has no XDP program, and status says so.
  Spawned detach = waggle({"detach", "--netns", net.b, "--interface", net.dev_b});
  ASSERT_EQ(detach.status, 0) << detach.out;
  Spawned link = spawn({"/bin/sh", "-c", "ip -n " + net.b + " link show " + net.dev_b}, "", true);
  EXPECT_EQ(link.out.find("xdp"), std::string::npos) << link.out;
  EXPECT_NE(waggle({"status", "--netns", net.b, "--interface", net.dev_b}).out.find("no packet rules attached by waggle"),
            std::string::npos);
}

// A capture file of these frames, as tcpdump reads it (pcap format, Ethernet).
void write_pcap(const std::string& path, const std::vector<Bytes>& frames) {
  std::ofstream out(path, std::ios::binary);
  auto u32 = [&](uint32_t v) { out.write(reinterpret_cast<const char*>(&v), 4); };
  auto u16 = [&](uint16_t v) { out.write(reinterpret_cast<const char*>(&v), 2); };
  u32(0xa1b2c3d4);
  u16(2);
  u16(4);
  u32(0);
  u32(0);
  u32(65535);
  u32(1);  // LINKTYPE_ETHERNET
  uint32_t t = 1765000000;
  for (const Bytes& f : frames) {
    u32(t++);
    u32(0);
    u32(uint32_t(f.size()));
    u32(uint32_t(f.size()));
    out.write(reinterpret_cast<const char*>(f.data()), std::streamsize(f.size()));
  }
}

TEST(XdpVeth, TcpdumpExpressionDropsExactlyWhatTcpdumpMatches) {
  if (access("/usr/bin/tcpdump", X_OK) != 0) GTEST_SKIP() << "tcpdump (Debian tcpdump) is not installed";
  VethPair net;
  TempDir dir;
  const std::string expression =
      "(tcp[tcpflags] & tcp-syn != 0 and tcp[20:2] = 0x0204 and tcp[22:2] < 500) or udp dst port 53";
  std::vector<Bytes> frames;
  for (int i = 0; i < 120; i++) {
    Ipv4 ip{.src = "10.203.0.1", .dst = "10.203.0.2"};
    switch (i % 4) {
      case 0:
        frames.push_back(frame4(ip, tcp({.sport = uint16_t(41000 + i), .dport = 8080, .options = mss(uint16_t(300 + 5 * i))})));
        break;
      case 1:
        frames.push_back(frame4(ip, tcp({.sport = uint16_t(41000 + i), .dport = 8080, .flags = 0x10, .options = mss(48)})));
        break;
      case 2:
        ip.proto = 17;
        frames.push_back(frame4(ip, udp(uint16_t(5000 + i), uint16_t(i % 3 ? 53 : 54))));
        break;
      default:
        ip.proto = 17;
        frames.push_back(frame4(ip, udp(53, 7000)));
    }
  }
  std::string capture = dir.path() + "/traffic.pcap";
  write_pcap(capture, frames);
  Spawned tcpdump = spawn({"/usr/bin/tcpdump", "-nn", "-r", capture, expression});
  ASSERT_EQ(tcpdump.status, 0) << tcpdump.out;
  uint64_t matched = uint64_t(std::count(tcpdump.out.begin(), tcpdump.out.end(), '\n'));
  ASSERT_GT(matched, 10u);
  ASSERT_LT(matched, frames.size());
  std::string file = rules_file(dir, "expr", "    - {name: expr, action: drop, match: {pcap: \"" + expression + "\"}}\n");
  Spawned apply = waggle({"apply", file, "--netns", net.b, "--interface", net.dev_b});
  ASSERT_EQ(apply.status, 0) << apply.out;
  InNetns sender(net.a, [&] {
    for (const Bytes& f : frames)
      if (send_frames(net.dev_a, f, 1) != 0) return 1;
    return 0;
  });
  ASSERT_EQ(sender.wait(), 0);
  usleep(200000);
  Spawned status = waggle({"status", "--netns", net.b, "--interface", net.dev_b});
  EXPECT_EQ(status_packets(status.out, "expr"), matched) << status.out << "tcpdump:\n" << tcpdump.out;
}

TEST(XdpVeth, AFloodFromOneSourceIsRateLimitedWhileAnotherSourcePasses) {
  VethPair net;
  TempDir dir;
  std::string file = rules_file(dir, "limit", R"(    - name: per-source
      action: rate_limit
      rate_limit: {rate: 200, burst: 100}
      match: {protocol: udp, destination_port: 7777}
)");
  Spawned apply = waggle({"apply", file, "--netns", net.b, "--interface", net.dev_b});
  ASSERT_EQ(apply.status, 0) << apply.out;
  std::string out = dir.path() + "/received";
  InNetns counter(net.b, [&] { return udp_counter(7777, out); });
  wait_for_file(out + ".ready");
  const int kFlood = 5000, kOther = 50;
  auto start = std::chrono::steady_clock::now();
  InNetns flood(net.a, [] { return send_udp(7777, kFlood, 0, "10.203.0.1"); });
  InNetns other(net.a, [] { return send_udp(7777, kOther, 2000, "10.203.0.3"); });  // 25 a second
  ASSERT_EQ(flood.wait(), 0);
  ASSERT_EQ(other.wait(), 0);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  usleep(200000);
  counter.stop();
  ASSERT_EQ(counter.wait(), 0);
  uint64_t received = read_count(out);
  Spawned status = waggle({"status", "--netns", net.b, "--interface", net.dev_b});
  uint64_t dropped = status_packets(status.out, "per-source");
  // Every datagram was either dropped by the rule or received: nothing else lost.
  EXPECT_EQ(dropped + received, uint64_t(kFlood + kOther)) << status.out;
  // The other source, under its rate, lost nothing; the flood got its burst and its rate.
  EXPECT_EQ(read_count(out, true), uint64_t(kOther));
  uint64_t flood_received = received - read_count(out, true);
  EXPECT_GE(flood_received, 100u);
  EXPECT_LE(double(flood_received), 100 + 200 * seconds + 2) << "over " << seconds << " s";
  EXPECT_GE(dropped, uint64_t(kFlood) - uint64_t(100 + 200 * seconds + 2));
}

// `waggle run` with an xdp entry: attached at start, its counters exact in /metrics, detached
// at stop; an entry kept_attached stays after stop; a bad rules file attaches nothing.
TEST(XdpVeth, RunAttachesFromItsConfigurationExportsMetricsAndDetachesAtStop) {
  VethPair net;
  TempDir dir;
  std::string rules = rules_file(dir, "edge", std::string(R"(    - name: seen
      action: sample
      sample: {bytes: 64, rate: 100000, burst: 1000}
      match: {protocol: udp, destination_port: 9999}
)") + kRules);
  int port = free_port();
  auto config = [&](bool keep) {
    return dir.file(keep ? "keep.yaml" : "config.yaml",
                    "sensors: {file: {enabled: false}, network: {enabled: false}}\n"
                    "profiler: {enabled: false}\n"
                    "metrics: {address: 127.0.0.1:" + std::to_string(port) + "}\n"
                    "xdp:\n  - {interface: " + net.dev_b + ", netns: " + net.b + ", rules: " + rules +
                        (keep ? ", keep_attached: true" : "") + "}\n");
  };
  auto attached = [&] {
    Spawned link = spawn({"/bin/sh", "-c", "ip -n " + net.b + " link show " + net.dev_b}, "", true);
    return link.out.find("prog/xdp") != std::string::npos;
  };
  {
    AgentRun agent({"run", "--config", config(false)});
    ASSERT_TRUE(agent.ready()) << agent.stderr_text();
    EXPECT_TRUE(attached());
    InNetns flood(net.a, [] { return send_udp(9999, 300, 0); });
    ASSERT_EQ(flood.wait(), 0);
    usleep(200000);
    std::string metrics = http_get(port, "/metrics");
    std::string labels = "{rule=\"flood\",action=\"drop\",interface=\"" + net.dev_b + "\",netns=\"";
    size_t at = metrics.find("waggle_xdp_rule_packets_total" + labels);
    ASSERT_NE(at, std::string::npos) << metrics;
    EXPECT_EQ(std::stoull(metrics.substr(metrics.find("} ", at) + 2)), 300u) << metrics.substr(at, 200);
    at = metrics.find("waggle_xdp_rule_bytes_total" + labels);
    ASSERT_NE(at, std::string::npos);
    EXPECT_EQ(std::stoull(metrics.substr(metrics.find("} ", at) + 2)), 300u * (14 + 20 + 8 + 32));
    EXPECT_NE(metrics.find("waggle_xdp_rule_packets_total{rule=\"sack-panic\",action=\"drop\""), std::string::npos);
    EXPECT_NE(metrics.find("waggle_xdp_rule_packets_total{rule=\"default\",action=\"pass\""), std::string::npos);
    // Rules replaced under the running agent: it follows them to the new program's samples.
    std::string again = rules_file(dir, "again", R"(    - name: seen-again
      action: sample
      sample: {bytes: 64, rate: 100000, burst: 1000}
      match: {protocol: udp, destination_port: 9999}
)");
    Spawned replaced = waggle({"apply", again, "--netns", net.b, "--interface", net.dev_b});
    ASSERT_EQ(replaced.status, 0) << replaced.out;
    usleep(1500000);
    InNetns more(net.a, [] { return send_udp(9999, 50, 0); });
    ASSERT_EQ(more.wait(), 0);
    usleep(300000);
    EXPECT_EQ(agent.stop(), 0) << agent.stderr_text();
    // The sample rules' packets are events of the agent's own stream.
    size_t samples = 0, samples_again = 0;
    for (const json& e : agent.events()) {
      if (e["type"] != "packet.sample") continue;
      if (e["rule"] == "seen-again") {
        samples_again++;
        continue;
      }
      samples++;
      EXPECT_EQ(e["rule"], "seen");
      EXPECT_EQ(e["interface"], net.dev_b);
      EXPECT_EQ(e["udp"]["dport"], 9999);
      EXPECT_EQ(e["ip"]["src"], "10.203.0.1");
    }
    EXPECT_EQ(samples, 300u);
    EXPECT_EQ(samples_again, 50u);
  }
  EXPECT_FALSE(attached()) << "still attached after the agent stopped";
  {
    AgentRun agent({"run", "--config", config(true)});
    ASSERT_TRUE(agent.ready()) << agent.stderr_text();
    EXPECT_EQ(agent.stop(), 0);
  }
  EXPECT_TRUE(attached()) << "keep_attached: the rules stay";
  ASSERT_EQ(waggle({"detach", "--netns", net.b, "--interface", net.dev_b}).status, 0);
  // A bad rules file: the agent refuses to start, naming the file and line; nothing attached.
  std::string bad = dir.file("bad.yaml", "apiVersion: waggle.dev/v1\nkind: PacketRules\nmetadata: {name: b}\nspec:\n"
                                         "  rules:\n    - {action: drop, match: {source: 10.0.0.1/8}}\n");
  std::string bad_config = dir.file("bad-config.yaml", "sensors: {file: {enabled: false}, network: {enabled: false}}\n"
                                                       "xdp:\n  - {interface: " + net.dev_b + ", netns: " + net.b +
                                                           ", rules: " + bad + "}\n");
  Spawned refused = spawn({WAGGLE_BINARY, "run", "--config", bad_config}, "", true);
  EXPECT_EQ(WEXITSTATUS(refused.status), 2) << refused.out;
  EXPECT_NE(refused.out.find(bad + ":6:38: spec.rules[0].match.source: 10.0.0.1/8: host bits set"), std::string::npos)
      << refused.out;
  EXPECT_EQ(refused.out.find("sensor on"), std::string::npos) << "a sensor was loaded: " << refused.out;
  EXPECT_FALSE(attached());
}

// sample: a prefix of each matching packet reaches `waggle xdp samples`, decoded, and a pcap
// file tcpdump reads; never more than the rule's burst and rate.
TEST(XdpVeth, SampledPacketsArriveDecodedAndAsAPcapWithinTheirRate) {
  VethPair net;
  TempDir dir;
  std::string file = rules_file(dir, "sampled", R"(    - name: watch-5555
      action: sample
      sample: {bytes: 64, rate: 1, burst: 12}
      match: {protocol: udp, destination_port: 5555}
)");
  ASSERT_EQ(waggle({"apply", file, "--netns", net.b, "--interface", net.dev_b}).status, 0);
  std::string pcap = dir.path() + "/samples.pcap";
  std::string out = dir.path() + "/samples.json";
  pid_t reader = fork();
  if (reader == 0) {
    int fd = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 1);
    execl(WAGGLE_BINARY, WAGGLE_BINARY, "xdp", "samples", "--netns", net.b.c_str(), "--interface", net.dev_b.c_str(),
          "--duration", "2", "--pcap", pcap.c_str(), nullptr);
    _exit(127);
  }
  usleep(300000);
  // One reader at a time: readers of one ring would split its samples.
  Spawned second = waggle({"samples", "--netns", net.b, "--interface", net.dev_b, "--duration", "1"});
  EXPECT_EQ(WEXITSTATUS(second.status), 1) << second.out;
  EXPECT_NE(second.out.find("are read by another process already"), std::string::npos) << second.out;
  InNetns sender(net.a, [] { return send_udp(5555, 40, 1000); });  // 40 datagrams of 74 bytes
  ASSERT_EQ(sender.wait(), 0);
  int status = 0;
  waitpid(reader, &status, 0);
  ASSERT_EQ(WEXITSTATUS(status), 0);
  std::ifstream in(out);
  std::string line;
  std::vector<std::string> lines;
  while (std::getline(in, line)) lines.push_back(line);
  // The burst of 12, and (at 1 a second) at most one more while the datagrams went.
  ASSERT_GE(lines.size(), 12u);
  ASSERT_LE(lines.size(), 13u);
  for (const std::string& l : lines) {
    json j = json::parse(l);
    EXPECT_EQ(j["type"], "packet.sample");
    EXPECT_EQ(j["rule"], "watch-5555");
    EXPECT_EQ(j["interface"], net.dev_b);
    EXPECT_EQ(j["length"], 14 + 20 + 8 + 32);
    EXPECT_EQ(j["captured"], 64);
    EXPECT_EQ(j["ip"]["src"], "10.203.0.1");
    EXPECT_EQ(j["ip"]["dst"], "10.203.0.2");
    EXPECT_EQ(j["ip"]["protocol"], 17);
    EXPECT_EQ(j["udp"]["dport"], 5555);
  }
  // The rule counted every datagram, sampled or not.
  Spawned status_out = waggle({"status", "--netns", net.b, "--interface", net.dev_b});
  EXPECT_EQ(status_packets(status_out.out, "watch-5555"), 40u) << status_out.out;
  Spawned read = spawn({"/usr/bin/tcpdump", "-nn", "-r", pcap, "udp dst port 5555"});
  EXPECT_EQ(uint64_t(std::count(read.out.begin(), read.out.end(), '\n')), lines.size()) << read.out;
}

TEST(XdpVeth, ReplacingTheRulesUnderTrafficLosesNoLegitimatePacket) {
  VethPair net;
  TempDir dir;
  std::string first = rules_file(dir, "first", kRules);
  // Both drop the flood to 9999, the second through a tcpdump expression (a chain to swap).
  std::string second = rules_file(dir, "second", R"(    - {name: flood, action: drop, match: {pcap: "udp dst port 9999"}}
    - {name: watch, action: count, match: {protocol: udp, destination_port: 7777}}
)");
  ASSERT_EQ(waggle({"apply", first, "--netns", net.b, "--interface", net.dev_b}).status, 0);
  std::string out = dir.path() + "/legit";
  InNetns counter(net.b, [&] { return udp_counter(7777, out); });
  wait_for_file(out + ".ready");
  std::string flood_out = dir.path() + "/flood";
  InNetns flood_counter(net.b, [&] { return udp_counter(9999, flood_out); });
  wait_for_file(flood_out + ".ready");
  const int kSent = 3000;
  InNetns sender(net.a, [] { return send_udp(7777, kSent, 400); });
  InNetns flood(net.a, [] { return send_udp(9999, 3000, 400, "10.203.0.3"); });
  for (int i = 0; i < 8; i++) {
    Spawned s = waggle({"apply", i % 2 ? first : second, "--netns", net.b, "--interface", net.dev_b});
    ASSERT_EQ(s.status, 0) << s.out;
    EXPECT_NE(s.out.find("replaced the rules"), std::string::npos) << s.out;
    usleep(50000);
  }
  ASSERT_EQ(sender.wait(), 0);
  ASSERT_EQ(flood.wait(), 0);
  usleep(300000);
  counter.stop();
  flood_counter.stop();
  ASSERT_EQ(counter.wait(), 0);
  ASSERT_EQ(flood_counter.wait(), 0);
  EXPECT_EQ(read_count(out), uint64_t(kSent));
  // Never judged by neither rule set: not one datagram of the flood got through a swap.
  EXPECT_EQ(read_count(flood_out), 0u);
  Spawned status = waggle({"status", "--netns", net.b, "--interface", net.dev_b});
  EXPECT_NE(status.out.find("rules first from " + first), std::string::npos) << status.out;
}

// doctor asks the kernel which interfaces run XDP in their driver: a veth does, lo does not.
TEST(XdpVeth, DoctorSaysWhichInterfacesSupportNativeXdp) {
  VethPair net;
  Spawned doctor = spawn({"/usr/sbin/ip", "netns", "exec", net.b, WAGGLE_BINARY, "doctor"}, "", true);
  size_t at = doctor.out.find("xdp        ready     native XDP on: ");
  ASSERT_NE(at, std::string::npos) << doctor.out;
  std::string line = doctor.out.substr(at, doctor.out.find('\n', at) - at);
  EXPECT_NE(line.find("native XDP on: " + net.dev_b + ";"), std::string::npos) << line;
  EXPECT_NE(line.find("generic mode only on: lo"), std::string::npos) << line;
}

TEST(XdpVeth, AnInterfaceWithAnotherXdpProgramIsNotTakenOver) {
  VethPair net;
  TempDir dir;
  std::string file = rules_file(dir, "edge", kRules);
  // Someone else's program: attached without a link, as `ip link set dev X xdp` does.
  CompiledRules none;
  std::string error;
  auto other = XdpFilter::load(none, &error);
  ASSERT_TRUE(other) << error;
  int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(self, 0);
  ASSERT_TRUE(enter_netns(net.b, &error)) << error;
  int ifindex = int(if_nametoindex(net.dev_b.c_str()));
  int attached = bpf_xdp_attach(ifindex, other->program_fd(), XDP_FLAGS_SKB_MODE, nullptr);
  ASSERT_EQ(setns(self, CLONE_NEWNET), 0);
  ASSERT_EQ(attached, 0) << strerror(-attached);
  Spawned apply = waggle({"apply", file, "--netns", net.b, "--interface", net.dev_b});
  EXPECT_EQ(WEXITSTATUS(apply.status), 1);
  EXPECT_NE(apply.out.find(net.dev_b + " already has an XDP program that waggle did not attach: program "),
            std::string::npos)
      << apply.out;
  EXPECT_NE(apply.out.find("(wg_xdp_filter, generic mode)"), std::string::npos) << apply.out;
  ASSERT_TRUE(enter_netns(net.b, &error)) << error;
  uint32_t still = 0;
  bpf_xdp_query_id(ifindex, XDP_FLAGS_SKB_MODE, &still);  // the other program was left alone
  bpf_xdp_detach(ifindex, XDP_FLAGS_SKB_MODE, nullptr);
  ASSERT_EQ(setns(self, CLONE_NEWNET), 0);
  close(self);
  EXPECT_NE(still, 0u);
  EXPECT_NE(waggle({"status", "--netns", net.b, "--interface", net.dev_b}).out.find("no packet rules attached by waggle"),
            std::string::npos);
}

}  // namespace
}  // namespace waggle::test
