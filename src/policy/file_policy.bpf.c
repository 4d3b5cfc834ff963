/* File policies: file.open rules evaluated at the entry of open, openat, openat2 and creat,
 * so that a kill lands before the call returns to user space. Rules are bits of a u64; each
 * selector map gives the rules that list a value, and the rules that hold are the AND over
 * selector kinds. An open that matches no rule costs its lookups and nothing else. */
#include "common.bpf.h"
#include "open_paths.bpf.h"
#include "policy_common.bpf.h"

#define O_WRONLY 01
#define O_CREAT 0100
#define O_TRUNC 01000

/* Path lists: values are rule bitmaps. A prefix entry holds its own rules and those of every
 * shorter prefix of it (user space folds them in), so the longest match is the whole answer;
 * the same for suffixes (reversed) and exact paths (with their NUL). */

RULE_TRIE(path_prefix);
RULE_TRIE(path_exact);
RULE_TRIE(path_suffix);

#define POLICY_DATA_CAP (WG_PATH_MAX + RESOLVED_CAP)
struct policy_scratch {
  char bytes[sizeof(struct wg_policy_open) + POLICY_DATA_CAP];
  struct wide_key given;
  struct wide_key resolved;
  struct wg_path_key reversed;
  struct wg_proc_binary exec_binary;
};

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, u32);
  __type(value, struct policy_scratch);
} policy_scratch_map SEC(".maps");

static __always_inline u64 path_rules(const struct wg_policy_masks *m, struct policy_scratch *s,
                                      struct wide_key *key, u32 len) {
  u64 bits = 0;
  u32 lists = m->path_lists;
  if (lists & WG_LIST_PREFIX) {
    key->prefixlen = (len < WG_FILTER_PATH_MAX ? len : WG_FILTER_PATH_MAX) * 8;
    bits |= lookup_bits(&path_prefix, key);
  }
  if ((lists & WG_LIST_EXACT) && len < WG_FILTER_PATH_MAX) {
    key->prefixlen = (len + 1) * 8;
    bits |= lookup_bits(&path_exact, key);
  }
  if (lists & WG_LIST_SUFFIX) {
    reverse_tail(key, len, &s->reversed);
    bits |= lookup_bits(&path_suffix, &s->reversed);
  }
  return bits;
}

/* An open whose path could not be read at its entry (the page was not yet faulted in, and
 * the tracepoint cannot fault): judged at its exit instead, when the kernel has read the path
 * itself. A kill then still lands before the call returns to user space. */
struct deferred_open {
  u64 filename;
  u64 flags;
  s32 dfd;
  u32 syscall;
  u32 valid;
  u32 pad;
};

struct {
  __uint(type, BPF_MAP_TYPE_TASK_STORAGE);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, int);
  __type(value, struct deferred_open);
} deferred SEC(".maps");

static __always_inline int on_open(u32 syscall, s32 dfd, u64 filename, u64 flags, bool at_exit) {
  u32 zero = 0;
  struct wg_policy_masks *m = bpf_map_lookup_elem(&masks, &zero);
  if (!m || !m->file_open_rules) return 0;
  u64 pid_tgid = bpf_get_current_pid_tgid();
  u32 tgid = pid_tgid >> 32;
  u64 candidates = m->file_open_rules;
  struct policy_scratch *s = bpf_map_lookup_elem(&policy_scratch_map, &zero);
  if (!s) return 0;
  candidates = identity_rules(m, candidates, tgid, current_ppid(), &s->reversed);
  if (!candidates) return 0;

  struct paths paths;
  if (!read_paths(filename, dfd, s->given.data, s->resolved.data, &paths)) {
    if (at_exit) {
      wg_count_drop(WG_SENSOR_POLICY, WG_DROP_READ_FAILED);
      return 0;
    }
    struct deferred_open *later = bpf_task_storage_get(&deferred, bpf_get_current_task_btf(), 0,
                                                       BPF_LOCAL_STORAGE_GET_F_CREATE);
    if (!later) {
      wg_count_drop(WG_SENSOR_POLICY, WG_DROP_PENDING_FULL);
      return 0;
    }
    later->filename = filename;
    later->flags = flags;
    later->dfd = dfd;
    later->syscall = syscall;
    later->valid = 1;
    return 0;
  }
  struct wide_key *key = paths.resolved_len ? &s->resolved : &s->given;
  u32 len = paths.resolved_len ? paths.resolved_len : paths.given_len;
  candidates &= holds(&m->sel[WG_SEL_PATH], path_rules(m, s, key, len));
  if (!candidates) return 0;

  /* Every matching rule is counted; the first one (lowest number) with an action decides.
   * A kill in enforce mode overrides the others. */
  struct decision d = {.candidates = candidates, .rule = WG_MAX_RULES};
  decide_and_kill(&d, tgid);
  u32 decided = d.rule;
  u32 outcome = d.outcome;
  if (!d.report || !within_rate(&d)) return 0;

  struct wg_policy_open *rec = (struct wg_policy_open *)s->bytes;
  char *data = s->bytes + sizeof(struct wg_policy_open);
  wg_fill_header_btf(&rec->h, WG_REC_POLICY_OPEN);
  rec->h.flags |= paths.flags;
  rec->matched = candidates;
  rec->flags = flags;
  rec->rule = decided;
  rec->outcome = outcome;
  rec->syscall = syscall;
  rec->generation = generation;
  u32 given = paths.given_len & (WG_PATH_MAX - 1);
  rec->path_len = given;
  bpf_probe_read_kernel(data, given, s->given.data);
  u32 resolved = paths.resolved_len;
  if (resolved >= RESOLVED_CAP) resolved = 0;
  barrier_var(resolved);
  resolved &= RESOLVED_CAP - 1;
  rec->resolved_len = resolved;
  if (resolved > 0) bpf_probe_read_kernel(data + given, resolved, s->resolved.data);
  u64 size = sizeof(struct wg_policy_open) + given + resolved;
  rec->h.size = size;
  wg_emit(WG_SENSOR_POLICY, rec, size);
  return 0;
}

SEC("tracepoint/syscalls/sys_enter_openat")
int wg_pol_openat(struct syscall_enter_ctx *ctx) {
  return on_open(WG_SYS_OPENAT, (s32)ctx->args[0], ctx->args[1], ctx->args[2], false);
}

SEC("tracepoint/syscalls/sys_enter_open")
int wg_pol_open(struct syscall_enter_ctx *ctx) {
  return on_open(WG_SYS_OPEN, AT_FDCWD, ctx->args[0], ctx->args[1], false);
}

SEC("tracepoint/syscalls/sys_enter_creat")
int wg_pol_creat(struct syscall_enter_ctx *ctx) {
  return on_open(WG_SYS_CREAT, AT_FDCWD, ctx->args[0], O_CREAT | O_WRONLY | O_TRUNC, false);
}

SEC("tracepoint/syscalls/sys_enter_openat2")
int wg_pol_openat2(struct syscall_enter_ctx *ctx) {
  u64 how[1] = {};
  bpf_probe_read_user(how, sizeof(how), (void *)ctx->args[2]);
  return on_open(WG_SYS_OPENAT2, (s32)ctx->args[0], ctx->args[1], how[0], false);
}

static __always_inline int on_open_exit(u32 syscall) {
  struct deferred_open *later = bpf_task_storage_get(&deferred, bpf_get_current_task_btf(), 0, 0);
  if (!later || !later->valid) return 0;
  struct deferred_open d = *later;
  later->valid = 0;
  if (d.syscall != syscall) return 0;
  return on_open(d.syscall, d.dfd, d.filename, d.flags, true);
}

SEC("tracepoint/syscalls/sys_exit_openat")
int wg_polx_openat(void *ctx) { return on_open_exit(WG_SYS_OPENAT); }
SEC("tracepoint/syscalls/sys_exit_open")
int wg_polx_open(void *ctx) { return on_open_exit(WG_SYS_OPEN); }
SEC("tracepoint/syscalls/sys_exit_creat")
int wg_polx_creat(void *ctx) { return on_open_exit(WG_SYS_CREAT); }
SEC("tracepoint/syscalls/sys_exit_openat2")
int wg_polx_openat2(void *ctx) { return on_open_exit(WG_SYS_OPENAT2); }

/* Exact argument values of args selectors, NUL-padded to WG_ARG_MAX bytes: the rules that
 * list them. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 65536);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, char[WG_ARG_MAX]);
  __type(value, u64);
} args_rules SEC(".maps");

/* Bytes read per step: a whole argument up to this long; longer ones take several steps. */
#define ARGS_PIECE 4096
struct args_scan {
  unsigned long at;  /* user address of the next bytes to read */
  unsigned long end;
  u64 listed;        /* rules listing one of the arguments seen */
  bool inside;       /* in the middle of an argument longer than a piece */
  char piece[ARGS_PIECE];
};

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, u32);
  __type(value, struct args_scan);
} args_scan_map SEC(".maps");

/* One step: up to a key's worth of one argument, looked up when it is a whole argument (a
 * longer one can equal no value: its pieces are skipped). */
struct args_ctx {
  struct args_scan *a; /* bpf_loop's context must live on the stack: the state is in a map */
};

static long args_step(u32 i, struct args_ctx *ctx) {
  struct args_scan *a = ctx->a;
  if (a->at >= a->end) return 1;
  __builtin_memset(a->piece, 0, WG_ARG_MAX); /* the key: the argument, NUL-padded */
  long n = bpf_probe_read_user_str(a->piece, ARGS_PIECE, (void *)a->at);
  if (n <= 0) return 1;
  /* n counts the NUL. An argument of WG_ARG_MAX - 1 bytes or more can equal no value (values
   * have at most WG_ARG_MAX - 2); a piece that fills the buffer may have cut the argument. */
  if (n < ARGS_PIECE) {
    if (!a->inside && n < WG_ARG_MAX) {
      u64 *bits = bpf_map_lookup_elem(&args_rules, a->piece);
      if (bits) a->listed |= *bits;
    }
    a->inside = false;
    a->at += n;
  } else {
    a->inside = true;
    a->at += ARGS_PIECE - 1;
  }
  return 0;
}

/* The rules whose args selector lists one of the current process's arguments (the first
 * WG_ARGS_SCANNED pieces of argv). */
static __always_inline u64 args_listed(const struct wg_policy_masks *m, struct task_struct *task) {
  u32 zero = 0;
  struct args_scan *a = bpf_map_lookup_elem(&args_scan_map, &zero);
  if (!a) return 0;
  a->at = BPF_CORE_READ(task, mm, arg_start);
  a->end = BPF_CORE_READ(task, mm, arg_end);
  a->listed = 0;
  a->inside = false;
  struct args_ctx ctx = {.a = a};
  bpf_loop(WG_ARGS_SCANNED, args_step, &ctx, 0);
  /* Arguments left unread could hold any value: fail closed, every args rule holds (`in` as if
   * they held its values, `notIn` as if they did not). */
  if (a->at < a->end) return m->sel[WG_SEL_ARGS].in;
  return a->listed;
}

/* Keeping proc_binary: an exec records the new executable, a fork copies the parent's, an
 * exit forgets the process. */
SEC("tp_btf/sched_process_exec")
int wg_pol_exec(u64 *ctx) {
  struct linux_binprm *bprm = (struct linux_binprm *)ctx[2];
  struct task_struct *task = (void *)bpf_get_current_task();
  u32 tgid = bpf_get_current_pid_tgid() >> 32;
  u32 zero = 0;
  struct policy_scratch *s = bpf_map_lookup_elem(&policy_scratch_map, &zero);
  if (!s) return 0;
  bool truncated = false;
  struct file *exe = BPF_CORE_READ(bprm, file);
  /* Written into the resolved buffer (WG_PATH_BUF bytes), then copied into the key. */
  u32 len = wg_write_path(BPF_CORE_READ(exe, f_path.mnt), BPF_CORE_READ(exe, f_path.dentry),
                          BPF_CORE_READ(task, fs, root.mnt), BPF_CORE_READ(task, fs, root.dentry),
                          s->resolved.data, &truncated);
  if (len >= WG_FILTER_PATH_MAX) len = WG_FILTER_PATH_MAX - 1; /* longer paths match prefixes only */
  barrier_var(len);
  len &= WG_FILTER_PATH_MAX - 1;
  __builtin_memset(s->exec_binary.binary.data, 0, sizeof(s->exec_binary.binary.data));
  bpf_probe_read_kernel(s->exec_binary.binary.data, len, s->resolved.data);
  s->exec_binary.binary.prefixlen = (len + 1) * 8; /* with the NUL: exact matches need it */
  bpf_map_update_elem(&proc_binary, &tgid, &s->exec_binary, BPF_ANY);

  /* process.exec rules, judged before the new image runs a single instruction. */
  struct wg_policy_masks *m = bpf_map_lookup_elem(&masks, &zero);
  if (!m || !m->exec_rules) return 0;
  u64 candidates = identity_rules(m, m->exec_rules, tgid, BPF_CORE_READ(task, real_parent, tgid), &s->reversed);
  if (candidates && selector_used(m, WG_SEL_ARGS)) candidates &= holds(&m->sel[WG_SEL_ARGS], args_listed(m, task));
  if (!candidates) return 0;
  struct decision d = {.candidates = candidates, .rule = WG_MAX_RULES};
  decide_and_kill(&d, tgid); /* a kill is delivered before the new image runs */
  if (!d.report || !within_rate(&d)) return 0;
  struct wg_policy_exec *rec = (struct wg_policy_exec *)s->bytes;
  wg_fill_header_btf(&rec->h, WG_REC_POLICY_EXEC);
  rec->matched = candidates;
  rec->rule = d.rule;
  rec->outcome = d.outcome;
  rec->generation = generation;
  u32 path_len = wg_write_path(BPF_CORE_READ(exe, f_path.mnt), BPF_CORE_READ(exe, f_path.dentry),
                               BPF_CORE_READ(task, fs, root.mnt), BPF_CORE_READ(task, fs, root.dentry),
                               s->bytes + sizeof(struct wg_policy_exec), &truncated);
  if (truncated) rec->h.flags |= WG_F_BINARY_TRUNC;
  if (path_len > WG_PATH_MAX) path_len = WG_PATH_MAX;
  rec->binary_len = path_len;
  u64 size = sizeof(struct wg_policy_exec) + path_len;
  rec->h.size = size;
  if (size > sizeof(s->bytes)) return 0;
  wg_emit(WG_SENSOR_POLICY, rec, size);
  return 0;
}

SEC("tp_btf/sched_process_fork")
int wg_pol_fork(u64 *ctx) {
  struct task_struct *parent = (struct task_struct *)ctx[0];
  struct task_struct *child = (struct task_struct *)ctx[1];
  u32 child_pid = BPF_CORE_READ(child, pid);
  if (BPF_CORE_READ(child, tgid) != child_pid) return 0;
  u32 parent_tgid = BPF_CORE_READ(parent, tgid);
  struct wg_proc_binary *b = bpf_map_lookup_elem(&proc_binary, &parent_tgid);
  if (b) bpf_map_update_elem(&proc_binary, &child_pid, b, BPF_ANY);
  return 0;
}

SEC("tp_btf/sched_process_exit")
int wg_pol_exit(u64 *ctx) {
  struct task_struct *task = (struct task_struct *)ctx[0];
  if (BPF_CORE_READ(task, signal, live.counter) != 0) return 0;
  u32 tgid = BPF_CORE_READ(task, tgid);
  bpf_map_delete_elem(&proc_binary, &tgid);
  return 0;
}
