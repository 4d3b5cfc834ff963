// Policies enforced in the kernel on processes this test starts, inside a cgroup it made:
// every rule here is scoped to that cgroup, so nothing else on the host can be killed.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include "agent_runner.hpp"

namespace waggle::test {
namespace {

class PolicyEnforcementTest : public ::testing::Test {
 protected:
  void SetUp() override { skip_unless_bpf(); }

  // A policy protecting `secret` for processes of `cgroup`, except /usr/bin/cat.
  std::string write_policy(const TempDir& dir, const std::string& mode, const std::string& secret,
                           const TestCgroup& cgroup) {
    return dir.file("policy.yaml",
                    "apiVersion: waggle.dev/v1\n"
                    "kind: Policy\n"
                    "metadata: {name: protect-secret}\n"
                    "spec:\n"
                    "  mode: " +
                        mode +
                        "\n"
                        "  rules:\n"
                        "    - name: readers\n"
                        "      on: file.open\n"
                        "      match:\n"
                        "        path: {exact: [" +
                        secret +
                        "]}\n"
                        "        binary: {notIn: [/usr/bin/cat]}\n"
                        "        cgroup: {in: [" +
                        cgroup.relative() +
                        "]}\n"
                        "      action: kill\n");
  }

  std::vector<json> policy_events(const AgentRun& agent, int pid) {
    std::vector<json> out;
    for (auto& e : agent.events_of(pid))
      if (e["type"] == "policy.match") out.push_back(e);
    return out;
  }
};

TEST_F(PolicyEnforcementTest, KillStopsTheReaderBeforeItCanPrintAndSparesTheOthers) {
  TempDir dir;
  TestCgroup cgroup;
  std::string secret = dir.file("secret", "TOPSECRET");
  AgentRun agent({"run", "--policy", write_policy(dir, "enforce", secret, cgroup)});
  ASSERT_TRUE(agent.ready()) << agent.stderr_text();

  Spawned reader = spawn({helper_path(), "open-print", secret}, "", false, cgroup.path());
  Spawned cat = spawn({"/usr/bin/cat", secret}, "", false, cgroup.path());
  Spawned outside = spawn({helper_path(), "open-print", secret});
  ASSERT_EQ(agent.stop(), 0) << agent.stderr_text();

  EXPECT_TRUE(WIFSIGNALED(reader.status) && WTERMSIG(reader.status) == SIGKILL) << reader.status;
  EXPECT_EQ(reader.out, "");  // killed before the content reached user space
  EXPECT_EQ(cat.out, "TOPSECRET");
  EXPECT_EQ(outside.out, "TOPSECRET");

  auto events = policy_events(agent, reader.pid);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["policy"], "protect-secret");
  EXPECT_EQ(events[0]["rule"], "readers");
  EXPECT_EQ(events[0]["action"], "kill");
  EXPECT_EQ(events[0]["outcome"], "killed");
  EXPECT_EQ(events[0]["event"]["path"], secret);
  EXPECT_EQ(events[0]["process"]["binary"], helper_path());
  EXPECT_EQ(policy_events(agent, cat.pid).size(), 0u);
  EXPECT_EQ(policy_events(agent, outside.pid).size(), 0u);
}

TEST_F(PolicyEnforcementTest, APathTheEntryCannotReadIsJudgedAtTheExitAndStillKilled) {
  TempDir dir;
  TestCgroup cgroup;
  std::string secret = dir.file("secret", "TOPSECRET");
  AgentRun agent({"run", "--policy", write_policy(dir, "enforce", secret, cgroup)});
  ASSERT_TRUE(agent.ready()) << agent.stderr_text();
  Spawned reader = spawn({helper_path(), "open-unfaulted", secret}, "", false, cgroup.path());
  ASSERT_EQ(agent.stop(), 0);
  EXPECT_TRUE(WIFSIGNALED(reader.status) && WTERMSIG(reader.status) == SIGKILL) << reader.status;
  EXPECT_EQ(reader.out, "");
  ASSERT_EQ(policy_events(agent, reader.pid).size(), 1u);
  EXPECT_EQ(agent.final_stats()["lost"], 0);
}

TEST_F(PolicyEnforcementTest, MonitorModeLetsTheReaderRunAndSaysItWouldHaveBeenKilled) {
  TempDir dir;
  TestCgroup cgroup;
  std::string secret = dir.file("secret", "TOPSECRET");
  AgentRun agent({"run", "--policy", write_policy(dir, "monitor", secret, cgroup)});
  ASSERT_TRUE(agent.ready()) << agent.stderr_text();
  Spawned reader = spawn({helper_path(), "open-print", secret}, "", false, cgroup.path());
  ASSERT_EQ(agent.stop(), 0);
  EXPECT_TRUE(WIFEXITED(reader.status) && WEXITSTATUS(reader.status) == 0);
  EXPECT_EQ(reader.out, "TOPSECRET");
  auto events = policy_events(agent, reader.pid);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["outcome"], "would_kill");
}

// A listening TCP socket on 127.0.0.1 and a free port, closed at the end.
struct Listener {
  int fd = -1;
  int port = 0;
  Listener() {
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 || listen(fd, 16) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
      throw std::runtime_error("cannot listen on 127.0.0.1");
    port = ntohs(addr.sin_port);
  }
  ~Listener() { close(fd); }
};

TEST_F(PolicyEnforcementTest, ConnectToADeniedDestinationFailsWithEpermOnlyInsideTheCgroup) {
  TempDir dir;
  TestCgroup cgroup;
  Listener denied, allowed;
  std::string policy = dir.file("egress.yaml",
                                "apiVersion: waggle.dev/v1\nkind: Policy\nmetadata: {name: egress}\nspec:\n"
                                "  rules:\n    - name: no-port\n      on: network.connect\n      match:\n"
                                "        destination: {cidr: [127.0.0.0/8]}\n        port: [" +
                                    std::to_string(denied.port) +
                                    "]\n        protocol: [tcp]\n"
                                    "        cgroup: {in: [" +
                                    cgroup.relative() + "]}\n      action: deny\n");
  AgentRun agent({"run", "--policy", policy});
  ASSERT_TRUE(agent.ready()) << agent.stderr_text();
  // No rule on file.open: no policy program on the opens (they would slow every syscall).
  const std::vector<std::string> loaded = loaded_waggle_programs();
  for (const std::string& name : loaded) {
    EXPECT_FALSE(name.starts_with("wg_pol_open") || name.starts_with("wg_polx_") ||
                 name.starts_with("wg_pol_creat"))
        << name;
  }
  EXPECT_NE(std::find(loaded.begin(), loaded.end(), "wg_pol_conn4"), loaded.end());
  Spawned refused =
      spawn({helper_path(), "connect", "127.0.0.1", std::to_string(denied.port)}, "", false, cgroup.path());
  Spawned other_port =
      spawn({helper_path(), "connect", "127.0.0.1", std::to_string(allowed.port)}, "", false, cgroup.path());
  Spawned outside = spawn({helper_path(), "connect", "127.0.0.1", std::to_string(denied.port)});
  ASSERT_EQ(agent.stop(), 0) << agent.stderr_text();

  EXPECT_EQ(refused.out, "-1\n");  // -EPERM
  EXPECT_EQ(other_port.out, "0\n");
  EXPECT_EQ(outside.out, "0\n");
  auto events = policy_events(agent, refused.pid);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["policy"], "egress");
  EXPECT_EQ(events[0]["rule"], "no-port");
  EXPECT_EQ(events[0]["action"], "deny");
  EXPECT_EQ(events[0]["outcome"], "denied");
  EXPECT_EQ(events[0]["event"]["type"], "network.connect");
  EXPECT_EQ(events[0]["event"]["address"], "127.0.0.1");
  EXPECT_EQ(events[0]["event"]["port"], denied.port);
  EXPECT_EQ(events[0]["event"]["protocol"], "tcp");
  EXPECT_EQ(policy_events(agent, other_port.pid).size(), 0u);
  EXPECT_EQ(policy_events(agent, outside.pid).size(), 0u);
}

TEST_F(PolicyEnforcementTest, AUdpDatagramSentWithoutConnectToADeniedPortFailsWithEperm) {
  TempDir dir;
  TestCgroup cgroup;
  std::string policy = dir.file("udp.yaml",
                                "apiVersion: waggle.dev/v1\nkind: Policy\nmetadata: {name: no-dns}\nspec:\n"
                                "  rules:\n    - name: udp-53\n      on: network.connect\n      match:\n"
                                "        port: [53]\n        protocol: [udp]\n"
                                "        cgroup: {in: [" +
                                    cgroup.relative() + "]}\n      action: deny\n");
  AgentRun agent({"run", "--policy", policy});
  ASSERT_TRUE(agent.ready()) << agent.stderr_text();
  Spawned refused = spawn({helper_path(), "udp-sendto", "127.0.0.1", "53"}, "", false, cgroup.path());
  Spawned other_port = spawn({helper_path(), "udp-sendto", "127.0.0.1", "54"}, "", false, cgroup.path());
  Spawned outside = spawn({helper_path(), "udp-sendto", "127.0.0.1", "53"});
  ASSERT_EQ(agent.stop(), 0) << agent.stderr_text();

  EXPECT_EQ(refused.out, "-1\n");  // -EPERM
  EXPECT_EQ(other_port.out, "0\n");
  EXPECT_EQ(outside.out, "0\n");
  auto events = policy_events(agent, refused.pid);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["outcome"], "denied");
  EXPECT_EQ(events[0]["event"]["port"], 53);
  EXPECT_EQ(events[0]["event"]["protocol"], "udp");
  EXPECT_EQ(policy_events(agent, other_port.pid).size(), 0u);
  EXPECT_EQ(policy_events(agent, outside.pid).size(), 0u);
}

TEST_F(PolicyEnforcementTest, AnExecRuleKillsTheNewImageBeforeItRunsAnInstruction) {
  TempDir dir;
  TestCgroup cgroup;
  std::string secret = dir.file("secret", "TOPSECRET");
  std::string policy = dir.file("exec.yaml",
                                "apiVersion: waggle.dev/v1\nkind: Policy\nmetadata: {name: no-helper}\n"
                                "spec:\n  rules:\n    - on: process.exec\n      match:\n"
                                "        binary: {in: [" +
                                    helper_path() +
                                    "]}\n"
                                    "        cgroup: {in: [" +
                                    cgroup.relative() +
                                    "]}\n"
                                    "      action: kill\n");
  AgentRun agent({"run", "--policy", policy});
  ASSERT_TRUE(agent.ready()) << agent.stderr_text();
  Spawned helper = spawn({helper_path(), "open-print", secret}, "", false, cgroup.path());
  Spawned cat = spawn({"/usr/bin/cat", secret}, "", false, cgroup.path());
  ASSERT_EQ(agent.stop(), 0);
  EXPECT_TRUE(WIFSIGNALED(helper.status) && WTERMSIG(helper.status) == SIGKILL) << helper.status;
  EXPECT_EQ(helper.out, "");
  EXPECT_EQ(cat.out, "TOPSECRET");
  auto events = policy_events(agent, helper.pid);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["outcome"], "killed");
  EXPECT_EQ(events[0]["event"]["type"], "process.exec");
  EXPECT_EQ(events[0]["event"]["binary"], helper_path());
  // The image never ran: it opened nothing.
  for (auto& e : agent.events_of(helper.pid)) EXPECT_NE(e["type"], "file.open") << e.dump();
}

TEST_F(PolicyEnforcementTest, AnArgsSelectorKillsOnlyTheExecsCarryingTheArgument) {
  TempDir dir;
  TestCgroup cgroup;
  std::string long_arg(200, 'x');  // longer than a key: its pieces must not match "xxx..."
  std::string policy = dir.file("args.yaml",
                                "apiVersion: waggle.dev/v1\nkind: Policy\nmetadata: {name: no-flag}\n"
                                "spec:\n  rules:\n    - on: process.exec\n      match:\n"
                                "        args: {in: [--forbidden, \"" +
                                    std::string(62, 'x') + "\"]}\n        cgroup: {in: [" +
                                    cgroup.relative() + "]}\n      action: kill\n");
  AgentRun agent({"run", "--policy", policy});
  ASSERT_TRUE(agent.ready()) << agent.stderr_text();
  // Many arguments before it: the scan reaches it all the same.
  std::vector<std::string> argv = {helper_path(), "args"};
  for (int i = 0; i < 100; i++) argv.push_back("arg" + std::to_string(i));
  argv.push_back("--forbidden");
  Spawned flagged = spawn(argv, "", false, cgroup.path());
  Spawned near =
      spawn({helper_path(), "args", "--forbidden-not", "-forbidden", long_arg}, "", false, cgroup.path());
  Spawned outside = spawn({helper_path(), "args", "--forbidden"});
  ASSERT_EQ(agent.stop(), 0) << agent.stderr_text();
  EXPECT_TRUE(WIFSIGNALED(flagged.status) && WTERMSIG(flagged.status) == SIGKILL) << flagged.status;
  EXPECT_TRUE(WIFEXITED(near.status) && WEXITSTATUS(near.status) == 0) << near.status;
  EXPECT_TRUE(WIFEXITED(outside.status) && WEXITSTATUS(outside.status) == 0) << outside.status;
  auto events = policy_events(agent, flagged.pid);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["outcome"], "killed");
  EXPECT_EQ(policy_events(agent, near.pid).size(), 0u);
}

TEST_F(PolicyEnforcementTest, ParentBinaryAndGidSelectWhoIsJudged) {
  TempDir dir;
  TestCgroup cgroup;
  std::string secret = dir.file("secret", "TOPSECRET");
  char self[4096];
  ssize_t n = readlink("/proc/self/exe", self, sizeof(self));
  ASSERT_GT(n, 0);
  std::string policy = dir.file("parent.yaml",
                                "apiVersion: waggle.dev/v1\nkind: Policy\nmetadata: {name: parents}\n"
                                "spec:\n  rules:\n    - on: file.open\n      match:\n"
                                "        path: {exact: [" +
                                    secret +
                                    "]}\n"
                                    "        parentBinary: {in: [" +
                                    std::string(self, n) +
                                    "]}\n"
                                    "        gid: {in: [" +
                                    std::to_string(getegid()) +
                                    "]}\n"
                                    "        cgroup: {in: [" +
                                    cgroup.relative() +
                                    "]}\n"
                                    "      action: log\n");
  AgentRun agent({"run", "--policy", policy});
  ASSERT_TRUE(agent.ready()) << agent.stderr_text();
  Spawned direct = spawn({helper_path(), "open-print", secret}, "", false, cgroup.path());
  // Through a shell that forks: the helper's parent is then the shell, not this test.
  Spawned via_shell =
      spawn({"/bin/sh", "-c", helper_path() + " open-print " + secret + "; true"}, "", false, cgroup.path());
  ASSERT_EQ(agent.stop(), 0);
  EXPECT_EQ(direct.out, "TOPSECRET");
  EXPECT_EQ(via_shell.out, "TOPSECRET");
  EXPECT_EQ(policy_events(agent, direct.pid).size(), 1u);
  int shell_matches = 0;
  for (auto& e : agent.events())
    if (e["type"] == "policy.match" && e["process"]["ppid"] == via_shell.pid) shell_matches++;
  EXPECT_EQ(shell_matches, 0);
}

TEST_F(PolicyEnforcementTest, RateLimitedLogPostsOnlyItsRateAndCountsTheRest) {
  TempDir dir;
  TestCgroup cgroup;
  std::string target = dir.file("target");
  std::string policy = dir.file("rate.yaml",
                                "apiVersion: waggle.dev/v1\nkind: Policy\nmetadata: {name: rate}\n"
                                "spec:\n  rules:\n    - on: file.open\n      match:\n"
                                "        path: {exact: [" +
                                    target +
                                    "]}\n"
                                    "        cgroup: {in: [" +
                                    cgroup.relative() +
                                    "]}\n"
                                    "      action: log\n      rateLimit: 1/s\n");
  // No sensor but the policy: every record read from the ring is a policy record.
  std::string config = dir.file("quiet.yaml",
                                "sensors:\n  process: {enabled: false}\n  file: {enabled: false}\n"
                                "  network: {enabled: false}\nmetrics: {enabled: false}\n");
  AgentRun agent({"run", "--config", config, "--policy", policy});
  ASSERT_TRUE(agent.ready()) << agent.stderr_text();
  Spawned storm = spawn({helper_path(), "storm", target, "20"}, "", false, cgroup.path());  // well within 1 s
  ASSERT_EQ(agent.stop(), 0);
  EXPECT_EQ(policy_events(agent, storm.pid).size(), 1u);
  json stats = agent.final_stats();
  EXPECT_EQ(stats["rate_limited"], 19);
  EXPECT_EQ(stats["records"], 1);  // the 19 held back never left the kernel
  EXPECT_EQ(stats["lost"], 0);
}

TEST_F(PolicyEnforcementTest, APolicyThisVersionCannotEnforceIsRefusedAndNothingIsLoaded) {
  TempDir dir;
  std::string file = dir.file("egress.yaml",
                              "apiVersion: waggle.dev/v1\nkind: Policy\nmetadata: {name: no-egress}\n"
                              "spec:\n  rules:\n    - on: network.connect\n      match: {port: [25]}\n"
                              "      action: kill\n");
  Spawned run = spawn({WAGGLE_BINARY, "run", "--policy", file}, "", true);
  EXPECT_EQ(WEXITSTATUS(run.status), 2);
  EXPECT_NE(run.out.find("kill on network.connect is not possible (use deny)"), std::string::npos) << run.out;
  EXPECT_EQ(waggle_programs_left(), std::vector<std::string>{});
}

}  // namespace
}  // namespace waggle::test
