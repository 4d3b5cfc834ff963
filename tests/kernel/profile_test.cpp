// The CPU profiler against real processes: `waggle profile` on a test program built without
// frame pointers, whose own clock says where its time went; perf as ground truth.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "agent_runner.hpp"
#include "test_servers.hpp"

namespace waggle::test {
namespace {

// A process started in the background, its standard output kept in a file; killed and reaped
// at the end if still running.
class Background {
 public:
  Background(const TempDir& dir, const std::vector<std::string>& argv, const std::string& cgroup = "") {
    static int counter = 0;
    out_ = dir.path() + "/bg" + std::to_string(counter++) + ".out";
    pid_ = fork();
    if (pid_ == 0) {
      int fd = open(out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd < 0) _exit(124);
      dup2(fd, 1);
      if (!cgroup.empty()) {
        std::string pid = std::to_string(getpid());
        int cg = open((cgroup + "/cgroup.procs").c_str(), O_WRONLY);
        if (cg < 0 || write(cg, pid.data(), pid.size()) != ssize_t(pid.size())) _exit(125);
        close(cg);
      }
      std::vector<std::string> copy = argv;
      std::vector<char*> args;
      for (auto& a : copy) args.push_back(a.data());
      args.push_back(nullptr);
      execv(args[0], args.data());
      _exit(127);
    }
  }
  ~Background() {
    if (pid_ > 0 && !done_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  int pid() const { return pid_; }
  // Waits for the exit; returns the exit status and leaves the output in out().
  int wait() {
    int status = 0;
    waitpid(pid_, &status, 0);
    done_ = true;
    std::ifstream in(out_);
    std::stringstream text;
    text << in.rdbuf();
    out_text_ = text.str();
    return status;
  }
  const std::string& out() const { return out_text_; }

 private:
  int pid_ = -1;
  bool done_ = false;
  std::string out_;
  std::string out_text_;
};

using Folded = std::map<std::string, uint64_t>;  // stack -> samples

Folded read_folded(const std::string& path) {
  Folded folded;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    size_t space = line.rfind(' ');
    if (space == std::string::npos) continue;
    folded[line.substr(0, space)] += std::stoull(line.substr(space + 1));
  }
  return folded;
}

std::vector<std::string> frames_of(const std::string& stack) {
  std::vector<std::string> frames;
  std::stringstream in(stack);
  std::string f;
  while (std::getline(in, f, ';')) frames.push_back(f);
  return frames;
}

uint64_t total(const Folded& folded) {
  uint64_t n = 0;
  for (const auto& [stack, count] : folded) n += count;
  return n;
}

// Whether `chain` appears in the stack's frames, in order, each right after the one before.
bool has_chain(const std::string& stack, const std::vector<std::string>& chain) {
  std::vector<std::string> frames = frames_of(stack);
  for (size_t i = 0; i + chain.size() <= frames.size(); i++) {
    size_t k = 0;
    while (k < chain.size() && frames[i + k] == chain[k]) k++;
    if (k == chain.size()) return true;
  }
  return false;
}

std::string leaf_of(const std::string& stack) {
  size_t semi = stack.rfind(';');
  return semi == std::string::npos ? stack : stack.substr(semi + 1);
}

// Runs `waggle profile ARGS -o FILE`, returns the folded profile; fails the test on error.
Folded profile(const TempDir& dir, std::vector<std::string> args, std::string* err = nullptr) {
  std::string out = dir.path() + "/profile.folded";
  std::vector<std::string> argv = {WAGGLE_BINARY, "profile"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.end(), {"--format", "folded", "--output", out});
  Spawned s = spawn(argv, "", true);
  EXPECT_EQ(s.status, 0) << s.out;
  if (err) *err = s.out;
  return read_folded(out);
}

// The program's own account: leaf -> seconds.
std::map<std::string, double> spent(const std::string& out) {
  std::map<std::string, double> result;
  std::stringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    size_t space = line.rfind(' ');
    if (space != std::string::npos) result[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return result;
}

const std::vector<std::string> kLeaves = {"compare_spin", "plugin_leaf", "double waggle_test::Matrix::inner<3>(int)"};

std::map<std::string, double> leaf_shares(const Folded& folded) {
  std::map<std::string, double> shares;
  uint64_t n = total(folded);
  for (const auto& [stack, count] : folded) shares[leaf_of(stack)] += double(count) / double(n);
  return shares;
}

TEST(Profile, FullChainsAndLeafSharesWithoutFramePointers) {
  TempDir dir;
  Background target(dir, {WAGGLE_PROFILE_TARGET, "chains", "5", WAGGLE_PROFILE_PLUGIN});
  usleep(200000);
  Folded folded = profile(dir, {"--pid", std::to_string(target.pid()), "--frequency", "499", "--duration", "4"});
  ASSERT_EQ(target.wait(), 0);
  std::map<std::string, double> truth = spent(target.out());
  ASSERT_EQ(truth.size(), 3u) << target.out();
  uint64_t n = total(folded);
  ASSERT_GT(n, 1000u);  // 4 s at 499 Hz: ~2000 samples

  uint64_t reach_main = 0;
  std::map<std::string, uint64_t> chain_samples;
  for (const auto& [stack, count] : folded) {
    EXPECT_EQ(stack.rfind("profile_target;", 0), 0u) << stack;  // the --pid selection
    if (has_chain(stack, {"main", "run_chains"})) reach_main += count;
    // The callback under libc's qsort (whatever qsort's own frames are), the dlopen'ed
    // library's functions, and demangled C++ names.
    if (has_chain(stack, {"main", "run_chains", "sort_phase"}) && stack.find(";qsort") != std::string::npos &&
        leaf_of(stack) == "compare_spin")
      chain_samples["compare_spin"] += count;
    if (has_chain(stack, {"main", "run_chains", "plugin_phase", "plugin_entry", "plugin_leaf"}))
      chain_samples["plugin_leaf"] += count;
    if (has_chain(stack, {"main", "run_chains", "waggle_test::Matrix::multiply(int)",
                          "double waggle_test::Matrix::inner<3>(int)"}))
      chain_samples["double waggle_test::Matrix::inner<3>(int)"] += count;
  }
  EXPECT_GE(double(reach_main) / double(n), 0.95);
  double truth_total = truth["compare_spin"] + truth["plugin_leaf"] + truth["waggle_test::Matrix::inner<3>(int)"];
  std::map<std::string, double> expected = {
      {"compare_spin", truth["compare_spin"] / truth_total},
      {"plugin_leaf", truth["plugin_leaf"] / truth_total},
      {"double waggle_test::Matrix::inner<3>(int)", truth["waggle_test::Matrix::inner<3>(int)"] / truth_total}};
  for (const std::string& leaf : kLeaves) {
    double share = double(chain_samples[leaf]) / double(n);
    EXPECT_NEAR(share, expected[leaf], 0.05) << leaf << " (full chain from main)";
  }
}

// perf's own samples of the same run, leaf -> share, from `perf script`.
std::map<std::string, double> perf_leaf_shares(const std::string& script) {
  std::map<std::string, uint64_t> counts;
  uint64_t n = 0;
  std::stringstream in(script);
  std::string line;
  bool want_leaf = false;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (line[0] != ' ' && line[0] != '\t') {  // a sample's header line
      want_leaf = true;
      continue;
    }
    if (!want_leaf) continue;
    want_leaf = false;
    // "\t    55d0c0a01234 compare_spin+0x14 (/path/profile_target)"
    std::stringstream fields(line);
    std::string address, symbol;
    fields >> address >> symbol;
    if (size_t plus = symbol.rfind("+0x"); plus != std::string::npos) symbol.resize(plus);
    if (size_t at = symbol.find('@'); at != std::string::npos) symbol.resize(at);
    counts[symbol]++;
    n++;
  }
  std::map<std::string, double> shares;
  for (const auto& [leaf, count] : counts) shares[leaf] = double(count) / double(n);
  return shares;
}

TEST(Profile, AgreesWithPerfDwarfUnwinding) {
  if (access("/usr/bin/perf", X_OK) != 0) GTEST_SKIP() << "perf (Debian linux-perf) is not installed";
  TempDir dir;
  // It outlives both 4-second samplings with room to spare: perf, if its target exits first,
  // stops and ends its `sleep` with SIGTERM (exit status 15), as on a loaded machine where
  // perf took over a second to start.
  Background target(dir, {WAGGLE_PROFILE_TARGET, "chains", "7", WAGGLE_PROFILE_PLUGIN});
  usleep(200000);
  std::string data = dir.path() + "/perf.data";
  // Both sample the same seconds of the same process at the same frequency.
  Background perf(dir, {"/usr/bin/perf", "record", "-q", "-e", "cpu-clock", "-F", "199", "--call-graph", "dwarf",
                        "-p", std::to_string(target.pid()), "-o", data, "--", "sleep", "4"});
  Folded folded = profile(dir, {"--pid", std::to_string(target.pid()), "--frequency", "199", "--duration", "4"});
  ASSERT_EQ(perf.wait(), 0);
  ASSERT_EQ(target.wait(), 0);
  // Without inlined frames, which waggle (naming from symbol tables) does not show either.
  Spawned script = spawn({"/usr/bin/perf", "script", "--no-inline", "-i", data, "-F", "comm,pid,ip,sym"});
  ASSERT_EQ(script.status, 0);
  std::map<std::string, double> perf_shares = perf_leaf_shares(script.out);
  std::map<std::string, double> ours = leaf_shares(folded);
  uint64_t n = total(folded), reach_main = 0;
  for (const auto& [stack, count] : folded)
    if (has_chain(stack, {"main", "run_chains"})) reach_main += count;
  EXPECT_GE(double(reach_main) / double(n), 0.95);
  for (std::string leaf : {"compare_spin", "plugin_leaf"})
    EXPECT_NEAR(ours[leaf], perf_shares[leaf], 0.05) << leaf;
  // perf prints a C++ template function without its return type.
  EXPECT_NEAR(ours["double waggle_test::Matrix::inner<3>(int)"], perf_shares["waggle_test::Matrix::inner<3>"] +
                                                                     perf_shares["waggle_test::Matrix::inner<3>(int)"],
              0.05);
}

TEST(Profile, WriteLoopShowsItsPathThroughTheKernel) {
  TempDir dir;
  Background target(dir, {WAGGLE_PROFILE_TARGET, "write", "3"});
  usleep(100000);
  Folded folded = profile(dir, {"--pid", std::to_string(target.pid()), "--frequency", "499", "--duration", "2"});
  ASSERT_EQ(target.wait(), 0);
  // Frames in order, not necessarily adjacent.
  auto in_order = [](const std::string& stack, const std::vector<std::string>& wanted) {
    size_t k = 0;
    for (const std::string& f : frames_of(stack))
      if (k < wanted.size() && f == wanted[k]) k++;
    return k == wanted.size();
  };
  uint64_t n = total(folded), in_kernel = 0, to_vfs_write = 0;
  for (const auto& [stack, count] : folded) {
    std::vector<std::string> frames = frames_of(stack);
    bool kernel = stack.find("_[k]") != std::string::npos;
    if (!kernel) continue;
    // Kernel frames only ever sit above the user frames that entered the kernel.
    size_t first_kernel = 0;
    while (frames[first_kernel].find("_[k]") == std::string::npos) first_kernel++;
    for (size_t i = first_kernel; i < frames.size(); i++) EXPECT_NE(frames[i].find("_[k]"), std::string::npos) << stack;
    if (has_chain(stack, {"main", "write_loop"})) in_kernel += count;
    if (in_order(stack, {"main", "write_loop", "entry_SYSCALL_64_after_hwframe_[k]", "do_syscall_64_[k]",
                         "ksys_write_[k]", "vfs_write_[k]"}))
      to_vfs_write += count;
  }
  ASSERT_GT(n, 500u);
  // A one-byte write to /dev/null spends most of its time in the kernel, much of it on the
  // way in and out; a good part reaches the write handler.
  EXPECT_GE(double(in_kernel) / double(n), 0.5) << "of " << n << " samples";
  EXPECT_GE(double(to_vfs_write) / double(n), 0.1) << "of " << n << " samples";
  // --user-only takes no kernel frame, --kernel-only no user frame.
  Background again(dir, {WAGGLE_PROFILE_TARGET, "write", "2"});
  Folded user = profile(dir, {"--pid", std::to_string(again.pid()), "--frequency", "199", "--duration", "1",
                              "--user-only"});
  for (const auto& [stack, count] : user) EXPECT_EQ(stack.find("_[k]"), std::string::npos) << stack;
  Folded kernel = profile(dir, {"--pid", std::to_string(again.pid()), "--frequency", "199", "--duration", "1",
                                "--kernel-only"});
  for (const auto& [stack, count] : kernel) EXPECT_EQ(stack.find("write_loop"), std::string::npos) << stack;
  EXPECT_GT(total(user), 0u);
  EXPECT_GT(total(kernel), 0u);
  again.wait();
}

TEST(Profile, JitCodeIsNamedFromThePerfMap) {
  TempDir dir;
  Background target(dir, {WAGGLE_PROFILE_TARGET, "jit", "3"});
  usleep(200000);
  std::string map = "/tmp/perf-" + std::to_string(target.pid()) + ".map";
  Folded folded = profile(dir, {"--pid", std::to_string(target.pid()), "--frequency", "499", "--duration", "2"});
  int status = target.wait();
  unlink(map.c_str());  // the program removes it; this is for when it did not get there
  ASSERT_EQ(status, 0);
  uint64_t n = total(folded), jit = 0;
  for (const auto& [stack, count] : folded)
    if (leaf_of(stack) == "jit_spin_loop_[j]") jit += count;
  ASSERT_GT(n, 500u);
  EXPECT_GE(double(jit) / double(n), 0.9) << "of " << n << " samples";
}

std::set<std::string> roots(const Folded& folded) {
  std::set<std::string> r;
  for (const auto& [stack, count] : folded) r.insert(frames_of(stack)[0]);
  return r;
}

TEST(Profile, PidBinaryCommAndContainerFiltersReportOnlyTheirTarget) {
  TempDir dir;
  // A container as runtimes make one: a cgroup named by a 64-hex-digit id.
  std::string id(64, 'c');
  id.replace(0, 8, "0123abcd");
  TestCgroup parent;
  TestCgroup container(parent, "docker-" + id + ".scope");
  Background a(dir, {WAGGLE_PROFILE_TARGET, "write", "6"});
  Background b(dir, {"/bin/dd", "if=/dev/zero", "of=/dev/null", "bs=1", "count=100000000"});
  Background c(dir, {WAGGLE_PROFILE_TARGET, "chains", "6", WAGGLE_PROFILE_PLUGIN}, container.path());
  usleep(200000);
  std::string pid_a = std::to_string(a.pid());
  Folded by_pid = profile(dir, {"--pid", pid_a, "--frequency", "99", "--duration", "1", "--per-pid"});
  EXPECT_EQ(roots(by_pid), std::set<std::string>{"profile_target-" + pid_a});
  Folded by_comm = profile(dir, {"--comm", "dd", "--frequency", "99", "--duration", "1", "--per-pid"});
  EXPECT_EQ(roots(by_comm), std::set<std::string>{"dd-" + std::to_string(b.pid())});
  Folded by_binary = profile(dir, {"--binary", WAGGLE_PROFILE_TARGET, "--frequency", "99", "--duration", "1",
                                   "--per-pid"});
  EXPECT_EQ(roots(by_binary), (std::set<std::string>{"profile_target-" + pid_a,
                                                     "profile_target-" + std::to_string(c.pid())}));
  Folded by_container = profile(dir, {"--container", id.substr(0, 12), "--frequency", "99", "--duration", "1",
                                      "--per-pid"});
  EXPECT_EQ(roots(by_container), std::set<std::string>{"profile_target-" + std::to_string(c.pid())});
  for (const auto& [stack, count] : by_container) EXPECT_TRUE(has_chain(stack, {"main", "run_chains"})) << stack;
  kill(b.pid(), SIGKILL);
  kill(c.pid(), SIGKILL);  // the cgroup can go only once it is empty
  c.wait();
  b.wait();
}

// Off-CPU: the program blocks in three functions, 30, 20 and 10 ms a round (a timer, a pipe a
// child writes to, poll's timeout) and measures its own wall time in each.
TEST(Profile, OffCpuShowsWhereThreadsWaitAndForHowLong) {
  TempDir dir;
  Background target(dir, {WAGGLE_PROFILE_TARGET, "wait", "5"});
  usleep(300000);
  const std::string pid = std::to_string(target.pid());
  const double seconds = 2, hz = 99;
  std::string stats;
  Folded folded =
      profile(dir, {"--off-cpu", "--pid", pid, "--frequency", "99", "--duration", "2", "--per-pid", "--stats"}, &stats);
  EXPECT_NE(stats.find(" samples, 0 dropped in the kernel"), std::string::npos) << stats;
  ASSERT_EQ(target.wait(), 0);
  std::map<std::string, double> own = spent(target.out());
  ASSERT_EQ(own.size(), 3u) << target.out();
  double own_total = own["sleep_wait"] + own["read_wait"] + own["poll_wait"];
  // Only the target, not the writer child it forked: the pid filter holds off CPU too.
  EXPECT_EQ(roots(folded), std::set<std::string>{"profile_target-" + pid});
  // Each wait function's stack goes from main through the syscall into the kernel, where it
  // waited; kernel frames stop at the scheduler's callers (its own frames are skipped).
  const std::map<std::string, std::vector<std::string>> paths = {
      {"sleep_wait", {"main", "wait_loop", "sleep_wait", "entry_SYSCALL_64_after_hwframe_[k]",
                      "__x64_sys_clock_nanosleep_[k]", "hrtimer_nanosleep_[k]"}},
      {"read_wait", {"main", "wait_loop", "read_wait", "entry_SYSCALL_64_after_hwframe_[k]", "ksys_read_[k]",
                     "vfs_read_[k]"}},
      {"poll_wait", {"main", "wait_loop", "poll_wait", "entry_SYSCALL_64_after_hwframe_[k]", "do_sys_poll_[k]"}}};
  auto in_order = [](const std::string& stack, const std::vector<std::string>& wanted) {
    size_t k = 0;
    for (const std::string& f : frames_of(stack))
      if (k < wanted.size() && f == wanted[k]) k++;
    return k == wanted.size();
  };
  std::map<std::string, uint64_t> by_wait;
  uint64_t n = total(folded), to_main = 0;
  for (const auto& [stack, count] : folded) {
    if (has_chain(stack, {"__libc_start_call_main", "main"})) to_main += count;
    for (const auto& [fn, path] : paths)
      if (in_order(stack, path)) by_wait[fn] += count;
  }
  // Each sample is 1/99 s of blocked time, and the thread waits nearly all the time: the
  // samples add up to the window (waits still going at either end are not counted; a wait's
  // part period counts as one sample with that chance).
  EXPECT_GE(double(n), 0.85 * seconds * hz);
  EXPECT_LE(double(n), 1.08 * seconds * hz);
  EXPECT_GE(double(to_main) / double(n), 0.95) << "of " << n << " samples";
  for (const auto& [fn, path] : paths) {
    double share = double(by_wait[fn]) / double(n), expected = own[fn] / own_total;
    EXPECT_NEAR(share, expected, 0.05) << fn << ": " << by_wait[fn] << " of " << n << " samples";
  }
}

// Waits shorter than a period are counted where they happen: 9 ms then 1 ms at 100 Hz, where
// carrying the remainder from wait to wait would put every sample on the 1 ms wait.
TEST(Profile, OffCpuWaitsShorterThanAPeriodAddUpWhereTheyHappen) {
  TempDir dir;
  Background target(dir, {WAGGLE_PROFILE_TARGET, "alternate", "6"});
  usleep(300000);
  Folded folded = profile(dir, {"--off-cpu", "--pid", std::to_string(target.pid()), "--frequency", "100",
                                "--duration", "4"});
  ASSERT_EQ(target.wait(), 0);
  std::map<std::string, double> own = spent(target.out());
  ASSERT_EQ(own.size(), 2u) << target.out();
  uint64_t n = total(folded), short_waits = 0;
  for (const auto& [stack, count] : folded)
    if (has_chain(stack, {"main", "alternate", "short_wait"})) short_waits += count;
  ASSERT_GT(n, 330u);
  double expected = own["short_wait"] / (own["long_wait"] + own["short_wait"]);
  EXPECT_NEAR(double(short_waits) / double(n), expected, 0.05) << short_waits << " of " << n << " samples";
}

TEST(Profile, ShortLivedChildrenAppearNamed) {
  TempDir dir;
  std::string out = dir.path() + "/profile.folded";
  // Started before the target, so that the first child is seen.
  Background waggle(dir, {WAGGLE_BINARY, "profile", "--binary", WAGGLE_PROFILE_TARGET, "--frequency", "499",
                          "--duration", "12", "--per-pid", "--format", "folded", "--output", out});
  usleep(1500000);
  Spawned target = spawn({WAGGLE_PROFILE_TARGET, "children", "200", "30"});
  ASSERT_EQ(target.status, 0);
  kill(waggle.pid(), SIGINT);  // stops early, writing what it has
  ASSERT_EQ(waggle.wait(), 0);
  Folded folded = read_folded(out);
  std::set<std::string> kids;
  uint64_t kid_samples = 0, named = 0;
  for (const auto& [stack, count] : folded) {
    std::string root = frames_of(stack)[0];
    if (root.rfind("kid", 0) != 0) continue;
    kids.insert(root.substr(0, root.find('-')));
    kid_samples += count;
    if (has_chain(stack, {"main", "run_children", "child_spin"})) named += count;
  }
  EXPECT_EQ(kids.size(), 200u);
  EXPECT_GE(double(named) / double(kid_samples), 0.95) << named << " of " << kid_samples;
}

TEST(Profile, BadInputFailsBeforeAnythingIsLoaded) {
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  std::vector<Case> cases = {
      {{"--frequency", "1000"}, "frequency 1000 Hz is out of range: expected 1 to 999"},
      {{"--frequency", "0"}, "frequency 0 Hz is out of range"},
      {{"--pid", "999999999"}, "no process has pid 999999999"},
      {{"--binary", "/nonexistent/app"}, "binary /nonexistent/app: No such file or directory"},
      {{"--container", "0123456789abcdef"}, "no cgroup under"},
      {{"--container", "xyz"}, "expected a container id"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> argv = {WAGGLE_BINARY, "profile", "--duration", "1"};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    Spawned s = spawn(argv, "", true);
    EXPECT_TRUE(WIFEXITED(s.status) && WEXITSTATUS(s.status) == 2) << s.out;
    EXPECT_NE(s.out.find(c.message), std::string::npos) << s.out;
  }
}

// `go tool pprof -raw` of a profile file: one block per sample with its labels.
std::string pprof_raw(const TempDir& dir, const std::string& file) {
  std::string home = dir.mkdir("gohome");
  Spawned s = spawn({"/usr/bin/env", "HOME=" + home, "GOCACHE=" + home + "/cache", "/usr/bin/go", "tool", "pprof",
                     "-raw", "-symbolize=none", file},
                    "", true);
  EXPECT_EQ(s.status, 0) << s.out;
  return s.out;
}

std::string curl(const std::string& url, const std::string& out, std::string* code) {
  Spawned s = spawn({"/usr/bin/curl", "-s", "-S", "-o", out, "-w", "%{http_code}", url}, "", true);
  *code = s.out;
  std::ifstream in(out);
  std::stringstream body;
  body << in.rdbuf();
  return body.str();
}

TEST(ProfileEndpoint, RunServesPprofWindowsFilteredByProcess) {
  if (access("/usr/bin/go", X_OK) != 0) GTEST_SKIP() << "go (Debian golang-go) is not installed";
  TempDir dir;
  int port = free_port();
  std::string config = dir.file("config.yaml",
                                "sensors: {file: {enabled: false}, network: {enabled: false}}\n"
                                "metrics: {address: 127.0.0.1:" + std::to_string(port) + "}\n"
                                "profiler: {frequency: 199}\n");
  AgentRun agent({"run", "--config", config});
  ASSERT_TRUE(agent.ready()) << agent.stderr_text();
  Background target(dir, {WAGGLE_PROFILE_TARGET, "chains", "6", WAGGLE_PROFILE_PLUGIN});
  Background other(dir, {WAGGLE_PROFILE_TARGET, "write", "6"});
  usleep(200000);
  std::string base = "http://127.0.0.1:" + std::to_string(port);
  std::string code;
  std::string file = dir.path() + "/window.pb.gz";
  curl(base + "/debug/pprof/profile?seconds=3&pid=" + std::to_string(target.pid()), file, &code);
  ASSERT_EQ(code, "200");
  std::string raw = pprof_raw(dir, file);
  // Every sample is the selected process's; its chains are whole.
  size_t samples = 0, others = 0;
  for (size_t at = raw.find("pid:["); at != std::string::npos; at = raw.find("pid:[", at + 1)) {
    samples++;
    if (raw.compare(at, 6 + std::to_string(target.pid()).size(), "pid:[" + std::to_string(target.pid()) + "]") != 0)
      others++;
  }
  EXPECT_GT(samples, 0u) << raw.substr(0, 2000);
  EXPECT_EQ(others, 0u);
  EXPECT_NE(raw.find("plugin_leaf"), std::string::npos);
  EXPECT_NE(raw.find("run_chains"), std::string::npos);
  EXPECT_EQ(raw.find("write_loop"), std::string::npos);
  // The same window as a flame graph: the process at the root, its frames above. The agent
  // counts exactly the samples it named for it.
  auto samples_total = [&] {
    std::string metrics = http_get(port, "/metrics");
    size_t at = metrics.find("\nwaggle_profiler_samples_total ");
    return at == std::string::npos ? -1.0 : std::stod(metrics.substr(at + 31));
  };
  double before = samples_total();
  std::string svg = curl(base + "/debug/flamegraph?seconds=2&pid=" + std::to_string(target.pid()),
                         dir.path() + "/window.svg", &code);
  ASSERT_EQ(code, "200");
  EXPECT_NE(svg.find("data-name=\"profile_target\" data-module=\"\" data-kind=\"process\""), std::string::npos)
      << svg.substr(0, 3000);
  EXPECT_NE(svg.find("data-name=\"plugin_leaf\""), std::string::npos);
  EXPECT_EQ(svg.find("data-name=\"write_loop\""), std::string::npos);
  size_t total_at = svg.find("data-total=\"");
  ASSERT_NE(total_at, std::string::npos);
  EXPECT_EQ(samples_total() - before, std::stod(svg.substr(total_at + 12)));
  EXPECT_GT(before, 0);
  // Bad requests say what was expected.
  std::string body = curl(base + "/debug/pprof/profile?seconds=0", file, &code);
  EXPECT_EQ(code, "400");
  EXPECT_EQ(body, "seconds=0: expected a whole number of seconds from 1 to 60 (profiler.max_seconds)\n");
  body = curl(base + "/debug/pprof/profile?secs=2", file, &code);
  EXPECT_EQ(code, "400");
  EXPECT_EQ(body, "unknown parameter 'secs': expected seconds, pid, comm or container\n");
  EXPECT_EQ(agent.stop(), 0);
  target.wait();
  other.wait();
}

}  // namespace
}  // namespace waggle::test
