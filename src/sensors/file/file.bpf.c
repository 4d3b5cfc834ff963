/* File sensor: open, openat, openat2 and creat from the syscall tracepoints. The entry
 * tracepoint resolves the path and runs the filters; only opens that match are remembered
 * (per thread) until their exit, where the record is built with the result. */
#include "common.bpf.h"
#include "open_paths.bpf.h"

#define O_WRONLY 01
#define O_CREAT 0100
#define O_TRUNC 01000

/* Which filter maps hold values; with none set, every open is reported. */
const volatile bool has_prefix = false;
const volatile bool has_exact = false;
const volatile bool has_suffix = false;

/* Prefixes: an entry matches every path that starts with its bytes. */
struct {
  __uint(type, BPF_MAP_TYPE_LPM_TRIE);
  __uint(max_entries, 65536);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, struct wg_path_key);
  __type(value, u8);
} prefix_filter SEC(".maps");

/* Exact paths, stored with their terminating NUL so that only the whole path matches. */
struct {
  __uint(type, BPF_MAP_TYPE_LPM_TRIE);
  __uint(max_entries, 65536);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, struct wg_path_key);
  __type(value, u8);
} exact_filter SEC(".maps");

/* Suffixes, stored reversed: a suffix of the path is a prefix of the reversed path. */
struct {
  __uint(type, BPF_MAP_TYPE_LPM_TRIE);
  __uint(max_entries, 65536);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, struct wg_path_key);
  __type(value, u8);
} suffix_filter SEC(".maps");

/* An open that matched, between its entry and its exit. */
struct pending_open {
  u64 filename;
  u64 flags;
  u32 mode;
  s32 dfd;
  u32 syscall;
  u32 valid;          /* task storage: 1 between an entry and its exit */
  u32 match_at_exit;  /* the path could not be read at the entry: filter at the exit */
  u32 pad;
};

/* Set by user space when the kernel has task storage for tracepoint programs: the pending
 * open then lives with the thread (no hashing, no locking, freed with the thread) instead
 * of in the `pending` hash below, whose map is then not even created. */
const volatile bool use_task_storage = false;
/* Set by user space when the exits can read the call's arguments from the registers the task
 * saved at its entry: no entry program is loaded, nothing is kept in between. */
const volatile bool args_at_exit = false;

struct {
  __uint(type, BPF_MAP_TYPE_TASK_STORAGE);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, int);
  __type(value, struct pending_open);
} pending_task SEC(".maps");

/* Not an LRU: evicting an open in flight would lose it silently; a full table is counted.
 * User space attaches the exit programs before the entry programs, so every entry that is
 * made has its exit seen. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 16384);
  __type(key, u32);
  __type(value, struct pending_open);
} pending SEC(".maps");

/* Record under construction at exit: the path as given, then the resolved path. */
#define OPEN_DATA_CAP (WG_PATH_MAX + RESOLVED_CAP)
struct open_scratch {
  char bytes[sizeof(struct wg_open) + OPEN_DATA_CAP];
  struct wide_key given;
  struct wide_key resolved;
  struct wg_path_key reversed;
};

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, u32);
  __type(value, struct open_scratch);
} open_scratch_map SEC(".maps");

static __always_inline bool matches(struct open_scratch *s, struct wide_key *key, u32 len) {
  if (has_prefix) {
    key->prefixlen = (len < WG_FILTER_PATH_MAX ? len : WG_FILTER_PATH_MAX) * 8;
    if (bpf_map_lookup_elem(&prefix_filter, key)) return true;
  }
  if (has_exact && len < WG_FILTER_PATH_MAX) {
    key->prefixlen = (len + 1) * 8; /* the NUL after the path must match too */
    if (bpf_map_lookup_elem(&exact_filter, key)) return true;
  }
  if (has_suffix) {
    reverse_tail(key, len, &s->reversed);
    if (bpf_map_lookup_elem(&suffix_filter, &s->reversed)) return true;
  }
  return false;
}

static __always_inline int on_enter(u32 syscall, s32 dfd, u64 filename, u64 flags, u32 mode) {
  u64 pid_tgid = bpf_get_current_pid_tgid();
  u32 tgid = pid_tgid >> 32;
  if (tgid == self_tgid || !wg_selected(tgid)) return 0;
  struct pending_open p = {.filename = filename, .flags = flags, .mode = mode, .dfd = dfd, .syscall = syscall};
  if (has_prefix || has_exact || has_suffix) {
    u32 zero = 0;
    struct open_scratch *s = bpf_map_lookup_elem(&open_scratch_map, &zero);
    if (!s) return 0;
    struct paths paths;
    /* A path not yet faulted in cannot be read here; the kernel reads it during the call, so
     * the exit can: filter there rather than miss the open. */
    if (!read_paths(p.filename, p.dfd, s->given.data, s->resolved.data, &paths)) {
      p.match_at_exit = 1;
    } else {
      struct wide_key *key = paths.resolved_len ? &s->resolved : &s->given;
      u32 len = paths.resolved_len ? paths.resolved_len : paths.given_len;
      if (!matches(s, key, len)) return 0;
    }
  }
  if (use_task_storage) {
    struct pending_open *slot =
        bpf_task_storage_get(&pending_task, bpf_get_current_task_btf(), 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
    if (!slot) {
      wg_count_drop(WG_SENSOR_FILE, WG_DROP_PENDING_FULL);
      return 0;
    }
    p.valid = 1;
    *slot = p;
    return 0;
  }
  u32 tid = (u32)pid_tgid;
  if (bpf_map_update_elem(&pending, &tid, &p, BPF_ANY) != 0) wg_count_drop(WG_SENSOR_FILE, WG_DROP_PENDING_FULL);
  return 0;
}

#define ERESTARTSYS 512
#define ERESTART_RESTARTBLOCK 516

/* The open the task is returning from, described from its saved registers (args_at_exit). */
static __always_inline bool open_of_regs(u32 syscall, struct pending_open *p) {
  u32 tgid = bpf_get_current_pid_tgid() >> 32;
  if (tgid == self_tgid || !wg_selected(tgid)) return false;
  struct pt_regs *regs = wg_syscall_regs();
  __builtin_memset(p, 0, sizeof(*p));
  p->syscall = syscall;
  /* Filtered here, where the path the kernel just read is certainly in memory. */
  p->match_at_exit = has_prefix || has_exact || has_suffix;
  switch (syscall) {
    case WG_SYS_OPEN:
    case WG_SYS_CREAT:
      p->dfd = AT_FDCWD;
      p->filename = wg_syscall_arg(regs, 0);
      p->flags = syscall == WG_SYS_CREAT ? O_CREAT | O_WRONLY | O_TRUNC : wg_syscall_arg(regs, 1);
      p->mode = (u32)wg_syscall_arg(regs, syscall == WG_SYS_CREAT ? 1 : 2);
      return true;
    case WG_SYS_OPENAT:
      p->dfd = (s32)wg_syscall_arg(regs, 0);
      p->filename = wg_syscall_arg(regs, 1);
      p->flags = wg_syscall_arg(regs, 2);
      p->mode = (u32)wg_syscall_arg(regs, 3);
      return true;
    case WG_SYS_OPENAT2: {
      p->dfd = (s32)wg_syscall_arg(regs, 0);
      p->filename = wg_syscall_arg(regs, 1);
      u64 how[2] = {}; /* struct open_how { u64 flags; u64 mode; u64 resolve; } */
      bpf_probe_read_user(how, sizeof(how), (void *)wg_syscall_arg(regs, 2));
      p->flags = how[0];
      p->mode = (u32)how[1];
      return true;
    }
  }
  return false;
}

static __always_inline int on_exit(u32 syscall, long ret) {
  struct pending_open p;
  if (args_at_exit) {
    if (!open_of_regs(syscall, &p)) return 0;
  } else if (use_task_storage) {
    struct pending_open *slot = bpf_task_storage_get(&pending_task, bpf_get_current_task_btf(), 0, 0);
    if (!slot || !slot->valid) return 0;
    p = *slot;
    slot->valid = 0;
  } else {
    u32 tid = (u32)bpf_get_current_pid_tgid();
    struct pending_open *found = bpf_map_lookup_elem(&pending, &tid);
    if (!found) return 0;
    p = *found;
    bpf_map_delete_elem(&pending, &tid);
  }
  if (p.syscall != syscall) return 0; /* left over from an entry whose exit was not seen */
  /* Interrupted by a signal and restarted: the restarted call is seen (and reported) anew. */
  if (ret <= -ERESTARTSYS && ret >= -ERESTART_RESTARTBLOCK) return 0;

  u32 zero = 0;
  struct open_scratch *s = bpf_map_lookup_elem(&open_scratch_map, &zero);
  if (!s) return 0;
  if (p.match_at_exit) {
    struct paths later;
    if (!read_paths(p.filename, p.dfd, s->given.data, s->resolved.data, &later)) {
      wg_count_drop(WG_SENSOR_FILE, WG_DROP_READ_FAILED);
      return 0;
    }
    struct wide_key *key = later.resolved_len ? &s->resolved : &s->given;
    if (!matches(s, key, later.resolved_len ? later.resolved_len : later.given_len)) return 0;
  }
  struct wg_open *rec = (struct wg_open *)s->bytes;
  char *data = s->bytes + sizeof(struct wg_open);
  struct task_struct *task = (void *)bpf_get_current_task();
  if (use_task_storage || args_at_exit) /* the same kernels have BTF task pointers */
    wg_fill_header_btf(&rec->h, WG_REC_OPEN);
  else
    wg_fill_header(&rec->h, WG_REC_OPEN, task);
  rec->ret = ret;
  rec->flags = p.flags;
  rec->mode = p.mode;
  rec->dfd = p.dfd;
  rec->syscall = p.syscall;
  rec->pad = 0;
  struct paths paths = {};
  if (!read_paths(p.filename, p.dfd, data, data + WG_PATH_MAX, &paths)) {
    paths.given_len = 0;
    paths.resolved_len = 0;
  }
  rec->h.flags |= paths.flags;
  rec->path_len = paths.given_len;
  rec->resolved_len = paths.resolved_len;
  u32 given = paths.given_len & (WG_PATH_MAX - 1);
  u32 resolved = paths.resolved_len;
  if (resolved >= RESOLVED_CAP) return 0;
  barrier_var(resolved); /* keep the mask below: it is the verifier's bound */
  resolved &= RESOLVED_CAP - 1;
  /* Pack the resolved path right after the given one. */
  if (resolved > 0) bpf_probe_read_kernel(data + given, resolved, data + WG_PATH_MAX);
  u64 size = sizeof(struct wg_open) + given + resolved;
  rec->h.size = size;
  wg_emit(WG_SENSOR_FILE, rec, size);
  return 0;
}

SEC("tracepoint/syscalls/sys_enter_openat")
int wg_enter_openat(struct syscall_enter_ctx *ctx) {
  return on_enter(WG_SYS_OPENAT, (s32)ctx->args[0], ctx->args[1], ctx->args[2], (u32)ctx->args[3]);
}

SEC("tracepoint/syscalls/sys_enter_open")
int wg_enter_open(struct syscall_enter_ctx *ctx) {
  return on_enter(WG_SYS_OPEN, AT_FDCWD, ctx->args[0], ctx->args[1], (u32)ctx->args[2]);
}

SEC("tracepoint/syscalls/sys_enter_creat")
int wg_enter_creat(struct syscall_enter_ctx *ctx) {
  return on_enter(WG_SYS_CREAT, AT_FDCWD, ctx->args[0], O_CREAT | O_WRONLY | O_TRUNC, (u32)ctx->args[1]);
}

/* struct open_how { u64 flags; u64 mode; u64 resolve; } lives in user memory. */
SEC("tracepoint/syscalls/sys_enter_openat2")
int wg_enter_openat2(struct syscall_enter_ctx *ctx) {
  u64 how[2] = {};
  bpf_probe_read_user(how, sizeof(how), (void *)ctx->args[2]);
  return on_enter(WG_SYS_OPENAT2, (s32)ctx->args[0], ctx->args[1], how[0], (u32)how[1]);
}

SEC("tracepoint/syscalls/sys_exit_openat")
int wg_exit_openat(struct syscall_exit_ctx *ctx) { return on_exit(WG_SYS_OPENAT, ctx->ret); }
SEC("tracepoint/syscalls/sys_exit_open")
int wg_exit_open(struct syscall_exit_ctx *ctx) { return on_exit(WG_SYS_OPEN, ctx->ret); }
SEC("tracepoint/syscalls/sys_exit_creat")
int wg_exit_creat(struct syscall_exit_ctx *ctx) { return on_exit(WG_SYS_CREAT, ctx->ret); }
SEC("tracepoint/syscalls/sys_exit_openat2")
int wg_exit_openat2(struct syscall_exit_ctx *ctx) { return on_exit(WG_SYS_OPENAT2, ctx->ret); }
