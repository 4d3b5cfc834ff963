/* Tiny programs that `waggle doctor` and the agent load, one at a time, to learn what the
 * running kernel can do. Each one that runs bumps its counter so that attachment is proven
 * by execution, not only by a successful syscall. */
#include "vmlinux_min.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

enum { P_TRACEPOINT, P_RAW_TP, P_TP_BTF, P_KPROBE, P_FENTRY, P_LSM, P_UPROBE, P_PERF, P_EXIT_ARGS, P_SOCK_TP, P_COUNT };
__u64 hits[P_COUNT] = {};
/* Only the probing process counts, so that others' syscalls do not fake a result. */
const volatile __u32 probe_tgid = 0;

static __always_inline int hit(int which) {
  if ((bpf_get_current_pid_tgid() >> 32) == probe_tgid) __sync_fetch_and_add(&hits[which], 1);
  return 0;
}

SEC("tracepoint/syscalls/sys_enter_getppid")
int wg_probe_tp(void *ctx) { return hit(P_TRACEPOINT); }

SEC("raw_tp/sys_enter")
int wg_probe_raw_tp(void *ctx) { return hit(P_RAW_TP); }

SEC("tp_btf/sys_enter")
int wg_probe_tp_btf(u64 *ctx) { return hit(P_TP_BTF); }

SEC("kprobe/vfs_read")
int wg_probe_kprobe(void *ctx) { return hit(P_KPROBE); }

SEC("fentry/vfs_read")
int wg_probe_fentry(u64 *ctx) { return hit(P_FENTRY); }

SEC("lsm/file_open")
int wg_probe_lsm(u64 *ctx) {
  hit(P_LSM);
  return 0;
}

SEC("uprobe")
int wg_probe_uprobe(void *ctx) { return hit(P_UPROBE); }

SEC("perf_event")
int wg_probe_perf(void *ctx) { return hit(P_PERF); }

SEC("xdp")
int wg_probe_xdp(void *ctx) { return 2; /* XDP_PASS */ }

SEC("cgroup/connect4")
int wg_probe_cgroup(void *ctx) { return 1; /* allow */ }

/* A syscall's arguments read at its exit, from the registers the task saved at its entry: the
 * network sensor then needs no entry programs. Proven with close(-7777). */
SEC("tracepoint/syscalls/sys_exit_close")
int wg_probe_exit_args(void *ctx) {
  struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
  if ((int)regs->di == -7777) return hit(P_EXIT_ARGS);
  return 0;
}

/* The socket layer's own tracepoints (the network sensor's cheapest hook for socket data),
 * proven by a send on a socket pair. */
SEC("tp_btf/sock_send_length")
int wg_probe_sock_tp(u64 *ctx) { return hit(P_SOCK_TP); }

/* The helpers the sensors need: a program that calls them must load. */
static long loop_step(u32 i, void *ctx) { return 0; }

SEC("raw_tp/sys_enter")
int wg_probe_loop(void *ctx) {
  bpf_loop(1, loop_step, NULL, 0);
  return 0;
}

SEC("raw_tp/sys_enter")
int wg_probe_signal(void *ctx) {
  if (probe_tgid == 0xffffffff) bpf_send_signal(9); /* never taken: only loading matters */
  return 0;
}

/* Task-local storage from a tracepoint program (the file sensor keeps pending opens there). */
struct {
  __uint(type, BPF_MAP_TYPE_TASK_STORAGE);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, int);
  __type(value, __u64);
} probe_task_storage SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getppid")
int wg_probe_task_st(void *ctx) {
  __u64 *v = bpf_task_storage_get(&probe_task_storage, bpf_get_current_task_btf(), 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
  if (v) *v += 1;
  return 0;
}
