// Starts the real waggle binary as a test would from a shell, and real helper processes for
// it to observe; collects the JSON lines it wrote. Everything it creates is removed at the end.
#pragma once

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace waggle::test {

using nlohmann::json;

// A temporary directory, removed (with its content) when this goes out of scope.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string file(const std::string& name, const std::string& content = "x") const;  // creates it
  std::string mkdir(const std::string& name) const;

 private:
  std::string path_;
};

class AgentRun {
 public:
  // Starts `waggle ARGS... --output json --output-file <tmp>` with these extra environment
  // variables ("NAME=value") and waits until it is ready (or has exited).
  explicit AgentRun(std::vector<std::string> args, std::vector<std::string> env = {});
  ~AgentRun();  // stops it if still running

  // SIGINT, wait; returns the exit status (or 128+signal).
  int stop();
  std::vector<json> events() const;            // every JSON line written
  std::vector<json> events_of(int pid) const;  // those whose process.pid is pid
  const std::string& stderr_text() const { return stderr_; }
  json final_stats() const;  // the agent.stats line printed at exit
  bool ready() const { return ready_; }
  // Waits for the agent to exit by itself; returns its exit status.
  int wait_exit();

 private:
  void read_stderr(int timeout_ms, const char* until);

  TempDir dir_;
  std::string out_;
  int pid_ = -1;
  int err_fd_ = -1;
  bool ready_ = false;
  std::string stderr_;
};

struct Spawned {
  int pid = 0;
  int status = 0;   // as from waitpid
  std::string out;  // standard output
};

// Runs argv[0] (an absolute path) with exactly these arguments in `cwd` (if not empty) and
// waits for it. With merge_stderr, `out` holds standard error too.
Spawned spawn(const std::vector<std::string>& argv, const std::string& cwd = "", bool merge_stderr = false,
              const std::string& cgroup = "");

// A cgroup v2 group made for one test, removed at the end (its processes must have exited).
class TestCgroup {
 public:
  TestCgroup();
  // A child of `parent` named `name` (destroy it before its parent).
  TestCgroup(const TestCgroup& parent, const std::string& name);
  ~TestCgroup();
  const std::string& path() const { return path_; }          // absolute directory
  const std::string& relative() const { return relative_; }  // as a policy names it
 private:
  std::string path_;
  std::string relative_;
};

// Names (wg_*) of the BPF programs currently loaded in the kernel.
std::vector<std::string> loaded_waggle_programs();
// The same once the kernel has finished freeing the programs of exited agents (it does so
// asynchronously, after the last descriptor closes): polls for up to 5 s.
std::vector<std::string> waggle_programs_left();

std::string helper_path();  // the test helper binary, absolute and resolved
std::string base64_decode(const std::string& text);

// Skips the test when this kernel cannot load BPF programs (and says why).
void skip_unless_bpf();

}  // namespace waggle::test
