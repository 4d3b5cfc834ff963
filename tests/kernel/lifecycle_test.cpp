// What the agent leaves behind: nothing, whether it stops on SIGINT or refuses its config.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <filesystem>

#include "agent_runner.hpp"

namespace waggle::test {
namespace {

class LifecycleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    skip_unless_bpf();
    ASSERT_EQ(waggle_programs_left(), std::vector<std::string>{}) << "a previous run left programs loaded";
  }
};

// What a run may leave on the host besides programs: pins, probe cgroups.
std::vector<std::string> leftovers() {
  std::vector<std::string> found;
  for (const char* dir : {"/sys/fs/bpf", "/sys/fs/cgroup/unified", "/sys/fs/cgroup"}) {
    std::error_code ec;
    for (auto& entry : std::filesystem::directory_iterator(dir, ec)) {
      std::string name = entry.path().filename();
      if (name.rfind("wg", 0) == 0 || name.rfind("waggle", 0) == 0) found.push_back(entry.path());
    }
  }
  return found;
}

TEST_F(LifecycleTest, SigintDetachesAndUnloadsEveryProgramAndLeavesNothing) {
  AgentRun agent({"run"});
  ASSERT_TRUE(agent.ready()) << agent.stderr_text();
  EXPECT_GE(loaded_waggle_programs().size(), 6u);  // process + file programs while running
  EXPECT_EQ(agent.stop(), 0);                      // the clean path: detached, drained, stats printed
  EXPECT_EQ(waggle_programs_left(), std::vector<std::string>{});
  EXPECT_EQ(leftovers(), std::vector<std::string>{});
  EXPECT_NE(agent.stderr_text().find("waggle: process sensor on"), std::string::npos);
  EXPECT_NE(agent.stderr_text().find("waggle: file sensor on"), std::string::npos);
  json stats = agent.final_stats();
  ASSERT_FALSE(stats.is_null()) << agent.stderr_text();
  EXPECT_EQ(stats["lost"], 0);
}

TEST_F(LifecycleTest, BadConfigurationAttachesNothingAndNamesFileLineColumn) {
  TempDir t;
  std::string bad =
      t.file("bad.yaml", "output:\n  format: json\nsensors:\n  file:\n    prefix: [/etc/, 42x]\n");
  Spawned run = spawn({WAGGLE_BINARY, "run", "--config", bad}, "", true);
  EXPECT_EQ(WEXITSTATUS(run.status), 2);
  EXPECT_NE(run.out.find(bad + ":5:21: sensors.file.prefix[1]: expected an absolute path"), std::string::npos)
      << run.out;
  EXPECT_EQ(run.out.find("ready"), std::string::npos) << run.out;
  EXPECT_EQ(waggle_programs_left(), std::vector<std::string>{});
}

TEST_F(LifecycleTest, BadOptionIsRefusedNamingTheOptionAndAttachesNothing) {
  Spawned run = spawn({WAGGLE_BINARY, "trace", "open", "--prefix", "/ok/", "--prefix", "etc"}, "", true);
  EXPECT_EQ(WEXITSTATUS(run.status), 2);
  EXPECT_EQ(run.out, "waggle: --prefix: expected an absolute path (starting with '/'), got \"etc\"\n");
  EXPECT_EQ(waggle_programs_left(), std::vector<std::string>{});
}

TEST_F(LifecycleTest, DoctorSaysTheAgentCanRunAndWhichHooksItUses) {
  Spawned doctor = spawn({WAGGLE_BINARY, "doctor"});
  EXPECT_EQ(WEXITSTATUS(doctor.status), 0) << doctor.out;
  EXPECT_NE(doctor.out.find("process    ready"), std::string::npos) << doctor.out;
  EXPECT_NE(doctor.out.find("file       ready"), std::string::npos) << doctor.out;
  EXPECT_NE(doctor.out.find("(socket data), tracepoint/syscalls (accept, sendmmsg, recvmmsg, sendfile; recvfrom and "
                            "recvmsg exits for unconnected UDP); HTTP/1.x parsed in the kernel, one record per exchange"),
            std::string::npos)
      << doctor.out;
  EXPECT_NE(doctor.out.find("profiler   ready     perf_event cpu-clock"), std::string::npos) << doctor.out;
  EXPECT_NE(doctor.out.find("off-cpu    ready     tp_btf/sched_switch"), std::string::npos) << doctor.out;
  EXPECT_NE(doctor.out.find("xdp        ready     native XDP on: "), std::string::npos) << doctor.out;
  // Which sensors put the host on the syscall tracing path, and with what.
  EXPECT_NE(doctor.out.find("\nprocess    none\n"), std::string::npos) << doctor.out;
  EXPECT_NE(doctor.out.find("\nfile       sys_exit_{open,openat,openat2,creat}\n"), std::string::npos) << doctor.out;
  EXPECT_NE(doctor.out.find("\nnetwork    sys_exit_{accept,accept4,recvmmsg,sendmmsg,sendfile64,recvfrom,recvmsg}\n"),
            std::string::npos)
      << doctor.out;
  EXPECT_NE(doctor.out.find("\nprofiler   none\n"), std::string::npos) << doctor.out;
  EXPECT_EQ(waggle_programs_left(), std::vector<std::string>{});
}

}  // namespace
}  // namespace waggle::test
