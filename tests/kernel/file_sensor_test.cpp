// The file sensor against the real kernel: in-kernel filters, path resolution, results.
#include <gtest/gtest.h>
#include <unistd.h>

#include <map>

#include "agent_runner.hpp"

namespace waggle::test {
namespace {

class FileSensorTest : public ::testing::Test {
 protected:
  void SetUp() override { skip_unless_bpf(); }
};

std::map<std::string, int> count_paths(const std::vector<json>& events) {
  std::map<std::string, int> counts;
  for (auto& e : events)
    if (e["type"] == "file.open") counts[e["path"]]++;
  return counts;
}

TEST_F(FileSensorTest, PrefixExactAndSuffixFiltersReportExactlyTheMatchingOpens) {
  TempDir t;
  t.mkdir("a/deep");
  t.mkdir("b");
  t.mkdir("c");
  std::string a1 = t.file("a/1"), a2 = t.file("a/deep/2"), exact = t.file("b/exact.txt"),
              near = t.file("b/exact.txt2"), pem = t.file("c/key.pem"), bak = t.file("c/key.pem.bak"),
              other = t.file("other");
  AgentRun agent({"trace", "open", "--prefix", t.path() + "/a/", "--exact", exact, "--suffix", ".pem"});
  ASSERT_TRUE(agent.ready()) << agent.stderr_text();
  Spawned child = spawn({helper_path(), "open", a1, a2, exact, near, pem, bak, other, a1});
  ASSERT_EQ(agent.stop(), 0) << agent.stderr_text();
  auto counts = count_paths(agent.events_of(child.pid));
  EXPECT_EQ(counts, (std::map<std::string, int>{{a1, 2}, {a2, 1}, {exact, 1}, {pem, 1}}));
  EXPECT_EQ(agent.final_stats()["lost"], 0);
  // The process sensor runs too (new processes are known), unseen: only opens are written.
  std::map<std::string, int> types;
  for (const auto& e : agent.events_of(child.pid))
    if (e.contains("type")) types[e["type"].get<std::string>()]++;
  EXPECT_EQ(types, (std::map<std::string, int>{{"file.open", 5}})) << "the child's exec and exit are not shown";
}

TEST_F(FileSensorTest, RelativeOpensAreResolvedInTheKernelBeforeFiltering) {
  TempDir t;
  std::string dir = t.mkdir("rel");
  std::string one = t.file("rel/one"), two = t.file("rel/two");
  AgentRun agent({"trace", "open", "--prefix", dir + "/"});
  ASSERT_TRUE(agent.ready()) << agent.stderr_text();
  Spawned by_cwd = spawn({helper_path(), "chdir-open", dir, "one"});
  Spawned by_dirfd = spawn({helper_path(), "openat", dir, "two"});
  Spawned dotdot = spawn({helper_path(), "open", "../rel/one"}, dir);  // lexical: dir/../rel/one
  ASSERT_EQ(agent.stop(), 0);

  auto cwd_events = agent.events_of(by_cwd.pid);
  ASSERT_EQ(cwd_events.size(), 1u);
  EXPECT_EQ(cwd_events[0]["path"], one);
  EXPECT_EQ(cwd_events[0]["given_path"], "one");
  EXPECT_EQ(cwd_events[0]["fd"], std::stoi(by_cwd.out));

  auto fd_events = agent.events_of(by_dirfd.pid);
  ASSERT_EQ(fd_events.size(), 1u);
  EXPECT_EQ(fd_events[0]["path"], two);
  EXPECT_EQ(fd_events[0]["given_path"], "two");
  EXPECT_EQ(fd_events[0]["syscall"], "openat");

  auto dotdot_events = agent.events_of(dotdot.pid);
  ASSERT_EQ(dotdot_events.size(), 1u);
  EXPECT_EQ(dotdot_events[0]["path"], dir + "/../rel/one");
}

TEST_F(FileSensorTest, RelativeOpenFromTheRootDirectoryHasOneSlash) {
  TempDir t;
  std::string file = t.file("from-root");
  AgentRun agent({"trace", "open", "--exact", file});
  ASSERT_TRUE(agent.ready()) << agent.stderr_text();
  Spawned child = spawn({helper_path(), "chdir-open", "/", file.substr(1)});
  ASSERT_EQ(agent.stop(), 0);
  auto events = agent.events_of(child.pid);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["path"], file);
  EXPECT_EQ(events[0]["given_path"], file.substr(1));
}

TEST_F(FileSensorTest, RelativeOpenAgainstABadDirectoryFdKeepsThePathAsGivenAndItsError) {
  AgentRun agent({"trace", "open", "--suffix", "waggle-badfd-target"});
  ASSERT_TRUE(agent.ready()) << agent.stderr_text();
  Spawned child = spawn({helper_path(), "openat-badfd", "dir/waggle-badfd-target"});
  ASSERT_EQ(agent.stop(), 0);
  auto events = agent.events_of(child.pid);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["path"], "dir/waggle-badfd-target");
  EXPECT_EQ(events[0]["error"], "EBADF");
  EXPECT_EQ(child.out, "-9\n");
}

TEST_F(FileSensorTest, APathTheEntryCannotReadIsFilteredAtTheExitNotMissed) {
  TempDir t;
  std::string target = t.file("unfaulted", "x");
  AgentRun agent({"trace", "open", "--exact", target});
  ASSERT_TRUE(agent.ready()) << agent.stderr_text();
  Spawned child = spawn({helper_path(), "open-unfaulted", target});
  ASSERT_EQ(agent.stop(), 0);
  auto events = agent.events_of(child.pid);
  ASSERT_EQ(count_paths(events)[target], 1) << child.out;
  EXPECT_EQ(agent.final_stats()["lost"], 0);
}

TEST_F(FileSensorTest, FailedOpenCarriesItsErrnoAndDecodedFlags) {
  TempDir t;
  std::string missing = t.path() + "/missing";
  AgentRun agent({"trace", "open", "--exact", missing});
  ASSERT_TRUE(agent.ready()) << agent.stderr_text();
  Spawned child = spawn({helper_path(), "open", missing});
  ASSERT_EQ(agent.stop(), 0);
  auto events = agent.events_of(child.pid);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["error"], "ENOENT");
  EXPECT_FALSE(events[0].contains("fd"));
  EXPECT_EQ(events[0]["flags"], json({"O_RDONLY", "O_CLOEXEC"}));
  EXPECT_EQ(child.out, "-2\n");
}

TEST_F(FileSensorTest, CreatAndOpenat2AreTracedWithTheirFlags) {
  TempDir t;
  std::string created = t.path() + "/created", existing = t.file("existing");
  AgentRun agent({"trace", "open", "--prefix", t.path() + "/"});
  ASSERT_TRUE(agent.ready()) << agent.stderr_text();
  Spawned c = spawn({helper_path(), "creat", created});
  Spawned o2 = spawn({helper_path(), "openat2", existing});
  ASSERT_EQ(agent.stop(), 0);
  auto ce = agent.events_of(c.pid);
  ASSERT_EQ(ce.size(), 1u);
  EXPECT_EQ(ce[0]["syscall"], "creat");
  EXPECT_EQ(ce[0]["flags"], json({"O_WRONLY", "O_CREAT", "O_TRUNC"}));
  EXPECT_EQ(ce[0]["mode"], 0600);
  EXPECT_EQ(ce[0]["fd"], std::stoi(c.out));
  auto oe = agent.events_of(o2.pid);
  ASSERT_EQ(oe.size(), 1u);
  EXPECT_EQ(oe[0]["syscall"], "openat2");
  EXPECT_EQ(oe[0]["flags"], json({"O_RDONLY", "O_NOFOLLOW"}));
  EXPECT_EQ(oe[0]["path"], existing);
}

TEST_F(FileSensorTest, EveryOpenOfAStormIsDeliveredExactlyOnce) {
  TempDir t;
  std::string target = t.file("storm-target");
  AgentRun agent({"trace", "open", "--exact", target});
  ASSERT_TRUE(agent.ready()) << agent.stderr_text();
  // This kernel lets the exits read the opens' arguments: no entry programs.
  EXPECT_NE(agent.stderr_text().find("tracepoint/syscalls/sys_exit_{open,"), std::string::npos)
      << agent.stderr_text();
  Spawned storm = spawn({helper_path(), "storm", target, "20000"});
  ASSERT_EQ(agent.stop(), 0);
  EXPECT_EQ(count_paths(agent.events_of(storm.pid))[target], 20000);
  EXPECT_EQ(agent.final_stats()["lost"], 0);
}

TEST_F(FileSensorTest, CommSelectionReportsOnlyThatCommand) {
  TempDir t;
  std::string target = t.file("x");
  AgentRun agent({"trace", "open", "--exact", target, "--comm", "waggle_test_hel"});
  ASSERT_TRUE(agent.ready()) << agent.stderr_text();
  Spawned mine = spawn({helper_path(), "open", target});
  Spawned other = spawn({"/bin/cat", target});
  ASSERT_EQ(agent.stop(), 0);
  EXPECT_EQ(agent.events_of(mine.pid).size(), 1u);
  EXPECT_EQ(agent.events_of(other.pid).size(), 0u);
}

TEST_F(FileSensorTest, OpensOfAProcessAreAttributedToItsNewImage) {
  TempDir t;
  std::string target = t.file("y");
  AgentRun agent({"trace", "open", "--exact", target});
  ASSERT_TRUE(agent.ready()) << agent.stderr_text();
  Spawned child = spawn({helper_path(), "open", target});
  ASSERT_EQ(agent.stop(), 0);
  auto events = agent.events_of(child.pid);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["process"]["binary"], helper_path());
  EXPECT_EQ(events[0]["process"]["args"], json({helper_path(), "open", target}));
}

}  // namespace
}  // namespace waggle::test
