// The fallbacks a kernel without some feature takes, forced with WAGGLE_DISABLE_FEATURES on
// this kernel, which has them all: each must still deliver exact events, or say what is missing.
#include <gtest/gtest.h>

#include "agent_runner.hpp"

namespace waggle::test {
namespace {

class FallbackTest : public ::testing::Test {
 protected:
  void SetUp() override { skip_unless_bpf(); }
};

// Where the exits cannot read an open's arguments from the saved registers, entry programs keep
// each open until its exit: with its thread (task storage) or, lacking that, in a hash.
TEST_F(FallbackTest, WithEntryProgramsPendingOpensUseTaskStorageOrTheHashAndLoseNothing) {
  for (std::string disabled : {"exit arguments", "exit arguments,task storage"}) {
    SCOPED_TRACE(disabled);
    TempDir t;
    std::string target = t.file("target");
    std::string dir = t.mkdir("d");
    t.file("d/rel");
    AgentRun agent({"trace", "open", "--prefix", t.path() + "/"}, {"WAGGLE_DISABLE_FEATURES=" + disabled});
    ASSERT_TRUE(agent.ready()) << agent.stderr_text();
    EXPECT_NE(agent.stderr_text().find("tracepoint/syscalls/sys_{enter,exit}_{open,"), std::string::npos)
        << agent.stderr_text();
    Spawned storm = spawn({helper_path(), "storm", target, "5000"});
    Spawned rel = spawn({helper_path(), "chdir-open", dir, "rel"});
    ASSERT_EQ(agent.stop(), 0);
    EXPECT_EQ(agent.events_of(storm.pid).size(), 5000u);
    auto rel_events = agent.events_of(rel.pid);
    ASSERT_EQ(rel_events.size(), 1u);
    EXPECT_EQ(rel_events[0]["path"], dir + "/rel");
    EXPECT_EQ(rel_events[0]["process"]["ppid"], getpid());
    EXPECT_EQ(agent.final_stats()["lost"], 0);
  }
}

TEST_F(FallbackTest, WithoutBtfTracepointsTheProcessSensorUsesRawTracepoints) {
  AgentRun agent({"trace", "exec"}, {"WAGGLE_DISABLE_FEATURES=BTF tracepoints"});
  ASSERT_TRUE(agent.ready()) << agent.stderr_text();
  EXPECT_NE(agent.stderr_text().find("process sensor on raw_tp/"), std::string::npos) << agent.stderr_text();
  Spawned child = spawn({helper_path(), "args", "x y"});
  ASSERT_EQ(agent.stop(), 0);
  auto events = agent.events_of(child.pid);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0]["type"], "process.exec");
  EXPECT_EQ(events[0]["process"]["args"], json({helper_path(), "args", "x y"}));
  EXPECT_EQ(events[1]["type"], "process.exit");
  EXPECT_EQ(events[1]["exit_code"], 0);
}

TEST_F(FallbackTest, WithoutSyscallTracepointsRunKeepsTheProcessSensorAndSaysWhy) {
  AgentRun agent({"run"}, {"WAGGLE_DISABLE_FEATURES=tracepoints"});
  ASSERT_TRUE(agent.ready()) << agent.stderr_text();
  EXPECT_NE(agent.stderr_text().find(
                "file sensor disabled: needs syscall tracepoints: disabled by WAGGLE_DISABLE_FEATURES"),
            std::string::npos)
      << agent.stderr_text();
  Spawned child = spawn({helper_path(), "exit", "4"});
  ASSERT_EQ(agent.stop(), 0);
  auto events = agent.events_of(child.pid);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1]["exit_code"], 4);
  EXPECT_EQ(waggle_programs_left(), std::vector<std::string>{});
}

TEST_F(FallbackTest, TraceOpenWithoutItsSensorFailsInsteadOfRunningBlind) {
  AgentRun agent({"trace", "open"}, {"WAGGLE_DISABLE_FEATURES=tracepoints"});
  EXPECT_FALSE(agent.ready());
  EXPECT_EQ(agent.wait_exit(), 1);
  EXPECT_NE(agent.stderr_text().find("cannot report file.open events without the file sensor"),
            std::string::npos)
      << agent.stderr_text();
  EXPECT_EQ(waggle_programs_left(), std::vector<std::string>{});
}

TEST_F(FallbackTest, DoctorReportsADisabledFeatureAndTheSensorThatNeedsIt) {
  Spawned doctor = spawn({WAGGLE_BINARY, "doctor"}, "", false);
  Spawned degraded =
      spawn({"/usr/bin/env", "WAGGLE_DISABLE_FEATURES=tracepoints,BTF tracepoints,raw tracepoints",
             WAGGLE_BINARY, "doctor"});
  EXPECT_EQ(WEXITSTATUS(doctor.status), 0);
  EXPECT_EQ(WEXITSTATUS(degraded.status), 1) << degraded.out;
  EXPECT_NE(degraded.out.find("the agent cannot run here"), std::string::npos) << degraded.out;
  EXPECT_NE(degraded.out.find("process    disabled  needs BTF or raw tracepoints"), std::string::npos)
      << degraded.out;
}

}  // namespace
}  // namespace waggle::test
