// Reads a running process's description from /proc, for processes that began before the
// agent (or whose exec the agent did not see).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/events.hpp"
#include "core/host.hpp"

namespace waggle {

// The container id in a cgroup path or leaf name: the first run of 64 hex digits
// ("docker-<id>.scope", "cri-containerd-<id>.scope", "crio-<id>", "<id>"), or empty.
std::string container_id_from_cgroup(std::string_view cgroup);

// The cgroup v2 path of a process ("/system.slice/x.service"), or nothing if it is gone.
std::optional<std::string> cgroup2_path_of(const std::string& proc_root, uint32_t pid);
// The id of the cgroup at `path` under the cgroup v2 mount `cgroup2_root` (its inode), or 0.
uint64_t cgroup_id_of(const std::string& cgroup2_root, const std::string& path);

// Splits argv as laid out in memory ("a\0b\0"): every NUL ends an argument. A last piece
// without its NUL (cut by a size limit) is kept.
std::vector<std::string> split_args(std::string_view raw);
// /proc/<pid>/cmdline as split_args splits it, without the empty arguments at its end: a
// process that rewrote its title (nginx's workers, PostgreSQL's backends) leaves the rest of
// its argument area as NULs, which would read as empty arguments.
std::vector<std::string> split_cmdline(std::string_view raw);

// Describes /proc/<pid> (proc_root is "/proc" outside tests), or nothing if it is gone.
// exec_id is derived from the process's start time.
std::optional<ProcessInfo> read_proc_process(const std::string& proc_root, uint32_t pid, const HostInfo& host,
                                             const std::string& cgroup2_root);

}  // namespace waggle
