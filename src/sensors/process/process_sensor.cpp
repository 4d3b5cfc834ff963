#include "sensors/process/process_sensor.hpp"

#include <bpf/libbpf.h>

#include <cstring>

#include "core/bpf_loader.hpp"
#include "core/proc_reader.hpp"
#include "process.skel.h"

namespace waggle {

SensorPlan plan_process_sensor(const KernelFeatures& f) {
  SensorPlan plan;
  plan.reason = missing_core_features(f);
  if (!plan.reason.empty()) return plan;  // can_run stays false
  if (f.btf_tracepoint.ok)
    plan.hook = "tp_btf/sched_process_{exec,exit,fork}";
  else if (f.raw_tracepoint.ok)
    plan.hook = "raw_tp/sched_process_{exec,exit,fork}";
  else
    plan.reason = "needs BTF or raw tracepoints: " + f.raw_tracepoint.detail;
  plan.can_run = plan.reason.empty();
  return plan;
}

void decode_exit_status(int status, ExitEvent& event) {
  int signal = status & 0x7f;
  if (signal == 0) {
    event.exit_code = (status >> 8) & 0xff;
  } else {
    event.signal = signal;
    event.core_dumped = (status & 0x80) != 0;
  }
}

namespace {

class ProcessSensor final : public Sensor {
 public:
  ProcessSensor(const SensorEnv& env, process_bpf* skel, std::string hook)
      : cache_(*env.cache), skel_(skel), hook_(std::move(hook)) {}
  ~ProcessSensor() override {
    attachment_.detach();
    process_bpf__destroy(skel_);
  }

  bool attach(std::string* error) { return attachment_.attach_all(skel_->obj, "process", error); }

  std::string_view name() const override { return "process"; }
  std::string_view hook() const override { return hook_; }
  bool handles(uint16_t type) const override {
    return type == WG_REC_EXEC || type == WG_REC_EXIT || type == WG_REC_FORK;
  }
  void detach() override { attachment_.detach(); }
  void program_stats(std::vector<ProgramStats>* out) const override { attachment_.program_stats(out); }

  void decode(const wg_header& h, const void* record, size_t size, const EventCallback& emit) override {
    switch (h.type) {
      case WG_REC_EXEC:
        if (size >= sizeof(wg_exec)) decode_exec(*static_cast<const wg_exec*>(record), size, emit);
        break;
      case WG_REC_EXIT:
        if (size >= sizeof(wg_exit)) decode_exit(*static_cast<const wg_exit*>(record), emit);
        break;
      case WG_REC_FORK:
        if (size >= sizeof(wg_fork)) {
          const auto& fork = *static_cast<const wg_fork*>(record);
          cache_.on_fork(h.pid, fork.child_pid, fork.child_start_boottime, h.ktime);
        }
        break;
    }
  }

 private:
  void decode_exec(const wg_exec& rec, size_t size, const EventCallback& emit) {
    const wg_header& h = rec.h;
    size_t need = sizeof(wg_exec) + size_t(rec.binary_len) + rec.cwd_len + rec.args_len + rec.cgroup_name_len;
    if (need > size) return;  // malformed: cannot happen with our program
    const HostInfo& host = cache_.host();
    auto p = std::make_shared<ProcessInfo>();
    const char* data = rec.data;
    p->pid = h.pid;
    p->ppid = h.ppid;
    p->uid = h.uid;
    p->gid = h.gid;
    p->comm = comm_string(h.comm, sizeof(h.comm));
    p->binary.assign(data, rec.binary_len);
    data += rec.binary_len;
    p->cwd.assign(data, rec.cwd_len);
    data += rec.cwd_len;
    p->args = split_args(std::string_view(data, rec.args_len));
    data += rec.args_len;
    p->container_id = cache_.container_of(h.pid, h.cgroup_id, std::string_view(data, rec.cgroup_name_len));
    p->binary_truncated = h.flags & WG_F_BINARY_TRUNC;
    p->cwd_truncated = h.flags & WG_F_CWD_TRUNC;
    p->args_truncated = h.flags & WG_F_ARGS_TRUNC;
    p->cgroup_id = h.cgroup_id;
    p->start_boottime_ns = h.start_boottime;
    p->start_time_ns = host.wall_ns(h.start_boottime);
    // The exec's own time, not the process's start: a process that execs twice gets two ids.
    p->exec_id = host.exec_id(h.ktime, h.pid);
    ExecEvent event;
    event.time_ns = host.wall_ns(h.ktime);
    event.tid = h.tid;
    event.process = p;
    event.parent = cache_.on_exec(event.process);
    emit(Event{std::move(event)});
  }

  void decode_exit(const wg_exit& rec, const EventCallback& emit) {
    const wg_header& h = rec.h;
    ExitEvent event;
    event.time_ns = cache_.host().wall_ns(h.ktime);
    event.tid = h.tid;
    event.process = process_of(cache_, h);
    cache_.on_exit(h.pid, h.ktime);
    decode_exit_status(rec.exit_code, event);
    event.duration_ns = h.ktime > h.start_boottime ? h.ktime - h.start_boottime : 0;
    emit(Event{std::move(event)});
  }

  ProcessCache& cache_;
  process_bpf* skel_;
  std::string hook_;
  Attachment attachment_;
};

}  // namespace

std::unique_ptr<Sensor> open_process_sensor(const SensorEnv& env, std::string* error) {
  SensorPlan plan = plan_process_sensor(*env.features);
  if (!plan.can_run) {
    *error = "process sensor disabled: " + plan.reason;
    return nullptr;
  }
  process_bpf* skel = process_bpf__open();
  if (!skel) {
    *error = std::string("process sensor: cannot open its BPF object: ") + strerror(errno);
    return nullptr;
  }
  set_common_rodata(skel->rodata, env);
  bool btf = env.features->btf_tracepoint.ok;
  for (auto* prog : {skel->progs.wg_exec_btf, skel->progs.wg_exit_btf, skel->progs.wg_fork_btf})
    bpf_program__set_autoload(prog, btf);
  for (auto* prog : {skel->progs.wg_exec_raw, skel->progs.wg_exit_raw, skel->progs.wg_fork_raw})
    bpf_program__set_autoload(prog, !btf);
  auto sensor = std::make_unique<ProcessSensor>(env, skel, plan.hook);
  if (!share_ring_maps(skel->obj, *env.ring, error) || !load_object(skel->obj, "process", error) ||
      !sensor->attach(error))
    return nullptr;
  return sensor;
}

}  // namespace waggle
