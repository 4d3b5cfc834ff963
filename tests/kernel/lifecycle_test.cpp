// What the agent leaves behind: nothing, whether it stops on SIGINT or refuses its config.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include "agent_runner.hpp"

namespace waggle::test {
namespace {

class LifecycleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    skip_unless_bpf();
    ASSERT_EQ(loaded_waggle_programs(), std::vector<std::string>{}) << "a previous run left programs loaded";
  }
};

TEST_F(LifecycleTest, SigintDetachesAndUnloadsEveryProgram) {
  AgentRun agent({"run"});
  ASSERT_TRUE(agent.ready()) << agent.stderr_text();
  EXPECT_GE(loaded_waggle_programs().size(), 6u);  // process + file programs while running
  EXPECT_EQ(agent.stop(), 0);
  EXPECT_EQ(loaded_waggle_programs(), std::vector<std::string>{});
  json stats = agent.final_stats();
  ASSERT_FALSE(stats.is_null()) << agent.stderr_text();
  EXPECT_EQ(stats["lost"], 0);
}

TEST_F(LifecycleTest, BadConfigurationAttachesNothingAndNamesFileLineColumn) {
  TempDir t;
  std::string bad = t.file("bad.yaml", "output:\n  format: json\nsensors:\n  file:\n    prefix: [/etc/, 42x]\n");
  Spawned run = spawn({WAGGLE_BINARY, "run", "--config", bad}, "", true);
  EXPECT_EQ(WEXITSTATUS(run.status), 2);
  EXPECT_NE(run.out.find(bad + ":5:21: "), std::string::npos) << run.out;
  EXPECT_EQ(run.out.find("ready"), std::string::npos) << run.out;
  EXPECT_EQ(loaded_waggle_programs(), std::vector<std::string>{});
}

TEST_F(LifecycleTest, DoctorSaysTheAgentCanRunAndWhichHooksItUses) {
  Spawned doctor = spawn({WAGGLE_BINARY, "doctor"});
  EXPECT_EQ(WEXITSTATUS(doctor.status), 0) << doctor.out;
  EXPECT_NE(doctor.out.find("process    ready"), std::string::npos) << doctor.out;
  EXPECT_NE(doctor.out.find("file       ready"), std::string::npos) << doctor.out;
  EXPECT_EQ(loaded_waggle_programs(), std::vector<std::string>{});
}

}  // namespace
}  // namespace waggle::test
