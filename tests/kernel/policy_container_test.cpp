// The container selector: processes are in a container when their cgroup, or one of its
// ancestors, is named for one (docker-<id>.scope, ...). The cgroups here are made by the test
// with ids it drew at random: no other process on the host can be in them.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <random>

#include "agent_runner.hpp"

namespace waggle::test {
namespace {

std::string random_container_id() {
  std::random_device random;
  std::string id;
  while (id.size() < 64) id += "0123456789abcdef"[random() % 16];
  return id;
}

bool killed(const Spawned& s) { return WIFSIGNALED(s.status) && WTERMSIG(s.status) == SIGKILL; }

TEST(PolicyContainerTest, AContainerRuleKillsItsProcessesAndTheirSubCgroupsOnly) {
  skip_unless_bpf();
  TempDir dir;
  std::string id = random_container_id(), other_id = random_container_id();
  TestCgroup test;
  TestCgroup container(test, "docker-" + id + ".scope");
  TestCgroup nested(container, "init.scope");  // e.g. systemd inside the container
  TestCgroup other(test, "cri-containerd-" + other_id + ".scope");
  std::string secret = dir.file("secret", "TOPSECRET");
  // By the short id, as `docker ps` shows it.
  std::string policy =
      dir.file("container.yaml",
               "apiVersion: waggle.dev/v1\nkind: Policy\nmetadata: {name: in-container}\n"
               "spec:\n  rules:\n    - name: secret\n      on: file.open\n      match:\n"
               "        path: {exact: [" +
                   secret + "]}\n        container: {in: [" + id.substr(0, 12) + "]}\n      action: kill\n");
  AgentRun agent({"run", "--policy", policy});
  ASSERT_TRUE(agent.ready()) << agent.stderr_text();
  Spawned inside = spawn({helper_path(), "open-print", secret}, "", false, container.path());
  Spawned below = spawn({helper_path(), "open-print", secret}, "", false, nested.path());
  Spawned elsewhere = spawn({helper_path(), "open-print", secret}, "", false, other.path());
  Spawned outside = spawn({helper_path(), "open-print", secret}, "", false, test.path());
  ASSERT_EQ(agent.stop(), 0) << agent.stderr_text();

  EXPECT_TRUE(killed(inside)) << inside.status;
  EXPECT_EQ(inside.out, "");
  EXPECT_TRUE(killed(below)) << below.status;
  EXPECT_EQ(below.out, "");
  EXPECT_EQ(elsewhere.out, "TOPSECRET");
  EXPECT_EQ(outside.out, "TOPSECRET");
  auto matches = [&](int pid) {
    std::vector<json> out;
    for (auto& e : agent.events_of(pid))
      if (e["type"] == "policy.match") out.push_back(e);
    return out;
  };
  auto events = matches(inside.pid);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["policy"], "in-container");
  EXPECT_EQ(events[0]["outcome"], "killed");
  EXPECT_EQ(events[0]["process"]["container_id"], id);
  ASSERT_EQ(matches(below.pid).size(), 1u);
  EXPECT_EQ(matches(elsewhere.pid).size(), 0u);
  EXPECT_EQ(matches(outside.pid).size(), 0u);
}

TEST(PolicyContainerTest, NotInSparesTheListedContainerAndJudgesTheOthers) {
  skip_unless_bpf();
  TempDir dir;
  std::string id = random_container_id(), other_id = random_container_id();
  TestCgroup test;
  TestCgroup trusted(test, id);  // the cgroupfs driver names the cgroup by the bare id
  TestCgroup other(test, "crio-" + other_id + ".scope");
  std::string secret = dir.file("secret", "TOPSECRET");
  // notIn alone reaches every process outside the container: the rule is also narrowed to the
  // test's helper opening the test's own file.
  std::string policy = dir.file("container.yaml",
                                "apiVersion: waggle.dev/v1\nkind: Policy\nmetadata: {name: trusted-only}\n"
                                "spec:\n  rules:\n    - on: file.open\n      match:\n"
                                "        path: {exact: [" +
                                    secret + "]}\n        binary: {in: [" + helper_path() +
                                    "]}\n        container: {notIn: [" + id + "]}\n      action: kill\n");
  AgentRun agent({"run", "--policy", policy});
  ASSERT_TRUE(agent.ready()) << agent.stderr_text();
  Spawned spared = spawn({helper_path(), "open-print", secret}, "", false, trusted.path());
  Spawned judged = spawn({helper_path(), "open-print", secret}, "", false, other.path());
  ASSERT_EQ(agent.stop(), 0) << agent.stderr_text();
  EXPECT_EQ(spared.out, "TOPSECRET");
  EXPECT_TRUE(killed(judged)) << judged.status;
  EXPECT_EQ(judged.out, "");
}

// Events name a process's container as policies judge it: a process in a sub-cgroup of a
// container (here two levels down, under a cgroup named for another id) is in the outermost one.
TEST(PolicyContainerTest, EventsNameTheOutermostContainerOfAProcessInItsSubCgroup) {
  skip_unless_bpf();
  std::string id = random_container_id(), inner_id = random_container_id();
  TestCgroup test;
  TestCgroup container(test, "docker-" + id + ".scope");
  TestCgroup inner(container, inner_id);
  TestCgroup workers(inner, "workers");
  AgentRun agent({"trace", "exec"});
  ASSERT_TRUE(agent.ready()) << agent.stderr_text();
  // Alive for a while: the agent reads the cgroup path of a process it has not seen before.
  Spawned below = spawn({helper_path(), "sleep", "500"}, "", false, workers.path());
  Spawned inside = spawn({helper_path(), "sleep", "500"}, "", false, container.path());
  Spawned outside = spawn({helper_path(), "sleep", "500"}, "", false, test.path());
  ASSERT_EQ(agent.stop(), 0) << agent.stderr_text();
  auto container_of = [&](int pid) {
    for (auto& e : agent.events_of(pid))
      if (e["type"] == "process.exec") return e["process"]["container_id"];
    return json("no exec event");
  };
  EXPECT_EQ(container_of(below.pid), id);
  EXPECT_EQ(container_of(inside.pid), id);
  EXPECT_TRUE(container_of(outside.pid).is_null()) << container_of(outside.pid);
}

}  // namespace
}  // namespace waggle::test
