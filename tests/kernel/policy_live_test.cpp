// Policies applied and deleted in the running agent over its control socket.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include <filesystem>
#include <thread>

#include "agent_runner.hpp"

namespace waggle::test {
namespace {

uint64_t wall_ns() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return uint64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// The epoch ns of an RFC 3339 time with 9 fractional digits, UTC.
uint64_t parse_time(const std::string& t) {
  tm parts{};
  strptime(t.substr(0, 19).c_str(), "%Y-%m-%dT%H:%M:%S", &parts);
  return uint64_t(timegm(&parts)) * 1'000'000'000 + std::stoull(t.substr(20, 9));
}

class PolicyLiveTest : public ::testing::Test {
 protected:
  void SetUp() override { skip_unless_bpf(); }

  Spawned policy_command(std::vector<std::string> args) {
    args.insert(args.begin(), {WAGGLE_BINARY, "policy"});
    args.push_back("--socket");
    args.push_back(socket_);
    return spawn(args, "", true);
  }

  // Polls `policy list` until a rule of the policy in force has matched, for at most 10 s.
  bool wait_until_matched() {
    for (int i = 0; i < 1000; i++) {
      std::string out = policy_command({"list"}).out;
      auto at = out.find("matched ");
      if (at != std::string::npos && out[at + 8] != '0') return true;
      usleep(10000);
    }
    return false;
  }

  TempDir dir_;
  std::string socket_ = dir_.path() + "/control.sock";
  std::string policy_dir_ = dir_.path() + "/policies";
};

TEST_F(PolicyLiveTest, ApplyEnforcesAtOnceDeleteStopsAndTheDirectoryKeepsWhatIsInForce) {
  TestCgroup cgroup;
  std::string secret = dir_.file("secret", "TOPSECRET");
  std::string policy =
      dir_.file("kill.yaml",
                "apiVersion: waggle.dev/v1\nkind: Policy\nmetadata: {name: guard}\nspec:\n"
                "  rules:\n    - on: file.open\n      match:\n        path: {exact: [" +
                    secret + "]}\n        cgroup: {in: [" + cgroup.relative() + "]}\n      action: kill\n");
  AgentRun agent({"run", "--control-socket", socket_, "--policy-dir", policy_dir_});
  ASSERT_TRUE(agent.ready()) << agent.stderr_text();

  Spawned before = spawn({helper_path(), "open-print", secret}, "", false, cgroup.path());
  Spawned applied = policy_command({"apply", policy});
  EXPECT_EQ(WEXITSTATUS(applied.status), 0) << applied.out;
  EXPECT_EQ(applied.out, "applied guard (1 rule); 1 policy in force\n");
  Spawned listed = policy_command({"list"});
  EXPECT_EQ(listed.out, "guard\tenforce\t1 rule\t" + policy_dir_ + "/guard.yaml\n  rule-1\tmatched 0\n");
  Spawned during = spawn({helper_path(), "open-print", secret}, "", false, cgroup.path());
  EXPECT_EQ(policy_command({"list"}).out,
            "guard\tenforce\t1 rule\t" + policy_dir_ + "/guard.yaml\n  rule-1\tmatched 1\n");
  Spawned deleted = policy_command({"delete", "guard"});
  EXPECT_EQ(deleted.out, "deleted guard; 0 policies in force\n");
  Spawned after = spawn({helper_path(), "open-print", secret}, "", false, cgroup.path());
  Spawned again = policy_command({"delete", "guard"});
  EXPECT_EQ(WEXITSTATUS(again.status), 2);
  EXPECT_EQ(again.out, "waggle: no policy named \"guard\" is in force\n");
  EXPECT_FALSE(std::filesystem::exists(policy_dir_ + "/guard.yaml"));
  ASSERT_EQ(agent.stop(), 0);

  EXPECT_EQ(before.out, "TOPSECRET");
  EXPECT_TRUE(WIFSIGNALED(during.status) && WTERMSIG(during.status) == SIGKILL);
  EXPECT_EQ(during.out, "");
  EXPECT_EQ(after.out, "TOPSECRET");
}

TEST_F(PolicyLiveTest, TheAgentNeverKillsItselfWhateverAPolicySays) {
  // Only waggle binaries of this build tree match, and of them only the agent opens files in
  // the policy directory (when it keeps an applied policy there).
  std::string policy = dir_.file("self.yaml",
                                 "apiVersion: waggle.dev/v1\nkind: Policy\nmetadata: {name: self}\n"
                                 "spec:\n  rules:\n    - on: file.open\n      match:\n"
                                 "        path: {prefix: [" +
                                     policy_dir_ +
                                     "/]}\n"
                                     "        binary: {in: [" +
                                     std::string(WAGGLE_BINARY) +
                                     "]}\n"
                                     "      action: kill\n");
  AgentRun agent({"run", "--control-socket", socket_, "--policy-dir", policy_dir_});
  ASSERT_TRUE(agent.ready()) << agent.stderr_text();
  Spawned applied = policy_command({"apply", policy});  // the agent then writes self.yaml: a match
  EXPECT_EQ(WEXITSTATUS(applied.status), 0) << applied.out;
  Spawned listed = policy_command({"list"});  // it is still alive and answering
  EXPECT_NE(listed.out.find("self\tenforce"), std::string::npos) << listed.out;
  ASSERT_EQ(agent.stop(), 0) << agent.stderr_text();
  int refused = 0;
  for (auto& e : agent.events())
    if (e["type"] == "policy.match" && e["policy"] == "self") {
      EXPECT_EQ(e["outcome"], "refused") << e.dump();
      refused++;
    }
  EXPECT_GE(refused, 1);
}

TEST_F(PolicyLiveTest, ABadPolicyIsRefusedWithItsPositionAndTheOneInForceStays) {
  std::string good =
      dir_.file("good.yaml",
                "apiVersion: waggle.dev/v1\nkind: Policy\nmetadata: {name: audit}\nspec:\n"
                "  rules:\n    - on: file.open\n      match: {path: {prefix: [/nonexistent-waggle/]}}\n"
                "      action: log\n");
  std::string bad = dir_.file("bad.yaml",
                              "apiVersion: waggle.dev/v1\nkind: Policy\nmetadata: {name: audit}\nspec:\n"
                              "  rules:\n    - on: file.open\n      match: {path: {prefix: [relative/]}}\n"
                              "      action: log\n");
  AgentRun agent({"run", "--control-socket", socket_, "--policy-dir", policy_dir_});
  ASSERT_TRUE(agent.ready()) << agent.stderr_text();
  EXPECT_EQ(WEXITSTATUS(policy_command({"apply", good}).status), 0);
  Spawned refused = policy_command({"apply", bad});
  EXPECT_EQ(WEXITSTATUS(refused.status), 2);
  EXPECT_NE(refused.out.find(bad + ":7:31: spec.rules[0].match.path.prefix[0]: expected"), std::string::npos)
      << refused.out;
  EXPECT_EQ(policy_command({"list"}).out,
            "audit\tenforce\t1 rule\t" + policy_dir_ + "/audit.yaml\n  rule-1\tmatched 0\n");
  ASSERT_EQ(agent.stop(), 0);
}

TEST_F(PolicyLiveTest, ApplyAndDeleteDuringAnOpenStormLoseNothingAndMatchOnlyWhileInForce) {
  std::string target = dir_.file("storm-target");
  std::string config = dir_.file(
      "config.yaml", "output: {rotate: {max_size: 1GiB}}\nsensors:\n  file:\n    exact: [" + target + "]\n");
  std::string policy = dir_.file("log.yaml",
                                 "apiVersion: waggle.dev/v1\nkind: Policy\nmetadata: {name: watch}\nspec:\n"
                                 "  rules:\n    - on: file.open\n      match: {path: {exact: [" +
                                     target + "]}}\n      action: log\n");
  AgentRun agent({"run", "--config", config, "--control-socket", socket_, "--policy-dir", policy_dir_});
  ASSERT_TRUE(agent.ready()) << agent.stderr_text();

  // The storm runs until the test has seen the policy match five times, so that a slow machine
  // cannot end it before the first apply takes effect.
  std::string stop = dir_.path() + "/stop";
  Spawned storm;
  std::thread runner([&] { storm = spawn({helper_path(), "storm-until", target, stop}); });
  std::vector<std::pair<uint64_t, uint64_t>> in_force;  // [applied, deleted] windows, generously bounded
  for (int i = 0; i < 5; i++) {
    uint64_t from = wall_ns();
    EXPECT_EQ(WEXITSTATUS(policy_command({"apply", policy}).status), 0);
    EXPECT_TRUE(wait_until_matched()) << "the policy in force never matched the storm";
    EXPECT_EQ(WEXITSTATUS(policy_command({"delete", "watch"}).status), 0);
    in_force.emplace_back(from, wall_ns());
    usleep(20000);
  }
  dir_.file("stop");
  runner.join();
  ASSERT_EQ(WEXITSTATUS(storm.status), 0);
  const int opens = std::stoi(storm.out);
  ASSERT_EQ(agent.stop(), 0) << agent.stderr_text();

  int opened = 0, matched = 0, outside = 0;
  for (auto& e : agent.events_of(storm.pid)) {
    if (e["type"] == "file.open") opened++;
    if (e["type"] != "policy.match") continue;
    matched++;
    uint64_t t = parse_time(e["time"]);
    bool inside = false;
    for (auto [from, to] : in_force) inside |= t >= from && t <= to;
    if (!inside) outside++;
  }
  EXPECT_EQ(opened, opens);  // the file sensor saw every open, through every swap
  EXPECT_GT(matched, 0);
  EXPECT_EQ(outside, 0) << "policy matches while no policy was in force";
  EXPECT_EQ(agent.final_stats()["lost"], 0);
}

}  // namespace
}  // namespace waggle::test
