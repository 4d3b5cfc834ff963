// What the running kernel can do, learned by loading (and where it proves more, attaching and
// running) tiny programs, never by reading version numbers. `waggle doctor` prints it; the
// agent picks each sensor's hooks from it.
#pragma once

#include <string>
#include <vector>

namespace waggle {

struct Feature {
  std::string name;  // e.g. "kprobes"
  bool ok = false;
  std::string detail;  // how it was proven, or why it failed
};

struct KernelFeatures {
  Feature btf, ringbuf, tracefs, tracepoint, raw_tracepoint, btf_tracepoint, kprobe, fentry, lsm, uprobe,
      perf_event, xdp, cgroup, send_signal, bpf_loop, task_storage, syscall_args_at_exit, socket_tracepoints;
  std::string lockdown;                                    // none, integrity, confidentiality, or why unknown
  std::vector<std::pair<std::string, bool>> capabilities;  // name, held (effective)

  // Every feature, in display order.
  std::vector<const Feature*> all() const;
  // True when BPF programs can be loaded at all.
  bool can_load_bpf() const { return tracepoint.ok || raw_tracepoint.ok || btf_tracepoint.ok; }
};

// Runs every probe. Takes a few tens of milliseconds.
KernelFeatures probe_kernel();

}  // namespace waggle
