// Reads a running process's description from /proc, for processes that began before the
// agent (or whose exec the agent did not see).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/events.hpp"
#include "core/host.hpp"

namespace waggle {

// The container id in a cgroup path or leaf name: the first run of 64 hex digits
// ("docker-<id>.scope", "cri-containerd-<id>.scope", "crio-<id>", "<id>"), or empty.
std::string container_id_from_cgroup(std::string_view cgroup);

// Describes /proc/<pid> (proc_root is "/proc" outside tests), or nothing if it is gone.
// exec_id is derived from the process's start time.
std::optional<ProcessInfo> read_proc_process(const std::string& proc_root, uint32_t pid,
                                             const HostInfo& host, const std::string& cgroup2_root);

}  // namespace waggle
