// Facts about the host the agent needs once: its name, this boot, and how to turn the
// kernel's CLOCK_BOOTTIME stamps into wall-clock time.
#pragma once

#include <cstdint>
#include <string>

namespace waggle {

struct HostInfo {
  std::string hostname;
  std::string boot_id;          // first 8 hex digits of /proc/sys/kernel/random/boot_id
  int64_t boot_to_wall_ns = 0;  // wall = boottime + this
  uint64_t clock_ticks = 100;   // sysconf(_SC_CLK_TCK), for /proc's start times

  static HostInfo read();

  uint64_t wall_ns(uint64_t boottime_ns) const { return boottime_ns + boot_to_wall_ns; }
  // Unique across hosts, boots and time: host, boot, when the image began, pid.
  std::string exec_id(uint64_t boottime_ns, uint32_t pid) const;
};

uint64_t boottime_now_ns();

// The tracefs mount point, mounting it at /sys/kernel/tracing if no tracefs is mounted
// (syscall tracepoints are attached through it). Empty, with *error set, when impossible.
std::string ensure_tracefs(std::string* error);

// Where cgroup v2 is mounted (e.g. /sys/fs/cgroup or /sys/fs/cgroup/unified), or empty.
std::string cgroup2_mount();

}  // namespace waggle
