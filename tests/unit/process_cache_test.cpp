// The process cache without a kernel: a fake /proc tree, execs, forks and exits.
#include "core/process_cache.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/proc_reader.hpp"
#include "sensors/process/process_sensor.hpp"

namespace waggle {
namespace {

namespace fs = std::filesystem;

class FakeProc {
 public:
  FakeProc() {
    char tmpl[] = "/tmp/waggle-fakeproc-XXXXXX";
    root_ = mkdtemp(tmpl);
  }
  ~FakeProc() { fs::remove_all(root_); }
  const std::string& root() const { return root_; }

  void add(uint32_t pid, uint32_t ppid, const std::string& comm, const std::string& cmdline,
           uint64_t start_ticks, const std::string& exe, const std::string& cgroup = "0::/\n") {
    std::string dir = root_ + "/" + std::to_string(pid);
    fs::create_directories(dir);
    // Field 22 (starttime) is the 20th after the comm.
    std::ofstream(dir + "/stat") << pid << " (" << comm << ") S " << ppid
                                 << " 1 1 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 " << start_ticks << " 0 0\n";
    std::ofstream(dir + "/status") << "Name:\t" << comm
                                   << "\nUid:\t1000\t1000\t1000\t1000\nGid:\t100\t100\t100\t100\n";
    std::ofstream(dir + "/cmdline", std::ios::binary) << cmdline;
    std::ofstream(dir + "/cgroup") << cgroup;
    fs::create_symlink(exe, dir + "/exe");
    fs::create_symlink("/srv", dir + "/cwd");
  }

 private:
  std::string root_;
};

HostInfo test_host() {
  HostInfo h;
  h.hostname = "node1";
  h.boot_id = "abcdef12";
  h.boot_to_wall_ns = 1'000'000'000'000;
  h.clock_ticks = 100;
  return h;
}

ProcessCache::Options options_for(const FakeProc& proc) {
  ProcessCache::Options o;
  o.proc_root = proc.root();
  o.exit_grace_ns = 1'000;
  o.max_exited = 3;
  return o;
}

TEST(ProcReader, DescribesAProcessFromProcWithCommHoldingParenthesesAndSpaces) {
  FakeProc proc;
  proc.add(42, 1, "my (odd) comm", std::string("/bin/app\0--flag\0\0last\0", 22), 250, "/usr/bin/app",
           "0::/system.slice/docker-" + std::string(64, 'a') + ".scope\n");
  auto p = read_proc_process(proc.root(), 42, test_host(), "");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->comm, "my (odd) comm");
  EXPECT_EQ(p->ppid, 1u);
  EXPECT_EQ(p->uid, 1000u);
  EXPECT_EQ(p->gid, 100u);
  EXPECT_EQ(p->binary, "/usr/bin/app");
  EXPECT_EQ(p->cwd, "/srv");
  EXPECT_EQ(p->args, (std::vector<std::string>{"/bin/app", "--flag", "", "last"}));
  EXPECT_EQ(p->start_boottime_ns, 2'500'000'000u);
  EXPECT_EQ(p->exec_id, "node1:abcdef12:2500000000:42");
  EXPECT_EQ(p->container_id, std::string(64, 'a'));
}

TEST(ProcReader, ContainerIdIsAWhole64HexRun) {
  std::string id(64, '0');
  id[10] = 'f';
  EXPECT_EQ(container_id_from_cgroup("/kubepods/pod1/cri-containerd-" + id + ".scope"), id);
  EXPECT_EQ(container_id_from_cgroup(id), id);
  EXPECT_EQ(container_id_from_cgroup("/user.slice/session-3.scope"), "");
  EXPECT_EQ(container_id_from_cgroup(std::string(65, 'a')), "");  // too long: not an id
  EXPECT_EQ(container_id_from_cgroup(std::string(63, 'a')), "");
}

TEST(ProcessCache, AContainersSubCgroupIsInTheOutermostContainerAndAGoneProcessFallsBackToItsLeaf) {
  FakeProc proc;
  const std::string outer(64, 'a'), inner(64, 'b'), leaf(64, 'c');
  const std::string cgroup = "/system.slice/docker-" + outer + ".scope/" + inner + "/workers";
  proc.add(42, 1, "app", std::string("app\0", 4), 10, "/usr/bin/app", "0::" + cgroup + "\n");
  proc.add(46, 1, "moved", std::string("moved\0", 6), 10, "/usr/bin/app", "0::" + cgroup + "\n");
  // A cgroup v2 tree of its own: a cgroup's id is its directory's inode.
  const std::string root = proc.root() + "/cgroup2";
  fs::create_directories(root + cgroup);
  const uint64_t id = cgroup_id_of(root, cgroup);
  ASSERT_NE(id, 0u);
  ProcessCache::Options options = options_for(proc);
  options.cgroup2_root = root;
  ProcessCache cache(test_host(), options);
  EXPECT_EQ(cache.container_of(42, id, "workers"), outer);
  // Known by its cgroup from now on, even for a process /proc no longer has.
  EXPECT_EQ(cache.container_of(43, id, "workers"), outer);
  // Gone, in a cgroup not seen before: its own name is all there is.
  EXPECT_EQ(cache.container_of(44, id + 1000, "crio-" + leaf), leaf);
  EXPECT_EQ(cache.container_of(45, id + 1001, "session-3.scope"), "");
  // In another cgroup than its record says (it moved since): the record's leaf name decides, and
  // the path read is not remembered for that cgroup.
  EXPECT_EQ(cache.container_of(46, id + 2000, "crio-" + leaf + ".scope"), leaf);
  EXPECT_EQ(cache.container_of(47, id + 2000, "other"), "");
}

TEST(ProcessCache, SeedsFromProcAndNamesParents) {
  FakeProc proc;
  proc.add(1, 0, "init", std::string("/sbin/init\0", 11), 1, "/sbin/init");
  proc.add(100, 1, "sh", std::string("sh\0", 3), 50, "/bin/sh");
  ProcessCache cache(test_host(), options_for(proc));
  EXPECT_EQ(cache.seed(), 2u);
  ParentInfo parent = cache.parent_of(100);
  EXPECT_EQ(parent.pid, 100u);
  EXPECT_EQ(parent.binary, "/bin/sh");
  EXPECT_EQ(parent.exec_id, "node1:abcdef12:500000000:100");
}

TEST(ProcessCache, ForkInheritsTheImageWithItsOwnIdAndExecReplacesIt) {
  FakeProc proc;
  proc.add(100, 1, "sh", std::string("sh\0-c\0", 6), 50, "/bin/sh");
  ProcessCache cache(test_host(), options_for(proc));
  cache.seed();
  ProcessRef child = cache.on_fork(100, 101, 7'000, 7'000);
  EXPECT_EQ(child->binary, "/bin/sh");
  EXPECT_EQ(child->args, (std::vector<std::string>{"sh", "-c"}));
  EXPECT_EQ(child->ppid, 100u);
  EXPECT_EQ(child->exec_id, "node1:abcdef12:7000:101");

  auto image = std::make_shared<ProcessInfo>();
  image->pid = 101;
  image->ppid = 100;
  image->binary = "/usr/bin/ls";
  image->exec_id = "node1:abcdef12:9000:101";
  ParentInfo parent = cache.on_exec(image);
  EXPECT_EQ(parent.binary, "/bin/sh");
  EXPECT_EQ(cache.find(101)->binary, "/usr/bin/ls");
  // The fork's image is still whole for whoever holds it.
  EXPECT_EQ(child->binary, "/bin/sh");
}

TEST(ProcessCache, ExitedProcessesAreReleasedAfterTheGracePeriodOrBeyondTheBound) {
  FakeProc proc;  // empty: nothing can be re-read from /proc
  ProcessCache cache(test_host(), options_for(proc));
  for (uint32_t pid = 10; pid < 15; pid++) cache.on_fork(1, pid, 0, 0);
  EXPECT_EQ(cache.size(), 5u);
  // Exits at t=100: the bound of 3 exited entries releases the oldest at once.
  for (uint32_t pid = 10; pid < 15; pid++) EXPECT_TRUE(cache.on_exit(pid, 100));
  EXPECT_EQ(cache.exited_pending(), 3u);
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_EQ(cache.find(10), nullptr);
  EXPECT_NE(cache.find(14), nullptr);  // still within its grace period
  cache.expire(100 + 1'000);
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.exited_pending(), 0u);
}

TEST(ProcessCache, AReusedPidIsNotReleasedByItsPredecessorsExit) {
  FakeProc proc;
  ProcessCache cache(test_host(), options_for(proc));
  cache.on_fork(1, 20, 0, 0);
  cache.on_exit(20, 10);
  ProcessRef reused = cache.on_fork(1, 20, 50, 50);  // pid 20 again, a new process
  cache.expire(10'000);
  EXPECT_EQ(cache.find(20), reused);
}

TEST(ProcessCache, SweepReleasesProcessesGoneFromProcWhoseExitWasNeverSeen) {
  FakeProc proc;
  proc.add(30, 1, "a", std::string("a\0", 2), 1, "/bin/a");
  proc.add(31, 1, "b", std::string("b\0", 2), 1, "/bin/b");
  ProcessCache cache(test_host(), options_for(proc));
  cache.seed();
  fs::remove_all(proc.root() + "/31");
  EXPECT_EQ(cache.sweep(100), 1u);
  cache.expire(100 + 1'000);
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_NE(cache.find(30), nullptr);
  EXPECT_EQ(cache.find(31), nullptr);
}

TEST(ProcessCache, AnEntryOfAnEarlierProcessWithTheSamePidIsNotReturned) {
  FakeProc proc;
  proc.add(40, 1, "new", std::string("new\0", 4), 300, "/bin/new");  // started at 3 s
  ProcessCache cache(test_host(), options_for(proc));
  cache.on_fork(1, 40, 1'000'000'000, 1'000'000'000);            // an earlier pid 40, started at 1 s
  EXPECT_EQ(cache.find(40, 1'000'000'000)->binary, "");          // the forked one
  EXPECT_EQ(cache.find(40, 3'000'000'000)->binary, "/bin/new");  // replaced from /proc
  EXPECT_EQ(cache.find(40, 3'010'000'000)->binary, "/bin/new");  // within /proc's rounding
  EXPECT_EQ(cache.find(40, 9'000'000'000), nullptr);             // neither
}

TEST(ProcessCache, AProcessGoneFromProcIsRememberedFromItsRecordUntilTheGracePeriodEnds) {
  FakeProc proc;  // pid 50 is not in it
  ProcessCache cache(test_host(), options_for(proc));
  EXPECT_EQ(cache.find(50, 2'000'000'000), nullptr);
  auto p = std::make_shared<ProcessInfo>();
  p->pid = 50;
  p->comm = "cc1";
  p->start_boottime_ns = 2'000'000'000;
  cache.remember_unseen(p, 5'000);
  proc.add(50, 1, "other", std::string("other\0", 6), 200, "/bin/other");  // /proc is not read again
  EXPECT_EQ(cache.find(50, 2'000'000'000), p);
  cache.expire(5'000 + 1'000);
  EXPECT_EQ(cache.find(50, 2'000'000'000)->binary, "/bin/other");  // released: /proc again

  // An old process's record, its pid reused by one found in /proc: the live one stays.
  cache.remember_unseen(p, 9'000);
  EXPECT_EQ(cache.find(50)->binary, "/bin/other");
}

TEST(ProcessDecoding, ArgvSplitsOnEveryNulKeepingEmptyArgumentsAndACutLastOne) {
  EXPECT_EQ(split_args(std::string_view("a\0\0b c\0", 7)), (std::vector<std::string>{"a", "", "b c"}));
  EXPECT_EQ(split_args(std::string_view("a\0bc", 4)), (std::vector<std::string>{"a", "bc"}));
  EXPECT_EQ(split_args(""), std::vector<std::string>{});
}

// nginx's worker rewrites its title over its argument area and leaves the rest NULs: read from
// /proc, it has the one argument ps shows, not dozens of empty ones after it.
TEST(ProcessCache, ARewrittenTitleReadsAsItsArgumentsWithoutTheNulPadding) {
  FakeProc proc;
  proc.add(30, 1, "nginx", std::string("nginx: worker process") + std::string(40, '\0'), 500, "/usr/sbin/nginx");
  proc.add(31, 1, "sh", std::string("sh\0\0-c\0true\0", 12), 500, "/bin/sh");
  ProcessCache cache(test_host(), options_for(proc));
  EXPECT_EQ(cache.find(30)->args, std::vector<std::string>{"nginx: worker process"});
  EXPECT_EQ(cache.find(31)->args, (std::vector<std::string>{"sh", "", "-c", "true"}));  // inner ones stay
}

TEST(ProcessDecoding, WaitStatusGivesCodeOrSignal) {
  ExitEvent code;
  decode_exit_status(3 << 8, code);
  EXPECT_EQ(code.exit_code, 3);
  EXPECT_FALSE(code.signal);
  ExitEvent killed;
  decode_exit_status(9, killed);
  EXPECT_EQ(killed.signal, 9);
  EXPECT_FALSE(killed.exit_code);
  ExitEvent dumped;
  decode_exit_status(11 | 0x80, dumped);
  EXPECT_EQ(dumped.signal, 11);
  EXPECT_TRUE(dumped.core_dumped);
}

}  // namespace
}  // namespace waggle
