#include "sensors/file/file_sensor.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "core/bpf_loader.hpp"
#include "core/path_key.hpp"
#include "file.skel.h"

namespace waggle {

SensorPlan plan_file_sensor(const KernelFeatures& f) {
  SensorPlan plan;
  plan.reason = missing_core_features(f);
  if (!plan.reason.empty()) return plan;  // can_run stays false
  if (!f.tracefs.ok)
    plan.reason = "needs tracefs: " + f.tracefs.detail;
  else if (!f.tracepoint.ok)
    plan.reason = "needs syscall tracepoints: " + f.tracepoint.detail;
  else
    plan.hook = f.syscall_args_at_exit.ok
                    ? "tracepoint/syscalls/sys_exit_{open,openat,openat2,creat}"
                    : "tracepoint/syscalls/sys_{enter,exit}_{open,openat,openat2,creat}";
  plan.syscalls = plan.hook.empty() ? "" : plan.hook.substr(plan.hook.rfind('/') + 1);
  plan.can_run = plan.reason.empty();
  return plan;
}

namespace {

// Fills one LPM trie: each value becomes a key whose prefix length covers its bytes (plus the
// terminating NUL for exact paths). Suffixes are stored reversed.
bool fill_filter(bpf_map* map, const std::vector<std::string>& values, bool exact, bool reverse,
                 const char* what, std::string* error) {
  for (const std::string& value : values) {
    std::string bytes = reverse ? std::string(value.rbegin(), value.rend()) : value;
    if (bytes.size() > path_key_capacity(exact)) {
      *error = fmt::format("file sensor: {} \"{}\" is longer than {} bytes", what, value,
                           path_key_capacity(exact));
      return false;
    }
    wg_path_key key = make_path_key(bytes, exact);
    uint8_t one = 1;
    if (bpf_map__update_elem(map, &key, sizeof(key), &one, sizeof(one), BPF_ANY) != 0) {
      *error = fmt::format("file sensor: cannot load {} \"{}\": {}", what, value, strerror(errno));
      return false;
    }
  }
  return true;
}

class FileSensor final : public Sensor {
 public:
  FileSensor(const SensorEnv& env, file_bpf* skel) : cache_(*env.cache), skel_(skel) {}
  ~FileSensor() override {
    attachment_.detach();
    file_bpf__destroy(skel_);
  }

  // Exits first: an open whose entry is seen always has its exit seen too.
  bool attach(std::string* error) {
    return attachment_.attach_all(skel_->obj, "file", error, [](const bpf_program* prog) {
      return std::string_view(bpf_program__name(prog)).starts_with("wg_exit_");
    });
  }
  void set_hook(std::string hook) { hook_ = std::move(hook); }

  std::string_view name() const override { return "file"; }
  std::string_view hook() const override { return hook_; }
  bool handles(uint16_t type) const override { return type == WG_REC_OPEN; }
  void detach() override { attachment_.detach(); }
  void program_stats(std::vector<ProgramStats>* out) const override { attachment_.program_stats(out); }

  void decode(const wg_header& h, const void* record, size_t size, const EventCallback& emit) override {
    if (size < sizeof(wg_open)) return;
    const auto& rec = *static_cast<const wg_open*>(record);
    if (sizeof(wg_open) + size_t(rec.path_len) + rec.resolved_len > size) return;
    FileOpenEvent event;
    event.time_ns = cache_.host().wall_ns(h.ktime);
    event.tid = h.tid;
    event.process = process_of(cache_, h);
    event.syscall = static_cast<OpenSyscall>(std::min<uint32_t>(rec.syscall, WG_SYS_CREAT));
    event.given_path.assign(rec.data, rec.path_len);
    if (rec.resolved_len > 0)
      event.path.assign(rec.data + rec.path_len, rec.resolved_len);
    else
      event.path = event.given_path;
    event.path_truncated = h.flags & (WG_F_PATH_TRUNC | WG_F_RESOLVED_TRUNC);
    event.flags = rec.flags;
    event.mode = rec.mode;
    if (rec.ret >= 0)
      event.fd = int(rec.ret);
    else
      event.error = int(-rec.ret);
    emit(Event{std::move(event)});
  }

 private:
  ProcessCache& cache_;
  file_bpf* skel_;
  std::string hook_;
  Attachment attachment_;
};

}  // namespace

std::unique_ptr<Sensor> open_file_sensor(const SensorEnv& env, std::string* error) {
  SensorPlan plan = plan_file_sensor(*env.features);
  if (!plan.can_run) {
    *error = "file sensor disabled: " + plan.reason;
    return nullptr;
  }
  file_bpf* skel = file_bpf__open();
  if (!skel) {
    *error = std::string("file sensor: cannot open its BPF object: ") + strerror(errno);
    return nullptr;
  }
  auto sensor = std::make_unique<FileSensor>(env, skel);
  set_common_rodata(skel->rodata, env);
  const FileFilterConfig& filter = env.config->file_filter;
  skel->rodata->has_prefix = !filter.prefix.empty();
  skel->rodata->has_exact = !filter.exact.empty();
  skel->rodata->has_suffix = !filter.suffix.empty();
  // The exits read an open's arguments from the saved registers where the kernel allows it (no
  // entry programs); otherwise pending opens live with their thread where the kernel allows
  // that (cheaper than a hash).
  const bool args_at_exit = env.features->syscall_args_at_exit.ok;
  const bool task_storage = !args_at_exit && env.features->task_storage.ok;
  skel->rodata->args_at_exit = args_at_exit;
  skel->rodata->use_task_storage = task_storage;
  bpf_map__set_autocreate(skel->maps.pending_task, task_storage);
  bpf_map__set_autocreate(skel->maps.pending, !args_at_exit && !task_storage);

  // Each syscall is traced where this kernel has its tracepoints (arm64 has no open or creat).
  struct Pair {
    const char* syscall;
    bpf_program* enter;
    bpf_program* exit;
  };
  std::vector<std::string> hooked;
  for (const Pair& p : {Pair{"open", skel->progs.wg_enter_open, skel->progs.wg_exit_open},
                        Pair{"openat", skel->progs.wg_enter_openat, skel->progs.wg_exit_openat},
                        Pair{"openat2", skel->progs.wg_enter_openat2, skel->progs.wg_exit_openat2},
                        Pair{"creat", skel->progs.wg_enter_creat, skel->progs.wg_exit_creat}}) {
    bool present = tracepoint_exists(env.tracefs, "syscalls", std::string("sys_enter_") + p.syscall) &&
                   tracepoint_exists(env.tracefs, "syscalls", std::string("sys_exit_") + p.syscall);
    bpf_program__set_autoload(p.enter, present && !args_at_exit);
    bpf_program__set_autoload(p.exit, present);
    if (present) hooked.push_back(p.syscall);
  }
  if (hooked.empty()) {
    *error = "file sensor disabled: no syscalls:sys_enter_open* tracepoint on this kernel";
    return nullptr;
  }
  std::string joined;
  for (const auto& s : hooked) joined += (joined.empty() ? "" : ",") + s;
  sensor->set_hook(
      fmt::format("tracepoint/syscalls/sys_{}_{{{}}}", args_at_exit ? "exit" : "{enter,exit}", joined));

  if (!share_ring_maps(skel->obj, *env.ring, error) || !load_object(skel->obj, "file", error)) return nullptr;
  // Filters are in place before the first program is attached: nothing unfiltered leaks.
  if (!fill_filter(skel->maps.prefix_filter, filter.prefix, false, false, "prefix", error) ||
      !fill_filter(skel->maps.exact_filter, filter.exact, true, false, "exact path", error) ||
      !fill_filter(skel->maps.suffix_filter, filter.suffix, false, true, "suffix", error) ||
      !sensor->attach(error))
    return nullptr;
  return sensor;
}

}  // namespace waggle
