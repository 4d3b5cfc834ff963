#include "sensors/sensor.hpp"

#include <cstring>

namespace waggle {

std::string missing_core_features(const KernelFeatures& f) {
  if (!f.btf.ok) return "needs kernel BTF: " + f.btf.detail;
  if (!f.ringbuf.ok) return "needs BPF ring buffers: " + f.ringbuf.detail;
  if (!f.bpf_loop.ok) return "needs the bpf_loop helper (Linux 5.17+): " + f.bpf_loop.detail;
  return {};
}

std::string comm_string(const char* comm, size_t size) { return std::string(comm, strnlen(comm, size)); }

ProcessRef process_of(ProcessCache& cache, const wg_header& header) {
  if (ProcessRef known = cache.find(header.pid, header.start_boottime)) return known;
  auto p = std::make_shared<ProcessInfo>();
  const HostInfo& host = cache.host();
  p->pid = header.pid;
  p->ppid = header.ppid;
  p->uid = header.uid;
  p->gid = header.gid;
  p->comm = comm_string(header.comm, sizeof(header.comm));
  p->cgroup_id = header.cgroup_id;
  p->start_boottime_ns = header.start_boottime;
  p->start_time_ns = host.wall_ns(header.start_boottime);
  p->exec_id = host.exec_id(header.start_boottime, header.pid);
  cache.remember_unseen(p, header.ktime);
  return p;
}

}  // namespace waggle
