/* What every sensor program shares: the event ring buffer, the drop counters, the record
 * header, wakeup batching and the in-kernel path walk. */
#ifndef WAGGLE_COMMON_BPF_H
#define WAGGLE_COMMON_BPF_H

#include "vmlinux_min.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>
#include "records.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* One ring buffer for all sensors keeps the records of one process in the order they were
 * made (an exec before the opens of the new image). User space creates it once and hands the
 * same map to every sensor's object; max_entries here is replaced at load time. */
struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 1 << 24);
} events SEC(".maps");

/* Records that could not be delivered, per CPU, indexed by sensor * WG_DROP_CAUSES + cause. */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, WG_SENSORS * WG_DROP_CAUSES);
  __type(key, u32);
  __type(value, u64);
} drops SEC(".maps");

/* Set by user space before load. Records are submitted without waking the reader until this
 * many bytes wait in the ring; the reader's poll timeout flushes the rest. */
const volatile __u64 wakeup_bytes = 1 << 18;
/* The agent's own tgid: its file activity is never reported. */
const volatile __u32 self_tgid = 0;
/* When non-zero, only this process (tgid) is reported. */
const volatile __u32 filter_tgid = 0;
/* When filter_comm[0] is set, only processes with this comm are reported. */
const volatile char filter_comm[WG_COMM_LEN] = {};

static __always_inline void wg_count_drop(u32 sensor, u32 cause) {
  u32 key = sensor * WG_DROP_CAUSES + cause;
  u64 *value = bpf_map_lookup_elem(&drops, &key);
  if (value) *value += 1; /* per-CPU slot: no other CPU writes it */
}

/* The reader's position when a record last woke it. Until the reader moves on from there it
 * is awake (or about to be) and will read on: the records submitted meanwhile do not wake it
 * again. Every forced wakeup costs an inter-processor interrupt (a VM exit in a guest); waking
 * at every record past the threshold, until the reader caught up, took 2% of all CPU time of
 * a saturated HTTP server (docs/benchmarks.md). Per object: each sensor wakes the reader at
 * most once per position. */
static volatile u64 wg_woken_at = ~0ULL;

/* How a record submitted now should wake the reader (see wg_woken_at); *reader: its position. */
static __always_inline u64 wg_wakeup(u64 *reader) {
  if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) < wakeup_bytes) return BPF_RB_NO_WAKEUP;
  *reader = bpf_ringbuf_query(&events, BPF_RB_CONS_POS);
  return *reader != wg_woken_at ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

static __always_inline int wg_emit(u32 sensor, void *record, u64 size) {
  u64 reader = 0, flags = wg_wakeup(&reader);
  if (bpf_ringbuf_output(&events, record, size, flags) != 0) {
    wg_count_drop(sensor, WG_DROP_RINGBUF_FULL);
    return -1;
  }
  if (flags == BPF_RB_FORCE_WAKEUP) wg_woken_at = reader; /* only a record that went out woke it */
  return 0;
}

/* A record written in place in the ring buffer (no copy): reserved here (NULL, and counted,
 * when the ring is full), filled by the caller, then handed to wg_submit. */
static __always_inline void *wg_reserve(u32 sensor, u64 size) {
  void *record = bpf_ringbuf_reserve(&events, size, 0);
  if (!record) wg_count_drop(sensor, WG_DROP_RINGBUF_FULL);
  return record;
}

/* (The data waiting then counts this record too: a reader is woken one record sooner than by
 * wg_emit, which looks before its record is added.) */
static __always_inline void wg_submit(void *record) {
  u64 reader = 0, flags = wg_wakeup(&reader);
  bpf_ringbuf_submit(record, flags);
  if (flags == BPF_RB_FORCE_WAKEUP) wg_woken_at = reader;
}

/* True when the current process passes the --pid/--comm selection. */
static __always_inline bool wg_selected(u32 tgid) {
  if (filter_tgid && tgid != filter_tgid) return false;
  if (filter_comm[0]) {
    char comm[WG_COMM_LEN];
    bpf_get_current_comm(comm, sizeof(comm));
    for (int i = 0; i < WG_COMM_LEN; i++) {
      if (comm[i] != filter_comm[i]) return false;
      if (comm[i] == 0) break;
    }
  }
  return true;
}

static __always_inline void wg_fill_header(struct wg_header *h, u16 type, struct task_struct *task) {
  u64 pid_tgid = bpf_get_current_pid_tgid();
  u64 uid_gid = bpf_get_current_uid_gid();
  h->type = type;
  h->flags = 0;
  h->ktime = bpf_ktime_get_boot_ns();
  h->pid = pid_tgid >> 32;
  h->tid = (u32)pid_tgid;
  h->ppid = BPF_CORE_READ(task, real_parent, tgid);
  h->uid = (u32)uid_gid;
  h->gid = uid_gid >> 32;
  h->pad = 0;
  h->cgroup_id = bpf_get_current_cgroup_id();
  h->start_boottime = BPF_CORE_READ(task, group_leader, start_boottime);
  bpf_get_current_comm(h->comm, sizeof(h->comm));
}

/* The same from the current task's BTF pointer (kernels with bpf_get_current_task_btf):
 * plain loads instead of a probe-read helper call per field. */
static __always_inline void wg_fill_header_btf(struct wg_header *h, u16 type) {
  struct task_struct *task = bpf_get_current_task_btf();
  u64 uid_gid = bpf_get_current_uid_gid();
  h->type = type;
  h->flags = 0;
  h->ktime = bpf_ktime_get_boot_ns();
  h->pid = task->tgid;
  h->tid = task->pid;
  h->ppid = task->real_parent->tgid;
  h->uid = (u32)uid_gid;
  h->gid = uid_gid >> 32;
  h->pad = 0;
  h->cgroup_id = bpf_get_current_cgroup_id();
  h->start_boottime = task->group_leader->start_boottime;
  __builtin_memcpy(h->comm, task->comm, sizeof(h->comm));
}

/* The registers the current task saved when it entered the kernel: at a syscall's exit, its
 * arguments are still there (x86-64: di, si, dx, r10, r8). Needs BTF task pointers and
 * bpf_task_pt_regs ("exit arguments" in `waggle doctor`). */
static __always_inline struct pt_regs *wg_syscall_regs(void) {
  return (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
}

/* Argument i of that syscall; 0 for i < 0. */
static __always_inline u64 wg_syscall_arg(struct pt_regs *regs, int i) {
  switch (i) {
    case 0: return regs->di;
    case 1: return regs->si;
    case 2: return regs->dx;
    case 3: return regs->r10;
    case 4: return regs->r8;
  }
  return 0;
}

/* Dentries from a path's leaf up to the process's root, collected before they are written
 * root-first. */
struct wg_walk {
  struct dentry *dentries[WG_PATH_DEPTH_MAX];
};

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, u32);
  __type(value, struct wg_walk);
} wg_walk_scratch SEC(".maps");

#define WG_NAME_MAX 255
/* Room a path buffer must have past WG_PATH_MAX so that the last component can be written
 * with a constant bound. */
#define WG_PATH_BUF (WG_PATH_MAX + WG_NAME_MAX + 1)

struct wg_walk_up_ctx {
  struct wg_walk *walk;
  struct vfsmount *vfsmnt;
  struct mount *mnt;
  struct dentry *dentry;
  struct vfsmount *root_mnt;
  struct dentry *root_dentry;
  long mount_offset;
  u32 depth;
  bool reached_root;
};

/* One step from a dentry towards the root; bpf_loop keeps the verifier's work per step. */
static long wg_walk_up_step(u32 i, struct wg_walk_up_ctx *c) {
  /* Locals, not c->...: BPF_CORE_READ relocates every access in its argument. */
  struct dentry *dentry = c->dentry;
  struct vfsmount *vfsmnt = c->vfsmnt;
  struct mount *mnt = c->mnt;
  if (dentry == c->root_dentry && vfsmnt == c->root_mnt) {
    c->reached_root = true;
    return 1;
  }
  struct dentry *mnt_root = BPF_CORE_READ(vfsmnt, mnt_root);
  if (dentry == mnt_root) {
    struct mount *parent = BPF_CORE_READ(mnt, mnt_parent);
    if (parent == mnt) { /* the root of the mount tree */
      c->reached_root = true;
      return 1;
    }
    c->dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
    c->mnt = parent;
    c->vfsmnt = (void *)parent + c->mount_offset;
    return 0;
  }
  struct dentry *parent = BPF_CORE_READ(dentry, d_parent);
  if (parent == dentry) {
    c->reached_root = true;
    return 1;
  }
  if (c->depth >= WG_PATH_DEPTH_MAX) return 1;
  c->walk->dentries[c->depth & (WG_PATH_DEPTH_MAX - 1)] = dentry;
  c->depth++;
  c->dentry = parent;
  return 0;
}

struct wg_write_down_ctx {
  struct wg_walk *walk;
  char *buf;
  u32 depth;
  u32 off;
  bool truncated;
};

/* Writes one component, root-first: "/name". */
static long wg_write_down_step(u32 i, struct wg_write_down_ctx *c) {
  if (i >= c->depth) return 1;
  struct dentry *d = c->walk->dentries[(c->depth - 1 - i) & (WG_PATH_DEPTH_MAX - 1)];
  u32 len = BPF_CORE_READ(d, d_name.len);
  const unsigned char *name = BPF_CORE_READ(d, d_name.name);
  if (len > WG_NAME_MAX) len = WG_NAME_MAX;
  u32 off = c->off;
  if (off + 1 + len >= WG_PATH_MAX) {
    c->truncated = true;
    return 1;
  }
  c->buf[off & (WG_PATH_MAX - 1)] = '/';
  off++;
  bpf_probe_read_kernel(&c->buf[off & (WG_PATH_MAX - 1)], len & WG_NAME_MAX, name);
  c->off = off + len;
  return 0;
}

/* Writes the absolute path of (vfsmnt, dentry), as seen from the root (root_mnt,
 * root_dentry), into buf (WG_PATH_BUF bytes), NUL-terminated. Crosses mount points like
 * d_path(). Returns the length without the NUL; sets *truncated when the path is deeper than
 * WG_PATH_DEPTH_MAX or longer than WG_PATH_MAX (the components nearest the root are kept). */
static __always_inline u32 wg_write_path(struct vfsmount *vfsmnt, struct dentry *dentry,
                                         struct vfsmount *root_mnt, struct dentry *root_dentry,
                                         char *buf, bool *truncated) {
  u32 zero = 0;
  struct wg_walk *walk = bpf_map_lookup_elem(&wg_walk_scratch, &zero);
  if (!walk) return 0;
  long mount_offset = bpf_core_field_offset(struct mount, mnt);
  struct wg_walk_up_ctx up = {
      .walk = walk,
      .vfsmnt = vfsmnt,
      .mnt = (void *)vfsmnt - mount_offset,
      .dentry = dentry,
      .root_mnt = root_mnt,
      .root_dentry = root_dentry,
      .mount_offset = mount_offset,
  };
  /* Mount crossings take steps too, hence the margin over the depth limit. */
  bpf_loop(WG_PATH_DEPTH_MAX + 16, wg_walk_up_step, &up, 0);
  if (!up.reached_root) *truncated = true;

  struct wg_write_down_ctx down = {.walk = walk, .buf = buf, .depth = up.depth};
  bpf_loop(WG_PATH_DEPTH_MAX, wg_write_down_step, &down, 0);
  if (down.truncated) *truncated = true;
  u32 off = down.off;
  if (off == 0) buf[off++] = '/';
  buf[off & (WG_PATH_MAX - 1)] = 0;
  return off;
}

static __always_inline u32 wg_write_struct_path(struct path *path, struct task_struct *task,
                                                char *buf, bool *truncated) {
  struct vfsmount *mnt = BPF_CORE_READ(path, mnt);
  struct dentry *dentry = BPF_CORE_READ(path, dentry);
  struct vfsmount *root_mnt = BPF_CORE_READ(task, fs, root.mnt);
  struct dentry *root_dentry = BPF_CORE_READ(task, fs, root.dentry);
  return wg_write_path(mnt, dentry, root_mnt, root_dentry, buf, truncated);
}

#endif
