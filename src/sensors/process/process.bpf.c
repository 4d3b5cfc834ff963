/* Process sensor: exec, exit and fork from the sched tracepoints. Each hook has two entry
 * points with the same body: a BTF tracepoint (preferred) and a raw tracepoint (fallback for
 * kernels without BTF-typed tracepoint attachment); user space loads the one the kernel has. */
#include "common.bpf.h"

#define EXEC_DATA_CAP (2 * WG_PATH_MAX + WG_ARGS_MAX + WG_CGROUP_NAME_MAX + WG_NAME_MAX + 1)

struct exec_scratch {
  char bytes[sizeof(struct wg_exec) + EXEC_DATA_CAP];
};

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, u32);
  __type(value, struct exec_scratch);
} exec_scratch_map SEC(".maps");

static __always_inline int on_exec(struct linux_binprm *bprm) {
  struct task_struct *task = (void *)bpf_get_current_task();
  u32 tgid = bpf_get_current_pid_tgid() >> 32;
  if (!wg_selected(tgid)) return 0;
  u32 zero = 0;
  struct exec_scratch *s = bpf_map_lookup_elem(&exec_scratch_map, &zero);
  if (!s) return 0;
  struct wg_exec *rec = (struct wg_exec *)s->bytes;
  char *data = s->bytes + sizeof(struct wg_exec);
  wg_fill_header(&rec->h, WG_REC_EXEC, task);

  bool truncated = false;
  struct file *exe = BPF_CORE_READ(bprm, file);
  struct vfsmount *root_mnt = BPF_CORE_READ(task, fs, root.mnt);
  struct dentry *root_dentry = BPF_CORE_READ(task, fs, root.dentry);
  u32 binary_len = wg_write_path(BPF_CORE_READ(exe, f_path.mnt), BPF_CORE_READ(exe, f_path.dentry),
                                 root_mnt, root_dentry, data, &truncated);
  if (truncated) rec->h.flags |= WG_F_BINARY_TRUNC;
  if (binary_len > WG_PATH_MAX) return 0; /* cannot happen; bounds the offsets below */

  truncated = false;
  u32 cwd_len = wg_write_path(BPF_CORE_READ(task, fs, pwd.mnt), BPF_CORE_READ(task, fs, pwd.dentry),
                              root_mnt, root_dentry, &data[binary_len], &truncated);
  if (truncated) rec->h.flags |= WG_F_CWD_TRUNC;
  if (cwd_len > WG_PATH_MAX) return 0;

  u32 off = binary_len + cwd_len;
  unsigned long arg_start = BPF_CORE_READ(task, mm, arg_start);
  unsigned long arg_end = BPF_CORE_READ(task, mm, arg_end);
  u64 args_len = arg_end > arg_start ? arg_end - arg_start : 0;
  if (args_len > WG_ARGS_MAX) {
    args_len = WG_ARGS_MAX;
    rec->h.flags |= WG_F_ARGS_TRUNC;
  }
  if (off > 2 * WG_PATH_MAX) return 0;
  if (args_len > 0 &&
      bpf_probe_read_user(&data[off], args_len, (void *)arg_start) != 0) {
    wg_count_drop(WG_SENSOR_PROCESS, WG_DROP_READ_FAILED);
    args_len = 0;
  }
  off += args_len;

  const char *cg_name = BPF_CORE_READ(task, cgroups, dfl_cgrp, kn, name);
  long cg_len = 0;
  if (off > 2 * WG_PATH_MAX + WG_ARGS_MAX) return 0;
  if (cg_name) {
    cg_len = bpf_probe_read_kernel_str(&data[off], WG_CGROUP_NAME_MAX, cg_name);
    cg_len = cg_len > 0 ? cg_len - 1 : 0; /* without its NUL */
  }

  rec->binary_len = binary_len;
  rec->cwd_len = cwd_len;
  rec->args_len = args_len;
  rec->cgroup_name_len = cg_len;
  u64 size = sizeof(*rec) + off + cg_len;
  rec->h.size = size;
  if (size > sizeof(*s)) return 0;
  wg_emit(WG_SENSOR_PROCESS, rec, size);
  return 0;
}

/* Processes whose exit was reported. Two threads exiting at once can both see the live count
 * at zero; the first to insert here reports. Old entries fall out of the LRU. */
struct exited_key {
  u32 tgid;
  u32 pad;
  u64 start_boottime;
};
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 4096);
  __type(key, struct exited_key);
  __type(value, u8);
} exited SEC(".maps");

static __always_inline int on_exit(struct task_struct *task) {
  /* The tracepoint fires for every thread; report the process once, when its last thread goes. */
  if (BPF_CORE_READ(task, signal, live.counter) != 0) return 0;
  u32 tgid = bpf_get_current_pid_tgid() >> 32;
  if (!wg_selected(tgid)) return 0;
  struct exited_key key = {.tgid = tgid, .start_boottime = BPF_CORE_READ(task, group_leader, start_boottime)};
  u8 one = 1;
  if (bpf_map_update_elem(&exited, &key, &one, BPF_NOEXIST) != 0) return 0;
  struct wg_exit rec = {};
  wg_fill_header(&rec.h, WG_REC_EXIT, task);
  rec.h.size = sizeof(rec);
  rec.exit_code = BPF_CORE_READ(task, exit_code);
  wg_emit(WG_SENSOR_PROCESS, &rec, sizeof(rec));
  return 0;
}

static __always_inline int on_fork(struct task_struct *parent, struct task_struct *child) {
  u32 child_pid = BPF_CORE_READ(child, pid);
  if (BPF_CORE_READ(child, tgid) != child_pid) return 0; /* a new thread, not a process */
  u32 tgid = bpf_get_current_pid_tgid() >> 32;
  if (!wg_selected(tgid)) return 0;
  struct wg_fork rec = {};
  wg_fill_header(&rec.h, WG_REC_FORK, parent);
  rec.h.size = sizeof(rec);
  rec.child_pid = child_pid;
  rec.child_start_boottime = BPF_CORE_READ(child, start_boottime);
  wg_emit(WG_SENSOR_PROCESS, &rec, sizeof(rec));
  return 0;
}

/* sched_process_exec(struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm) */
SEC("tp_btf/sched_process_exec")
int wg_exec_btf(u64 *ctx) { return on_exec((struct linux_binprm *)ctx[2]); }
SEC("raw_tp/sched_process_exec")
int wg_exec_raw(struct bpf_raw_tracepoint_args *ctx) { return on_exec((struct linux_binprm *)ctx->args[2]); }

/* sched_process_exit(struct task_struct *p, ...) */
SEC("tp_btf/sched_process_exit")
int wg_exit_btf(u64 *ctx) { return on_exit((struct task_struct *)ctx[0]); }
SEC("raw_tp/sched_process_exit")
int wg_exit_raw(struct bpf_raw_tracepoint_args *ctx) { return on_exit((struct task_struct *)ctx->args[0]); }

/* sched_process_fork(struct task_struct *parent, struct task_struct *child) */
SEC("tp_btf/sched_process_fork")
int wg_fork_btf(u64 *ctx) { return on_fork((struct task_struct *)ctx[0], (struct task_struct *)ctx[1]); }
SEC("raw_tp/sched_process_fork")
int wg_fork_raw(struct bpf_raw_tracepoint_args *ctx) {
  return on_fork((struct task_struct *)ctx->args[0], (struct task_struct *)ctx->args[1]);
}
