#include "core/feature_probe.hpp"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <linux/capability.h>
#include <linux/perf_event.h>
#include <strings.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <functional>

#include "core/bpf_log.hpp"
#include "core/host.hpp"
#include "probe.skel.h"

// A function of our own binary for the uprobe probe to attach to.
extern "C" __attribute__((noinline, used, visibility("default"))) int waggle_uprobe_target(int x) {
  asm volatile("" ::: "memory");
  return x + 1;
}

namespace waggle {
namespace {

enum { P_TRACEPOINT, P_RAW_TP, P_TP_BTF, P_KPROBE, P_FENTRY, P_LSM, P_UPROBE, P_PERF, P_EXIT_ARGS, P_SOCK_TP };

// The first line of libbpf's complaint that says why, without the verifier's full log.
std::string reason_from_log(const std::string& log, int err) {
  std::string reason;
  size_t pos = 0;
  while (pos < log.size()) {
    size_t end = log.find('\n', pos);
    if (end == std::string::npos) end = log.size();
    std::string line = log.substr(pos, end - pos);
    if (line.find("failed") != std::string::npos || line.find("Error") != std::string::npos ||
        line.find("not supported") != std::string::npos) {
      reason = line;
      break;
    }
    pos = end + 1;
  }
  std::string errtext = fmt::format("{} ({})", strerror(-err), -err);
  return reason.empty() ? errtext : fmt::format("{}: {}", errtext, reason.substr(0, 160));
}

struct ProbeSkel {
  probe_bpf* skel = nullptr;
  ~ProbeSkel() { probe_bpf__destroy(skel); }
};

// Opens the probe object with only `prog_name` to load, loads it, and hands it to `use`.
Feature with_program(const std::string& feature, const char* prog_name,
                     const std::function<Feature(probe_bpf*, bpf_program*)>& use) {
  Feature f{feature};
  ProbeSkel s;
  s.skel = probe_bpf__open();
  if (!s.skel) {
    f.detail = fmt::format("cannot open the probe object: {}", strerror(errno));
    return f;
  }
  s.skel->rodata->probe_tgid = getpid();
  bpf_program* chosen = nullptr;
  bpf_program* prog;
  bpf_object__for_each_program(prog, s.skel->obj) {
    bool wanted = strcmp(bpf_program__name(prog), prog_name) == 0;
    bpf_program__set_autoload(prog, wanted);
    if (wanted) chosen = prog;
  }
  take_libbpf_log();
  int err = probe_bpf__load(s.skel);
  if (err) {
    f.detail = "load failed: " + reason_from_log(take_libbpf_log(), err);
    return f;
  }
  return use(s.skel, chosen);
}

// Attaches with `attach`, runs `trigger`, and checks the program ran.
Feature attach_and_run(const std::string& feature, const char* prog_name, int counter,
                       const std::function<bpf_link*(bpf_program*)>& attach,
                       const std::function<void()>& trigger, const std::string& proof) {
  return with_program(feature, prog_name, [&](probe_bpf* skel, bpf_program* prog) {
    Feature f{feature};
    bpf_link* link = attach(prog);
    if (!link) {
      int err = -errno;
      f.detail = "attach failed: " + reason_from_log(take_libbpf_log(), err);
      return f;
    }
    trigger();
    uint64_t hits = skel->bss->hits[counter];
    bpf_link__destroy(link);
    f.ok = hits > 0;
    f.detail = f.ok ? proof : "attached, but the program never ran";
    return f;
  });
}

void read_a_file() {
  int fd = open("/proc/self/stat", O_RDONLY);
  char buf[64];
  if (fd >= 0) {
    (void)!read(fd, buf, sizeof(buf));
    close(fd);
  }
}

void send_on_a_socket_pair() {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return;
  (void)!write(sv[0], "x", 1);
  close(sv[0]);
  close(sv[1]);
}

void call_getppid() {
  for (int i = 0; i < 3; i++) syscall(SYS_getppid);
}

Feature probe_btf() {
  Feature f{"BTF"};
  btf* vmlinux = btf__load_vmlinux_btf();
  if (!vmlinux) {
    f.detail = fmt::format("no kernel BTF (/sys/kernel/btf/vmlinux): {}", strerror(errno));
    return f;
  }
  f.ok = true;
  f.detail = fmt::format("kernel BTF with {} types", btf__type_cnt(vmlinux));
  btf__free(vmlinux);
  return f;
}

Feature probe_ringbuf() {
  Feature f{"ring buffer"};
  int fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "wg_probe_rb", 0, 0, 4096, nullptr);
  f.ok = fd >= 0;
  f.detail = f.ok ? "created a BPF ring buffer map" : fmt::format("cannot create one: {}", strerror(errno));
  if (fd >= 0) close(fd);
  return f;
}

Feature probe_tracefs() {
  Feature f{"tracefs"};
  std::string error;
  std::string where = ensure_tracefs(&error);
  f.ok = !where.empty();
  f.detail = f.ok ? "mounted at " + where : error;
  return f;
}

Feature probe_xdp() {
  return with_program("XDP", "wg_probe_xdp", [](probe_bpf*, bpf_program* prog) {
    Feature f{"XDP"};
    unsigned char packet[64] = {};
    LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = packet, .data_size_in = sizeof(packet));
    int err = bpf_prog_test_run_opts(bpf_program__fd(prog), &run);
    f.ok = err == 0 && run.retval == 2;
    f.detail = f.ok ? "loaded and ran on a test packet (attached to no device)"
                    : fmt::format("test run failed: {}", strerror(errno));
    return f;
  });
}

Feature probe_cgroup() {
  return with_program("cgroup hooks", "wg_probe_cgroup", [](probe_bpf*, bpf_program* prog) {
    Feature f{"cgroup hooks"};
    std::string root = cgroup2_mount();
    if (root.empty()) {
      f.detail = "loaded, but no cgroup v2 hierarchy is mounted";
      return f;
    }
    std::string dir = fmt::format("{}/waggle-probe-{}", root, getpid());
    if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
      f.detail = fmt::format("cannot create {}: {}", dir, strerror(errno));
      return f;
    }
    int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY);
    bpf_link* link = fd >= 0 ? bpf_program__attach_cgroup(prog, fd) : nullptr;
    int err = -errno;
    f.ok = link != nullptr;
    f.detail = f.ok ? "attached connect4 to a temporary cgroup under " + root
                    : "attach failed: " + reason_from_log(take_libbpf_log(), err);
    bpf_link__destroy(link);
    if (fd >= 0) close(fd);
    rmdir(dir.c_str());
    return f;
  });
}

Feature probe_perf_event() {
  return attach_and_run(
      "perf events", "wg_probe_perf", P_PERF,
      [](bpf_program* prog) -> bpf_link* {
        perf_event_attr attr{};
        attr.type = PERF_TYPE_SOFTWARE;
        attr.size = sizeof(attr);
        attr.config = PERF_COUNT_SW_CPU_CLOCK;
        attr.sample_period = 100000;  // every 100 µs of CPU
        int fd = syscall(SYS_perf_event_open, &attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
        if (fd < 0) return nullptr;
        bpf_link* link = bpf_program__attach_perf_event(prog, fd);
        if (!link) close(fd);
        return link;  // the link owns fd from here
      },
      [] {
        auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(20);
        volatile uint64_t spin = 0;
        while (std::chrono::steady_clock::now() < until) spin = spin + 1;
      },
      "sampled this process's CPU clock");
}

Feature probe_helper(const std::string& name, const char* prog_name) {
  return with_program(name, prog_name, [&](probe_bpf*, bpf_program*) {
    return Feature{name, true, "a program calling it loaded"};
  });
}

std::string read_lockdown() {
  const char* path = "/sys/kernel/security/lockdown";
  if (access(path, R_OK) != 0) mount("securityfs", "/sys/kernel/security", "securityfs", 0, nullptr);
  std::ifstream in(path);
  std::string line;
  if (!std::getline(in, line)) return "unknown (no /sys/kernel/security/lockdown)";
  size_t open = line.find('['), close = line.find(']');
  if (open == std::string::npos || close == std::string::npos) return line;
  return line.substr(open + 1, close - open - 1);
}

std::vector<std::pair<std::string, bool>> read_capabilities() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  syscall(SYS_capget, &header, data);
  auto has = [&](int cap) { return (data[cap / 32].effective >> (cap % 32)) & 1; };
  return {{"CAP_BPF", has(39)},       {"CAP_PERFMON", has(38)},      {"CAP_SYS_ADMIN", has(21)},
          {"CAP_NET_ADMIN", has(12)}, {"CAP_SYS_RESOURCE", has(24)}, {"CAP_KILL", has(5)}};
}

// WAGGLE_DISABLE_FEATURES="task storage,BTF tracepoints" makes features count as absent: how
// the tests (and a cautious operator) run the fallbacks a newer kernel would never take.
void apply_disabled_features(KernelFeatures& k) {
  const char* env = getenv("WAGGLE_DISABLE_FEATURES");
  if (!env) return;
  std::string list = env;
  for (const Feature* f : k.all()) {
    size_t start = 0;
    while (start <= list.size()) {
      size_t end = list.find(',', start);
      if (end == std::string::npos) end = list.size();
      if (strcasecmp(list.substr(start, end - start).c_str(), f->name.c_str()) == 0) {
        auto* mutable_feature = const_cast<Feature*>(f);
        mutable_feature->ok = false;
        mutable_feature->detail = "disabled by WAGGLE_DISABLE_FEATURES";
      }
      start = end + 1;
    }
  }
}

}  // namespace

std::vector<const Feature*> KernelFeatures::all() const {
  return {&btf,    &ringbuf,     &tracefs,  &tracepoint,   &raw_tracepoint,      &btf_tracepoint,
          &kprobe, &fentry,      &lsm,      &uprobe,       &perf_event,          &xdp,
          &cgroup, &send_signal, &bpf_loop, &task_storage, &syscall_args_at_exit, &socket_tracepoints};
}

KernelFeatures probe_kernel() {
  capture_libbpf_log();
  KernelFeatures k;
  k.btf = probe_btf();
  k.ringbuf = probe_ringbuf();
  k.tracefs = probe_tracefs();
  if (k.tracefs.ok) {
    k.tracepoint = attach_and_run("tracepoints", "wg_probe_tp", P_TRACEPOINT, bpf_program__attach,
                                  call_getppid, "syscalls:sys_enter_getppid ran");
  } else {
    k.tracepoint = Feature{"tracepoints", false, "needs tracefs"};
  }
  k.raw_tracepoint = attach_and_run("raw tracepoints", "wg_probe_raw_tp", P_RAW_TP, bpf_program__attach,
                                    call_getppid, "raw_syscalls:sys_enter ran");
  k.btf_tracepoint = attach_and_run("BTF tracepoints", "wg_probe_tp_btf", P_TP_BTF, bpf_program__attach,
                                    call_getppid, "tp_btf/sys_enter ran");
  k.kprobe = attach_and_run("kprobes", "wg_probe_kprobe", P_KPROBE, bpf_program__attach, read_a_file,
                            "kprobe on vfs_read ran");
  k.fentry = attach_and_run("fentry/fexit", "wg_probe_fentry", P_FENTRY, bpf_program__attach, read_a_file,
                            "fentry on vfs_read ran");
  k.lsm =
      attach_and_run("BPF LSM", "wg_probe_lsm", P_LSM, bpf_program__attach, read_a_file, "lsm/file_open ran");
  k.uprobe = attach_and_run(
      "uprobes", "wg_probe_uprobe", P_UPROBE,
      [](bpf_program* prog) {
        LIBBPF_OPTS(bpf_uprobe_opts, opts, .func_name = "waggle_uprobe_target");
        return bpf_program__attach_uprobe_opts(prog, getpid(), "/proc/self/exe", 0, &opts);
      },
      [] {
        volatile int x = waggle_uprobe_target(1);
        (void)x;
      },
      "uprobe on a function of this binary ran");
  k.perf_event = probe_perf_event();
  k.xdp = probe_xdp();
  k.cgroup = probe_cgroup();
  k.send_signal = probe_helper("bpf_send_signal", "wg_probe_signal");
  k.bpf_loop = probe_helper("bpf_loop", "wg_probe_loop");
  k.task_storage =
      k.tracefs.ok
          ? with_program("task storage", "wg_probe_task_st",
                         [](probe_bpf*, bpf_program*) {
                           return Feature{"task storage", true, "a tracepoint program using it loaded"};
                         })
          : Feature{"task storage", false, "needs tracefs"};
  k.syscall_args_at_exit = k.tracefs.ok ? attach_and_run(
                                              "exit arguments", "wg_probe_exit_args", P_EXIT_ARGS,
                                              bpf_program__attach, [] { (void)!close(-7777); },
                                              "sys_exit_close read its argument from the saved registers")
                                        : Feature{"exit arguments", false, "needs tracefs"};
  k.socket_tracepoints = attach_and_run("socket tracepoints", "wg_probe_sock_tp", P_SOCK_TP, bpf_program__attach,
                                        send_on_a_socket_pair, "tp_btf/sock_send_length ran");
  apply_disabled_features(k);
  k.lockdown = read_lockdown();
  k.capabilities = read_capabilities();
  take_libbpf_log();
  return k;
}

}  // namespace waggle
