#include "core/process_cache.hpp"

#include <dirent.h>
#include <unistd.h>

#include <cstdlib>

#include "core/proc_reader.hpp"

namespace waggle {

constexpr uint64_t kNsPerSecond = 1'000'000'000;

ProcessCache::ProcessCache(HostInfo host, Options options)
    : host_(std::move(host)), options_(std::move(options)) {}

size_t ProcessCache::seed() {
  DIR* dir = opendir(options_.proc_root.c_str());
  if (!dir) return 0;
  size_t added = 0;
  while (dirent* d = readdir(dir)) {
    char* end = nullptr;
    unsigned long pid = strtoul(d->d_name, &end, 10);
    if (*end != '\0' || pid == 0) continue;
    auto info = read_proc_process(options_.proc_root, pid, host_, options_.cgroup2_root);
    if (!info) continue;
    entries_[pid] = Entry{std::make_shared<const ProcessInfo>(std::move(*info))};
    added++;
  }
  closedir(dir);
  return added;
}

ParentInfo ProcessCache::parent_of(uint32_t ppid) {
  ParentInfo parent;
  parent.pid = ppid;
  if (ppid == 0) return parent;
  if (ProcessRef p = find(ppid)) {
    parent.exec_id = p->exec_id;
    parent.binary = p->binary;
  }
  return parent;
}

ParentInfo ProcessCache::on_exec(const ProcessRef& process) {
  entries_[process->pid] = Entry{process};
  return parent_of(process->ppid);
}

ProcessRef ProcessCache::on_fork(uint32_t parent_pid, uint32_t child_pid, uint64_t child_start_boottime_ns,
                                 uint64_t now_boottime_ns) {
  expire(now_boottime_ns);
  auto child = std::make_shared<ProcessInfo>();
  if (ProcessRef parent = find(parent_pid)) {
    *child = *parent;
    child->rendered_json.clear();
  }
  child->pid = child_pid;
  child->ppid = parent_pid;
  child->start_boottime_ns = child_start_boottime_ns;
  child->start_time_ns = host_.wall_ns(child_start_boottime_ns);
  child->exec_id = host_.exec_id(child_start_boottime_ns, child_pid);
  ProcessRef ref = child;
  entries_[child_pid] = Entry{ref};
  return ref;
}

ProcessRef ProcessCache::on_exit(uint32_t pid, uint64_t now_boottime_ns) {
  auto it = entries_.find(pid);
  if (it == entries_.end()) return nullptr;
  ProcessRef process = it->second.process;
  if (!it->second.exited) {
    it->second.exited = true;
    exited_.push_back(Exited{now_boottime_ns, pid, process.get()});
  }
  expire(now_boottime_ns);
  return process;
}

ProcessRef ProcessCache::find(uint32_t pid) {
  auto it = entries_.find(pid);
  if (it != entries_.end()) return it->second.process;
  auto info = read_proc_process(options_.proc_root, pid, host_, options_.cgroup2_root);
  if (!info) return nullptr;
  ProcessRef ref = std::make_shared<const ProcessInfo>(std::move(*info));
  entries_[pid] = Entry{ref};
  return ref;
}

bool ProcessCache::started_at(const ProcessInfo& p, uint64_t start_boottime_ns) const {
  // /proc gives start times in clock ticks: allow two ticks of rounding.
  uint64_t tolerance = 2 * (kNsPerSecond / host_.clock_ticks);
  return p.start_boottime_ns + tolerance >= start_boottime_ns &&
         start_boottime_ns + tolerance >= p.start_boottime_ns;
}

ProcessRef ProcessCache::find(uint32_t pid, uint64_t start_boottime_ns) {
  ProcessRef found = find(pid);
  if (!found || started_at(*found, start_boottime_ns)) return found;
  entries_.erase(pid);
  found = find(pid);  // afresh from /proc
  return found && started_at(*found, start_boottime_ns) ? found : nullptr;
}

bool ProcessCache::gone(uint32_t pid, uint64_t start_boottime_ns) {
  if (!find(pid, start_boottime_ns)) return true;
  auto it = entries_.find(pid);
  return it == entries_.end() || it->second.exited;
}

std::string ProcessCache::container_of(uint32_t pid, uint64_t cgroup_id, std::string_view leaf_name) {
  if (auto it = containers_.find(cgroup_id); it != containers_.end()) return it->second;
  std::optional<std::string> path = cgroup2_path_of(options_.proc_root, pid);
  // The process may have moved since the record was made: the path must be its cgroup's. Where
  // the cgroup v2 mount is unknown that cannot be checked, and the answer is not remembered.
  if (!path || (!options_.cgroup2_root.empty() && cgroup_id_of(options_.cgroup2_root, *path) != cgroup_id))
    return container_id_from_cgroup(leaf_name);
  std::string id = container_id_from_cgroup(*path);
  if (options_.cgroup2_root.empty()) return id;
  if (containers_.size() >= kMaxCgroups) containers_.clear();
  return containers_[cgroup_id] = std::move(id);
}

void ProcessCache::remember_unseen(const ProcessRef& process, uint64_t now_boottime_ns) {
  // A newer process with the same pid, just read from /proc, keeps its place.
  if (!entries_.try_emplace(process->pid, Entry{process, true}).second) return;
  exited_.push_back(Exited{now_boottime_ns, process->pid, process.get()});
  expire(now_boottime_ns);  // keeps the bound on exited entries
}

void ProcessCache::release(const Exited& e) {
  auto it = entries_.find(e.pid);
  // The pid may have been reused by a new process since: only drop the one that exited.
  if (it != entries_.end() && it->second.exited && it->second.process.get() == e.process) entries_.erase(it);
}

void ProcessCache::expire(uint64_t now_boottime_ns) {
  while (!exited_.empty() && (exited_.size() > options_.max_exited ||
                              exited_.front().at_ns + options_.exit_grace_ns <= now_boottime_ns)) {
    release(exited_.front());
    exited_.pop_front();
  }
}

size_t ProcessCache::sweep(uint64_t now_boottime_ns) {
  size_t gone = 0;
  for (auto& [pid, entry] : entries_) {
    if (entry.exited) continue;
    if (access((options_.proc_root + "/" + std::to_string(pid)).c_str(), F_OK) == 0) continue;
    entry.exited = true;
    exited_.push_back(Exited{now_boottime_ns, pid, entry.process.get()});
    gone++;
  }
  expire(now_boottime_ns);
  return gone;
}

}  // namespace waggle
