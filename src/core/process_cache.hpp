// What the agent knows of every live process: its latest image (exec_id, binary, args...),
// so that any event can name its process and its parent. Seeded from /proc at start; an
// exec replaces a process's entry, a fork copies the parent's, an exit releases it after a
// grace period (events of the process still in flight find it). Memory stays bounded by the
// number of live processes plus the exits of the last grace period.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/events.hpp"
#include "core/host.hpp"

namespace waggle {

class ProcessCache {
 public:
  struct Options {
    std::string proc_root = "/proc";
    std::string cgroup2_root;                // where to find cgroup ids of seeded processes
    uint64_t exit_grace_ns = 5'000'000'000;  // how long an exited process stays known
    size_t max_exited = 65536;               // exited entries kept at most, whatever their age
  };

  ProcessCache(HostInfo host, Options options);

  // Adds every process in /proc. Returns how many were added.
  size_t seed();

  // Records a new image for pid; returns the parent's description as of now.
  ParentInfo on_exec(const ProcessRef& process);
  // A process forked: the child runs its parent's image until it execs.
  ProcessRef on_fork(uint32_t parent_pid, uint32_t child_pid, uint64_t child_start_boottime_ns,
                     uint64_t now_boottime_ns);
  // The process ended; it stays findable for the grace period. Returns it (or null).
  ProcessRef on_exit(uint32_t pid, uint64_t now_boottime_ns);

  // The process, from the cache or, on a miss, from /proc (then cached). Null if unknown.
  ProcessRef find(uint32_t pid);
  // Same, for a process known to have started at start_boottime_ns: a cached entry that
  // started at another time belongs to an earlier process with the same pid (its exit was
  // missed) and is replaced from /proc. Null when neither is that process.
  ProcessRef find(uint32_t pid, uint64_t start_boottime_ns);
  // Whether the process that started at start_boottime_ns has exited: known to have, or
  // neither cached nor in /proc.
  bool gone(uint32_t pid, uint64_t start_boottime_ns);
  ParentInfo parent_of(uint32_t ppid);
  // A process known only from a record (it was gone from /proc when looked for): kept like
  // an exited one for the grace period, so that its other records do not read /proc again.
  // Nothing changes when the pid is cached already (a newer process reusing it).
  void remember_unseen(const ProcessRef& process, uint64_t now_boottime_ns);

  // Releases exited processes older than the grace period.
  void expire(uint64_t now_boottime_ns);

  // Treats processes gone from /proc as exited (their exit record was lost, or filtered out by
  // --pid/--comm): they are released after the grace period. Returns how many were found.
  // Costs one access() per cached process; the agent runs it every 30 s.
  size_t sweep(uint64_t now_boottime_ns);

  // The container of process `pid`, in cgroup `cgroup_id`: the outermost cgroup on its path
  // whose name holds exactly 64 hex digits, as policies match it (so a container's sub-cgroups
  // are in it too). The path is read from /proc once per cgroup; `leaf_name`, the cgroup's own
  // name, answers for a process already gone.
  std::string container_of(uint32_t pid, uint64_t cgroup_id, std::string_view leaf_name);

  size_t size() const { return entries_.size(); }
  size_t exited_pending() const { return exited_.size(); }
  const HostInfo& host() const { return host_; }

 private:
  struct Entry {
    ProcessRef process;
    bool exited = false;
  };
  struct Exited {
    uint64_t at_ns;
    uint32_t pid;
    const ProcessInfo* process;  // identity only: the entry may have been replaced since
  };

  void release(const Exited& e);
  bool started_at(const ProcessInfo& p, uint64_t start_boottime_ns) const;

  HostInfo host_;
  Options options_;
  std::unordered_map<uint32_t, Entry> entries_;
  std::deque<Exited> exited_;
  // Container id (or "") by cgroup id; forgotten whole when kMaxCgroups is reached.
  static constexpr size_t kMaxCgroups = 8192;
  std::unordered_map<uint64_t, std::string> containers_;
};

}  // namespace waggle
