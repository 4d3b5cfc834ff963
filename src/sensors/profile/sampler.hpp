// The profiler's kernel side: its BPF program attached to a software CPU-clock perf event on
// every online CPU, the selection it filters by, and the ring its samples arrive in.
#pragma once

#include <linux/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/bpf_loader.hpp"
#include "sensors/sensor.hpp"
#include "sensors/profile/profile_record.h"

struct profile_bpf;
struct ring_buffer;

namespace waggle {

struct SamplerOptions {
  uint32_t frequency_hz = 19;          // 1..999 samples per second per CPU
  std::vector<uint32_t> pids;          // only these processes (tgids); empty: all
  std::string comm;                    // only processes with this comm; empty: all
  std::vector<std::string> binaries;   // only processes running one of these executables
  std::vector<uint64_t> cgroup_ids;    // only processes in one of these cgroups or below
  bool kernel_stacks = true;
  bool user_stacks = true;
  uint32_t user_stack_bytes = 16384;   // copied per sample, at most WG_PROFILE_USTACK_MAX
  uint64_t ring_bytes = 0;             // 0: half a second of full-size samples at this rate, 2 to 32 MiB
  uint32_t self_tgid = 0;              // never sampled
  // Off-CPU: sample blocked time instead of CPU time, frequency_hz per second a thread waits
  // (sched_switch and sys_exit instead of perf events).
  bool off_cpu = false;
};

constexpr uint32_t kProfileMinHz = 1;
constexpr uint32_t kProfileMaxHz = 999;

// Whether the profiler can run here, and on which hooks: perf events, and the task's saved
// user registers (bpf_task_pt_regs, proven by the "exit arguments" probe).
SensorPlan plan_profiler(const KernelFeatures& features);
// The same for off-CPU profiling: BTF tracepoints on sched_switch and sys_exit, task storage.
SensorPlan plan_offcpu_profiler(const KernelFeatures& features);

// Checks options before anything is loaded: frequency range, pids that exist, binaries that
// can be stat'ed. Returns the problem, or empty.
std::string check_sampler_options(const SamplerOptions& options);

class Sampler {
 public:
  using Handler = std::function<void(const wg_profile_sample& sample, size_t size)>;

  // Loads and attaches on every online CPU, or nothing (*error says why).
  static std::unique_ptr<Sampler> open(const SamplerOptions& options, Handler handler, std::string* error);
  ~Sampler();
  Sampler(const Sampler&) = delete;
  Sampler& operator=(const Sampler&) = delete;

  // Waits up to timeout_ms, then hands every waiting sample to the handler. Returns the
  // number handled, or -errno.
  int poll(int timeout_ms);
  // Samples the kernel could not post (ring full).
  uint64_t dropped() const;
  uint32_t frequency_hz() const { return frequency_hz_; }
  // Whether the program copies and posts samples; opened collecting. While off, it returns
  // before reading any stack.
  void set_collecting(bool on);

 private:
  Sampler() = default;
  static int on_sample(void* ctx, void* data, size_t size);
  bool attach_cpu_clock(const SamplerOptions& options, std::string* error);

  profile_bpf* skel_ = nullptr;
  ring_buffer* ring_ = nullptr;
  std::vector<int> perf_fds_;
  Attachment attachment_;
  Handler handler_;
  uint32_t frequency_hz_ = 0;
};

// The CPUs listed in /sys/devices/system/cpu/online.
std::vector<int> online_cpus();

}  // namespace waggle
