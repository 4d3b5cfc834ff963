// The process sensor against the real kernel: processes started here, exact values checked.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>

#include "agent_runner.hpp"

namespace waggle::test {
namespace {

std::string self_binary() {
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf));
  return std::string(buf, n > 0 ? n : 0);
}

json only(const std::vector<json>& events, const std::string& type) {
  json found;
  int count = 0;
  for (auto& e : events)
    if (e["type"] == type) {
      found = e;
      count++;
    }
  EXPECT_EQ(count, 1) << "expected exactly one " << type;
  return found;
}

class ProcessSensorTest : public ::testing::Test {
 protected:
  void SetUp() override { skip_unless_bpf(); }
};

TEST_F(ProcessSensorTest, ExecCarriesArgvExactlyWithSpacesQuotesEmptyAndNonUtf8) {
  AgentRun agent({"trace", "exec"});
  ASSERT_TRUE(agent.ready()) << agent.stderr_text();
  TempDir cwd;
  std::vector<std::string> argv = {helper_path(),    "args", "two words", "quote\"d'", "",
                                   "\xff\xfe-bytes", "é ✓",  "tab\there"};
  Spawned child = spawn(argv, cwd.path());
  ASSERT_EQ(agent.stop(), 0) << agent.stderr_text();

  auto events = agent.events_of(child.pid);
  json exec = only(events, "process.exec");
  const json& p = exec["process"];
  EXPECT_EQ(p["pid"], child.pid);
  EXPECT_EQ(p["tid"], child.pid);
  EXPECT_EQ(p["ppid"], getpid());
  EXPECT_EQ(p["uid"], geteuid());
  EXPECT_EQ(p["gid"], getegid());
  EXPECT_EQ(p["comm"], std::string("waggle_test_helper").substr(0, 15));
  EXPECT_EQ(p["binary"], helper_path());
  EXPECT_EQ(p["cwd"], cwd.path());
  ASSERT_EQ(p["args"].size(), argv.size());
  for (size_t i = 0; i < argv.size(); i++) {
    if (i == 5) continue;  // the non-UTF-8 argument, checked below
    EXPECT_EQ(p["args"][i], argv[i]) << "argument " << i;
  }
  EXPECT_EQ(p["args"][5], "\xef\xbf\xbd\xef\xbf\xbd-bytes");  // each invalid byte is U+FFFD
  ASSERT_TRUE(p.contains("args_b64"));
  for (size_t i = 0; i < argv.size(); i++)
    EXPECT_EQ(base64_decode(p["args_b64"][i]), argv[i]) << "argument " << i;
  EXPECT_FALSE(p.contains("args_truncated"));
  EXPECT_GT(p["cgroup_id"].get<uint64_t>(), 0u);
  std::string exec_id = p["exec_id"];
  EXPECT_EQ(exec_id.substr(exec_id.rfind(':') + 1), std::to_string(child.pid));
  EXPECT_EQ(exec["parent"]["pid"], getpid());
  EXPECT_EQ(exec["parent"]["binary"], self_binary());
  EXPECT_FALSE(exec["parent"]["exec_id"].get<std::string>().empty());

  json exit = only(events, "process.exit");
  EXPECT_EQ(exit["exit_code"], 0);
  EXPECT_TRUE(exit["signal"].is_null());
  EXPECT_EQ(exit["process"]["exec_id"], exec_id);
}

TEST_F(ProcessSensorTest, HundredsOfArgumentsArriveInOrder) {
  AgentRun agent({"trace", "exec"});
  ASSERT_TRUE(agent.ready()) << agent.stderr_text();
  std::vector<std::string> argv = {helper_path(), "args"};
  for (int i = 0; i < 600; i++) argv.push_back("arg-" + std::to_string(i));
  Spawned child = spawn(argv);
  ASSERT_EQ(agent.stop(), 0);
  json exec = only(agent.events_of(child.pid), "process.exec");
  EXPECT_EQ(exec["process"]["args"], json(argv));
  EXPECT_FALSE(exec["process"].contains("args_truncated"));
}

TEST_F(ProcessSensorTest, ArgvLongerThanTheLimitIsMarkedTruncated) {
  AgentRun agent({"trace", "exec"});
  ASSERT_TRUE(agent.ready()) << agent.stderr_text();
  std::vector<std::string> argv = {helper_path(), "args"};
  for (int i = 0; i < 100; i++) argv.push_back(std::string(200, 'a' + i % 26));  // ~20 KB > 16 KiB
  Spawned child = spawn(argv);
  ASSERT_EQ(agent.stop(), 0);
  json p = only(agent.events_of(child.pid), "process.exec")["process"];
  EXPECT_EQ(p["args_truncated"], true);
  // What is there is exactly the start of the real command line: 16384 bytes in all.
  std::string joined;
  for (auto& a : argv) joined += a + '\0';
  std::string got;
  for (auto& a : p["args"]) got += a.get<std::string>() + '\0';
  got.pop_back();  // the last piece was cut, it had no NUL
  EXPECT_EQ(got.size(), 16384u);
  EXPECT_EQ(got, joined.substr(0, 16384));
}

TEST_F(ProcessSensorTest, ExitCodesAndSignalsAreReported) {
  AgentRun agent({"trace", "exec"});
  ASSERT_TRUE(agent.ready()) << agent.stderr_text();
  Spawned code7 = spawn({helper_path(), "exit", "7"});
  Spawned killed = spawn({helper_path(), "signal", "9"});
  Spawned termed = spawn({helper_path(), "signal", "15"});
  ASSERT_EQ(agent.stop(), 0);
  json e7 = only(agent.events_of(code7.pid), "process.exit");
  EXPECT_EQ(e7["exit_code"], 7);
  EXPECT_TRUE(e7["signal"].is_null());
  json ek = only(agent.events_of(killed.pid), "process.exit");
  EXPECT_TRUE(ek["exit_code"].is_null());
  EXPECT_EQ(ek["signal"], "SIGKILL");
  json et = only(agent.events_of(termed.pid), "process.exit");
  EXPECT_EQ(et["signal"], "SIGTERM");
}

TEST_F(ProcessSensorTest, AMultiThreadedProcessExitsOnce) {
  AgentRun agent({"trace", "exec"});
  ASSERT_TRUE(agent.ready()) << agent.stderr_text();
  std::vector<int> pids;
  for (int i = 0; i < 20; i++) pids.push_back(spawn({helper_path(), "threads", "8", "5"}).pid);
  ASSERT_EQ(agent.stop(), 0);
  for (int pid : pids) {
    json exit = only(agent.events_of(pid), "process.exit");
    EXPECT_EQ(exit["exit_code"], 5);
  }
}

TEST_F(ProcessSensorTest, LifetimeIsMeasured) {
  AgentRun agent({"trace", "exec"});
  ASSERT_TRUE(agent.ready()) << agent.stderr_text();
  Spawned sleeper = spawn({helper_path(), "sleep", "300"});
  ASSERT_EQ(agent.stop(), 0);
  json exit = only(agent.events_of(sleeper.pid), "process.exit");
  uint64_t d = exit["duration_ns"];
  EXPECT_GE(d, 300'000'000u);
  EXPECT_LT(d, 5'000'000'000u);
}

TEST_F(ProcessSensorTest, ShortLivedProcessesRacingTheReaderAreAllSeenInOrder) {
  AgentRun agent({"trace", "exec"});
  ASSERT_TRUE(agent.ready()) << agent.stderr_text();
  std::vector<int> pids;
  for (int i = 0; i < 200; i++) pids.push_back(spawn({helper_path(), "exit", std::to_string(i % 100)}).pid);
  ASSERT_EQ(agent.stop(), 0);
  auto all = agent.events();
  for (size_t i = 0; i < pids.size(); i++) {
    std::vector<std::string> types;
    for (auto& e : all) {
      if (e["process"]["pid"] != pids[i]) continue;
      types.push_back(e["type"]);
      if (e["type"] == "process.exit") {
        EXPECT_EQ(e["exit_code"], int(i % 100));
      }
    }
    EXPECT_EQ(types, (std::vector<std::string>{"process.exec", "process.exit"})) << "pid " << pids[i];
  }
  EXPECT_EQ(agent.final_stats()["lost"], 0);
}

TEST_F(ProcessSensorTest, FailedExecReportsNoExecAndTheForkedChildsExit) {
  AgentRun agent({"trace", "exec"});
  ASSERT_TRUE(agent.ready()) << agent.stderr_text();
  Spawned failed = spawn({"/nonexistent/waggle-no-such-binary"});  // exec fails in the child: _exit(127)
  ASSERT_EQ(agent.stop(), 0);
  auto events = agent.events_of(failed.pid);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["type"], "process.exit");
  EXPECT_EQ(events[0]["exit_code"], 127);
  // It never left the image of its parent, this test.
  EXPECT_EQ(events[0]["process"]["binary"], self_binary());
  EXPECT_EQ(events[0]["process"]["ppid"], getpid());
}

TEST_F(ProcessSensorTest, ProcessesStartedBeforeTheAgentAreKnownAsParents) {
  // This test process began before the agent: the cache knows it from /proc (seeded at start,
  // or read on a miss), so its children's exec names it.
  AgentRun agent({"trace", "exec"});
  ASSERT_TRUE(agent.ready()) << agent.stderr_text();
  Spawned child = spawn({helper_path(), "exit", "0"});
  ASSERT_EQ(agent.stop(), 0);
  json exec = only(agent.events_of(child.pid), "process.exec");
  std::string parent_id = exec["parent"]["exec_id"];
  EXPECT_EQ(parent_id.substr(parent_id.rfind(':') + 1), std::to_string(getpid()));
}

}  // namespace
}  // namespace waggle::test
