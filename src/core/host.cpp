#include "core/host.hpp"

#include <fmt/format.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <fstream>
#include <sstream>

namespace waggle {
namespace {

int64_t clock_ns(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// Finds the mount point of the first mounted filesystem of this type.
std::string mount_point_of(const std::string& fstype) {
  std::ifstream mounts("/proc/self/mounts");
  std::string line;
  while (std::getline(mounts, line)) {
    std::istringstream fields(line);
    std::string device, dir, type;
    fields >> device >> dir >> type;
    if (type == fstype) return dir;
  }
  return {};
}

}  // namespace

uint64_t boottime_now_ns() { return clock_ns(CLOCK_BOOTTIME); }

HostInfo HostInfo::read() {
  HostInfo host;
  char name[HOST_NAME_MAX + 1] = {};
  gethostname(name, sizeof(name) - 1);
  host.hostname = name;
  std::ifstream boot("/proc/sys/kernel/random/boot_id");
  std::string id;
  std::getline(boot, id);
  host.boot_id = id.substr(0, 8);
  // The smallest difference over a few samples is the one least disturbed by preemption.
  int64_t best = 0;
  int64_t best_gap = INT64_MAX;
  for (int i = 0; i < 5; i++) {
    int64_t b1 = clock_ns(CLOCK_BOOTTIME);
    int64_t w = clock_ns(CLOCK_REALTIME);
    int64_t b2 = clock_ns(CLOCK_BOOTTIME);
    if (b2 - b1 < best_gap) {
      best_gap = b2 - b1;
      best = w - (b1 + (b2 - b1) / 2);
    }
  }
  host.boot_to_wall_ns = best;
  long ticks = sysconf(_SC_CLK_TCK);
  if (ticks > 0) host.clock_ticks = ticks;
  return host;
}

std::string HostInfo::exec_id(uint64_t boottime_ns, uint32_t pid) const {
  return fmt::format("{}:{}:{}:{}", hostname, boot_id, boottime_ns, pid);
}

std::string ensure_tracefs(std::string* error) {
  std::string existing = mount_point_of("tracefs");
  if (!existing.empty()) return existing;
  const char* target = "/sys/kernel/tracing";
  if (mount("nodev", target, "tracefs", 0, nullptr) != 0) {
    *error = fmt::format("tracefs is not mounted and mounting it at {} failed: {}", target, strerror(errno));
    return {};
  }
  return target;
}

std::string cgroup2_mount() { return mount_point_of("cgroup2"); }

}  // namespace waggle
