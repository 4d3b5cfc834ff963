#include "agent_runner.hpp"

#include <bpf/bpf.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <climits>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/feature_probe.hpp"
#include "core/host.hpp"

namespace waggle::test {

TempDir::TempDir() {
  char tmpl[] = "/tmp/waggle-test-XXXXXX";
  char* made = mkdtemp(tmpl);
  if (!made) throw std::runtime_error("mkdtemp failed");
  path_ = made;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string TempDir::file(const std::string& name, const std::string& content) const {
  std::string p = path_ + "/" + name;
  std::ofstream(p) << content;
  return p;
}

std::string TempDir::mkdir(const std::string& name) const {
  std::string p = path_ + "/" + name;
  std::filesystem::create_directories(p);
  return p;
}

AgentRun::AgentRun(std::vector<std::string> args, std::vector<std::string> env) {
  out_ = dir_.path() + "/events.jsonl";
  args.insert(args.begin(), WAGGLE_BINARY);
  for (const char* extra : {"--output", "json", "--output-file"}) args.push_back(extra);
  args.push_back(out_);
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  pid_ = fork();
  if (pid_ == 0) {
    dup2(pipefd[1], 2);
    for (auto& e : env) putenv(e.data());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(pipefd[1]);
  err_fd_ = pipefd[0];
  read_stderr(30000, "waggle: ready\n");
  ready_ = stderr_.find("waggle: ready\n") != std::string::npos;
}

int AgentRun::wait_exit() {
  read_stderr(30000, nullptr);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

AgentRun::~AgentRun() {
  if (pid_ > 0) stop();
  if (err_fd_ >= 0) close(err_fd_);
}

void AgentRun::read_stderr(int timeout_ms, const char* until) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (until == nullptr || stderr_.find(until) == std::string::npos) {
    int left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now())
            .count();
    if (left <= 0) return;
    pollfd p{err_fd_, POLLIN, 0};
    if (poll(&p, 1, left) <= 0) return;
    char buf[4096];
    ssize_t n = read(err_fd_, buf, sizeof(buf));
    if (n <= 0) return;
    stderr_.append(buf, n);
  }
}

int AgentRun::stop() {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGINT);
  read_stderr(60000, nullptr);  // until EOF: the agent has exited
  // Standard error closes a moment before the process can be reaped: wait for that too.
  int status = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (waitpid(pid_, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {  // a hang: make it a failure, not a stuck suite
      ADD_FAILURE() << "waggle did not stop after SIGINT";
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
      break;
    }
    usleep(1000);
  }
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::vector<json> AgentRun::events() const {
  std::vector<json> out;
  std::ifstream in(out_);
  std::string line;
  while (std::getline(in, line)) out.push_back(json::parse(line));  // throws on invalid JSON
  return out;
}

std::vector<json> AgentRun::events_of(int pid) const {
  std::vector<json> out;
  for (auto& e : events())
    if (e["process"]["pid"] == pid) out.push_back(e);
  return out;
}

json AgentRun::final_stats() const {
  std::istringstream lines(stderr_);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("{", 0) != 0) continue;
    json j = json::parse(line);
    if (j["type"] == "agent.stats" && j["final"] == true) return j;
  }
  return json();
}

TestCgroup::TestCgroup() {
  static int counter = 0;
  relative_ = "/waggle-test-" + std::to_string(getpid()) + "-" + std::to_string(counter++);
  path_ = cgroup2_mount() + relative_;
  if (cgroup2_mount().empty() || ::mkdir(path_.c_str(), 0755) != 0)
    throw std::runtime_error("cannot create the test cgroup " + path_);
}

TestCgroup::TestCgroup(const TestCgroup& parent, const std::string& name)
    : path_(parent.path() + "/" + name), relative_(parent.relative() + "/" + name) {
  if (::mkdir(path_.c_str(), 0755) != 0) throw std::runtime_error("cannot create the test cgroup " + path_);
}

TestCgroup::~TestCgroup() { rmdir(path_.c_str()); }

Spawned spawn(const std::vector<std::string>& argv_in, const std::string& cwd, bool merge_stderr,
              const std::string& cgroup) {
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  Spawned s;
  s.pid = fork();
  if (s.pid == 0) {
    dup2(pipefd[1], 1);
    if (merge_stderr) dup2(pipefd[1], 2);
    if (!cgroup.empty()) {  // join the test's cgroup before exec: the new image runs in it
      std::string pid = std::to_string(getpid());
      int fd = open((cgroup + "/cgroup.procs").c_str(), O_WRONLY);
      if (fd < 0 || write(fd, pid.data(), pid.size()) != ssize_t(pid.size())) _exit(125);
      close(fd);
    }
    if (!cwd.empty() && chdir(cwd.c_str()) != 0) _exit(126);
    std::vector<std::string> copy = argv_in;
    std::vector<char*> argv;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(pipefd[1]);
  char buf[4096];
  ssize_t n;
  while ((n = read(pipefd[0], buf, sizeof(buf))) > 0) s.out.append(buf, n);
  close(pipefd[0]);
  waitpid(s.pid, &s.status, 0);
  return s;
}

std::vector<std::string> loaded_waggle_programs() {
  std::vector<std::string> names;
  __u32 id = 0;
  while (bpf_prog_get_next_id(id, &id) == 0) {
    int fd = bpf_prog_get_fd_by_id(id);
    if (fd < 0) continue;
    bpf_prog_info info{};
    __u32 len = sizeof(info);
    if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && strncmp(info.name, "wg_", 3) == 0)
      names.emplace_back(info.name);
    close(fd);
  }
  return names;
}

std::vector<std::string> waggle_programs_left() {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  std::vector<std::string> left = loaded_waggle_programs();
  while (!left.empty() && std::chrono::steady_clock::now() < deadline) {
    usleep(10000);
    left = loaded_waggle_programs();
  }
  return left;
}

std::string helper_path() {
  char resolved[PATH_MAX];
  return realpath(WAGGLE_TEST_HELPER, resolved) ? resolved : WAGGLE_TEST_HELPER;
}

std::string base64_decode(const std::string& text) {
  static const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    if (c == '=') break;
    size_t v = alphabet.find(c);
    if (v == std::string::npos) continue;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(char((acc >> bits) & 0xff));
    }
  }
  return out;
}

void skip_unless_bpf() {
  static const KernelFeatures features = probe_kernel();
  if (geteuid() != 0) GTEST_SKIP() << "kernel tests load BPF programs and need root";
  if (!features.can_load_bpf())
    GTEST_SKIP() << "this kernel cannot load BPF programs: " << features.tracepoint.detail << "; "
                 << features.raw_tracepoint.detail;
}

}  // namespace waggle::test
