#include "sensors/profile/sampler.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fmt/format.h>
#include <linux/perf_event.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>
#include <fstream>

#include "profile.skel.h"

namespace waggle {

std::vector<int> online_cpus() {
  std::vector<int> cpus;
  std::ifstream in("/sys/devices/system/cpu/online");
  std::string list;
  std::getline(in, list);
  size_t pos = 0;
  while (pos < list.size()) {
    size_t comma = list.find(',', pos);
    std::string part = list.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    int first = 0, last = 0;
    if (sscanf(part.c_str(), "%d-%d", &first, &last) == 2) {
      for (int c = first; c <= last; c++) cpus.push_back(c);
    } else if (sscanf(part.c_str(), "%d", &first) == 1) {
      cpus.push_back(first);
    }
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return cpus;
}

SensorPlan plan_profiler(const KernelFeatures& f) {
  SensorPlan plan;
  plan.reason = missing_core_features(f);
  if (plan.reason.empty() && !f.perf_event.ok) plan.reason = "needs perf events: " + f.perf_event.detail;
  if (plan.reason.empty() && !f.syscall_args_at_exit.ok)
    plan.reason = "needs the task's saved user registers (bpf_task_pt_regs): " + f.syscall_args_at_exit.detail;
  plan.can_run = plan.reason.empty();
  if (plan.can_run)
    plan.hook = fmt::format("perf_event cpu-clock on {} CPUs; kernel stacks by the kernel, user stacks copied and "
                            "unwound from .eh_frame (libdw)",
                            online_cpus().size());
  return plan;
}

SensorPlan plan_offcpu_profiler(const KernelFeatures& f) {
  SensorPlan plan;
  plan.reason = missing_core_features(f);
  if (plan.reason.empty() && !f.btf_tracepoint.ok) plan.reason = "needs BTF tracepoints: " + f.btf_tracepoint.detail;
  if (plan.reason.empty() && !f.task_storage.ok) plan.reason = "needs task storage: " + f.task_storage.detail;
  if (plan.reason.empty() && !f.syscall_args_at_exit.ok)
    plan.reason = "needs the task's saved user registers (bpf_task_pt_regs): " + f.syscall_args_at_exit.detail;
  plan.can_run = plan.reason.empty();
  if (plan.can_run) {
    plan.hook = "tp_btf/sched_switch (waits, kernel stacks) and tp_btf/sys_exit (user stacks), task storage";
    plan.syscalls = "raw sys_exit, every syscall's (while `waggle profile --off-cpu` runs)";
  }
  return plan;
}

std::string check_sampler_options(const SamplerOptions& o) {
  if (o.frequency_hz < kProfileMinHz || o.frequency_hz > kProfileMaxHz)
    return fmt::format("frequency {} Hz is out of range: expected {} to {}", o.frequency_hz, kProfileMinHz,
                       kProfileMaxHz);
  for (uint32_t pid : o.pids)
    if (pid == 0 || (kill(pid_t(pid), 0) != 0 && errno == ESRCH)) return fmt::format("no process has pid {}", pid);
  for (const std::string& path : o.binaries) {
    struct stat st{};
    if (stat(path.c_str(), &st) != 0) return fmt::format("binary {}: {}", path, strerror(errno));
    if (!S_ISREG(st.st_mode)) return fmt::format("binary {}: not a regular file", path);
  }
  if (o.comm.size() > 15) return fmt::format("comm '{}' is longer than the kernel's 15 characters", o.comm);
  if (!o.kernel_stacks && !o.user_stacks) return "kernel-only and user-only exclude each other";
  if (o.user_stack_bytes == 0 || o.user_stack_bytes > WG_PROFILE_USTACK_MAX)
    return fmt::format("user stack copy of {} bytes: expected 1 to {}", o.user_stack_bytes, WG_PROFILE_USTACK_MAX);
  return "";
}

namespace {

bool fill_targets(profile_bpf* skel, const SamplerOptions& o, std::string* error) {
  uint8_t one = 1;
  for (uint32_t pid : o.pids)
    if (bpf_map__update_elem(skel->maps.target_pids, &pid, sizeof(pid), &one, 1, BPF_ANY) != 0) {
      *error = fmt::format("cannot select pid {}: {}", pid, strerror(errno));
      return false;
    }
  for (const std::string& path : o.binaries) {
    struct stat st{};
    if (stat(path.c_str(), &st) != 0) {
      *error = fmt::format("binary {}: {}", path, strerror(errno));
      return false;
    }
    // The kernel's dev_t encoding, as the superblock holds it.
    wg_profile_file_key key{(uint64_t(major(st.st_dev)) << 20) | minor(st.st_dev), st.st_ino};
    if (bpf_map__update_elem(skel->maps.target_binaries, &key, sizeof(key), &one, 1, BPF_ANY) != 0) {
      *error = fmt::format("cannot select binary {}: {}", path, strerror(errno));
      return false;
    }
  }
  for (uint64_t id : o.cgroup_ids)
    if (bpf_map__update_elem(skel->maps.target_cgroups, &id, sizeof(id), &one, 1, BPF_ANY) != 0) {
      *error = fmt::format("cannot select cgroup {}: {}", id, strerror(errno));
      return false;
    }
  return true;
}

std::string perf_open_error(int err) {
  if (err == EACCES || err == EPERM) {
    std::ifstream in("/proc/sys/kernel/perf_event_paranoid");
    std::string level;
    std::getline(in, level);
    return fmt::format("perf events are not permitted ({}; kernel.perf_event_paranoid is {}): run as root or "
                       "with CAP_PERFMON",
                       strerror(err), level.empty() ? "unknown" : level);
  }
  return fmt::format("cannot open the CPU clock perf event: {}", strerror(err));
}

}  // namespace

std::unique_ptr<Sampler> Sampler::open(const SamplerOptions& o, Handler handler, std::string* error) {
  if (std::string problem = check_sampler_options(o); !problem.empty()) {
    *error = problem;
    return nullptr;
  }
  std::unique_ptr<Sampler> s(new Sampler());
  s->handler_ = std::move(handler);
  s->frequency_hz_ = o.frequency_hz;
  s->skel_ = profile_bpf__open();
  if (!s->skel_) {
    *error = std::string("profiler: cannot open its BPF object: ") + strerror(errno);
    return nullptr;
  }
  auto* ro = s->skel_->rodata;
  ro->self_tgid = o.self_tgid;
  ro->want_kernel = o.kernel_stacks;
  ro->want_user = o.user_stacks;
  ro->ustack_bytes = o.user_stack_bytes;
  uint32_t sel = 0;
  if (!o.pids.empty()) sel |= WG_PROFILE_SEL_PID;
  if (!o.comm.empty()) sel |= WG_PROFILE_SEL_COMM;
  if (!o.binaries.empty()) sel |= WG_PROFILE_SEL_BINARY;
  if (!o.cgroup_ids.empty()) sel |= WG_PROFILE_SEL_CGROUP;
  ro->selections = sel;
  for (size_t i = 0; i < sizeof(ro->filter_comm); i++) ro->filter_comm[i] = i < o.comm.size() ? o.comm[i] : 0;
  uint64_t ring = o.ring_bytes;
  if (ring == 0) {
    uint64_t want = uint64_t(o.frequency_hz) * online_cpus().size() * (o.user_stack_bytes + 1024) / 2;
    // Off CPU, every thread that waits can post at this rate, not every CPU.
    ring = o.off_cpu ? 8u << 20 : 2u << 20;
    while (ring < want && ring < (32u << 20)) ring <<= 1;
  }
  bpf_map__set_max_entries(s->skel_->maps.samples, uint32_t(ring));
  const auto cpus = uint32_t(std::max(1, libbpf_num_possible_cpus()));
  bpf_map__set_max_entries(s->skel_->maps.scratch, cpus);
  bpf_map__set_max_entries(s->skel_->maps.scratch_busy, cpus);
  // Only one side is loaded: on-CPU needs no task storage, off-CPU no perf event.
  bpf_program__set_autoload(s->skel_->progs.wg_profile_sample, !o.off_cpu);
  bpf_program__set_autoload(s->skel_->progs.wg_offcpu_switch, o.off_cpu);
  bpf_program__set_autoload(s->skel_->progs.wg_offcpu_sys_exit, o.off_cpu);
  bpf_map__set_autocreate(s->skel_->maps.offcpu_tasks, o.off_cpu);
  ro->offcpu_period_ns = 1000000000ull / o.frequency_hz;
  if (!load_object(s->skel_->obj, "profile", error) || !fill_targets(s->skel_, o, error)) return nullptr;
  s->set_collecting(true);

  if (!(o.off_cpu ? s->attachment_.attach_all(s->skel_->obj, "off-CPU profiler", error) : s->attach_cpu_clock(o, error))) return nullptr;
  s->ring_ = ring_buffer__new(bpf_map__fd(s->skel_->maps.samples), &Sampler::on_sample, s.get(), nullptr);
  if (!s->ring_) {
    *error = std::string("profiler: cannot read its ring buffer: ") + strerror(errno);
    return nullptr;
  }
  return s;
}

bool Sampler::attach_cpu_clock(const SamplerOptions& o, std::string* error) {
  perf_event_attr attr{};
  attr.type = PERF_TYPE_SOFTWARE;
  attr.size = sizeof(attr);
  attr.config = PERF_COUNT_SW_CPU_CLOCK;
  // The CPU clock counts nanoseconds: a fixed period gives exactly `frequency_hz` samples
  // per second of CPU, which makes shares exact, where freq mode would adapt the period.
  attr.sample_period = 1000000000ull / o.frequency_hz;
  std::vector<int> cpus = online_cpus();
  if (cpus.empty()) {
    *error = "profiler: cannot read the online CPUs from /sys/devices/system/cpu/online";
    return false;
  }
  for (int cpu : cpus) {
    int fd = int(syscall(SYS_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC));
    if (fd < 0) {
      *error = perf_open_error(errno);
      return false;
    }
    perf_fds_.push_back(fd);
    bpf_link* link = bpf_program__attach_perf_event(skel_->progs.wg_profile_sample, fd);
    if (!link) {
      *error = fmt::format("cannot attach the profiler to CPU {}: {}", cpu, strerror(errno));
      return false;
    }
    attachment_.add(link);
  }
  return true;
}

Sampler::~Sampler() {
  attachment_.detach();
  if (ring_) ring_buffer__free(ring_);
  for (int fd : perf_fds_) close(fd);
  if (skel_) profile_bpf__destroy(skel_);
}

int Sampler::on_sample(void* ctx, void* data, size_t size) {
  auto* self = static_cast<Sampler*>(ctx);
  if (size >= offsetof(wg_profile_sample, ustack))
    self->handler_(*static_cast<const wg_profile_sample*>(data), size);
  return 0;
}

// load_object() loads the object without the skeleton's mmap of its global data: the value
// is written through the map.
void Sampler::set_collecting(bool on) {
  skel_->bss->collecting = on ? 1 : 0;
  uint32_t zero = 0;
  bpf_map__update_elem(skel_->maps.bss, &zero, sizeof(zero), skel_->bss, sizeof(*skel_->bss), BPF_ANY);
}

int Sampler::poll(int timeout_ms) { return ring_buffer__poll(ring_, timeout_ms); }

uint64_t Sampler::dropped() const {
  int ncpu = libbpf_num_possible_cpus();
  if (ncpu <= 0) return 0;
  std::vector<uint64_t> values(size_t(ncpu), 0);
  uint32_t key = WG_PROFILE_DROP_RINGBUF_FULL;
  uint64_t total = 0;
  for (key = 0; key < WG_PROFILE_DROPS; key++) {
    if (bpf_map__lookup_elem(skel_->maps.drops, &key, sizeof(key), values.data(), values.size() * 8, 0) != 0)
      continue;
    for (uint64_t v : values) total += v;
  }
  return total;
}

}  // namespace waggle
