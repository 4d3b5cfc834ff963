// Policies enforced in the kernel on processes this test starts, inside a cgroup it made:
// every rule here is scoped to that cgroup, so nothing else on the host can be killed.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

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

TEST_F(PolicyEnforcementTest, APolicyThisVersionCannotEnforceIsRefusedAndNothingIsLoaded) {
  TempDir dir;
  std::string file =
      dir.file("exec.yaml",
               "apiVersion: waggle.dev/v1\nkind: Policy\nmetadata: {name: no-curl}\n"
               "spec:\n  rules:\n    - on: process.exec\n      match: {binary: {in: [/usr/bin/curl]}}\n"
               "      action: kill\n");
  Spawned run = spawn({WAGGLE_BINARY, "run", "--policy", file}, "", true);
  EXPECT_EQ(WEXITSTATUS(run.status), 2);
  EXPECT_NE(run.out.find("process.exec rules are not enforced by this version of waggle yet"),
            std::string::npos)
      << run.out;
  EXPECT_EQ(waggle_programs_left(), std::vector<std::string>{});
}

}  // namespace
}  // namespace waggle::test
