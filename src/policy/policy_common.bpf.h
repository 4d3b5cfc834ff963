/* What the policy programs share: the rule table and masks, the selector maps of every
 * event kind (binary, uid, cgroup), the executable of every process, and the decision over
 * the rules that matched. Each policy object has its own copies, filled by user space from
 * the same compiled rules; proc_binary is one map, shared. */
#ifndef WAGGLE_POLICY_COMMON_BPF_H
#define WAGGLE_POLICY_COMMON_BPF_H

#include "common.bpf.h"

/* A trie of paths (struct wg_path_key) whose values are rule bitmaps. */
#define RULE_TRIE(name)                      \
  struct {                                     \
    __uint(type, BPF_MAP_TYPE_LPM_TRIE);       \
    __uint(max_entries, 65536);                \
    __uint(map_flags, BPF_F_NO_PREALLOC);      \
    __type(key, struct wg_path_key);           \
    __type(value, u64);                        \
  } name SEC(".maps")

/* Which policy set this object enforces: applying policies loads a new set beside the old
 * one before the old is detached, and records say which set they came from. */
const volatile __u32 generation = 0;

RULE_TRIE(binary_prefix);
RULE_TRIE(binary_exact);
RULE_TRIE(parent_binary_prefix);
RULE_TRIE(parent_binary_exact);

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 65536);
  __type(key, u32);
  __type(value, u64);
} gid_rules SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 65536);
  __type(key, u32);
  __type(value, u64);
} uid_rules SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 65536);
  __type(key, u64);
  __type(value, u64);
} cgroup_rules SEC(".maps");

/* Every rule: its action and mode. */
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, WG_MAX_RULES);
  __type(key, u32);
  __type(value, struct wg_rule);
} rules SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, u32);
  __type(value, struct wg_policy_masks);
} masks SEC(".maps");

/* How many times each rule matched, per CPU (the `count` action, and every other). */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, WG_MAX_RULES);
  __type(key, u32);
  __type(value, u64);
} rule_hits SEC(".maps");

/* The executable of every process, kept by the exec/fork/exit programs below and seeded
 * from /proc by user space. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 65536);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, u32);
  __type(value, struct wg_proc_binary);
} proc_binary SEC(".maps");

static __always_inline u64 lookup_bits(void *map, void *key) {
  u64 *bits = bpf_map_lookup_elem(map, key);
  return bits ? *bits : 0;
}

/* Container ids and prefixes of them (LPM keys), the rules that list them; an entry holds the
 * rules of each shorter prefix too. */
struct {
  __uint(type, BPF_MAP_TYPE_LPM_TRIE);
  __uint(max_entries, 65536);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, struct wg_container_key);
  __type(value, u64);
} container_ids SEC(".maps");

/* Cgroup id -> the rules listing the container that cgroup belongs to: a cgroup's name and
 * place never change, so each is looked at once. */
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 16384);
  __type(key, u64);
  __type(value, u64);
} cgroup_container_rules SEC(".maps");

/* A selector kind no rule uses costs no lookup. */
static __always_inline bool selector_used(const struct wg_policy_masks *m, int kind) {
  return (m->sel[kind].in | m->sel[kind].not_in) != 0;
}

static __always_inline u64 holds(const struct wg_selector_masks *m, u64 listed) {
  return (listed & m->in) | (~listed & m->not_in) | m->unused;
}

/* The rules whose lists (exact, or by prefix) hold the executable of process `tgid`. An
 * unknown process is listed by no rule. */
static __always_inline u64 executable_rules(void *exact, void *prefix, u32 lists, u32 tgid,
                                            struct wg_path_key *tmp) {
  if (!lists) return 0;
  struct wg_proc_binary *b = bpf_map_lookup_elem(&proc_binary, &tgid);
  if (!b) return 0;
  u64 rules = 0;
  if (lists & WG_LIST_EXACT) rules |= lookup_bits(exact, &b->binary);
  if (!(lists & WG_LIST_PREFIX)) return rules;
  /* The stored key covers the path and its NUL; a prefix must not need the NUL. A copy:
   * other threads of the process read the stored key at the same time. */
  *tmp = b->binary;
  tmp->prefixlen = tmp->prefixlen > 8 ? tmp->prefixlen - 8 : 0;
  return rules | lookup_bits(prefix, tmp);
}

/* Cgroup names are at most NAME_MAX bytes. A process's container is named by the outermost
 * cgroup on its path whose name holds a run of exactly 64 lowercase hex digits
 * (docker-<id>.scope, cri-containerd-<id>.scope, crio-<id>.scope, <id>): what a process does
 * below its container's cgroup (sub-cgroups, whatever their names) cannot change it. */
#define CGROUP_NAME_CAP 256
#define CONTAINER_LEVELS 32
struct container_scan {
  char name[CGROUP_NAME_CAP];
  char candidate[WG_CONTAINER_ID_LEN];
  struct wg_container_key key;
  u64 seq; /* bumped by every scan: a scan interrupted by another on this CPU sees it move */
  u32 run;
  bool hit;
  bool found;
};

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, u32);
  __type(value, struct container_scan);
} container_scan_map SEC(".maps");

struct container_ctx {
  struct container_scan *s; /* bpf_loop's context must live on the stack */
};

static long container_step(u32 i, struct container_ctx *ctx) {
  struct container_scan *s = ctx->s;
  if (i >= CGROUP_NAME_CAP) return 1;
  char c = s->name[i];
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) {
    s->run++;
    return 0;
  }
  if (s->run == WG_CONTAINER_ID_LEN && i >= WG_CONTAINER_ID_LEN) {
    bpf_probe_read_kernel(s->candidate, WG_CONTAINER_ID_LEN, &s->name[i - WG_CONTAINER_ID_LEN]);
    s->hit = true;
    return 1;
  }
  s->run = 0;
  return c == 0;
}

static __always_inline struct kernfs_node *kn_parent(struct kernfs_node *kn) {
  if (bpf_core_field_exists(kn->__parent)) return BPF_CORE_READ(kn, __parent);
  return BPF_CORE_READ((struct kernfs_node___old *)kn, parent);
}

/* The rules whose container selector lists the container of the current process. When it
 * cannot be known (a path deeper than CONTAINER_LEVELS, an unreadable name, a scan interrupted),
 * every container rule holds, `in` and `notIn` alike: the rule is enforced (fail closed). */
static __always_inline u64 container_rules(const struct wg_policy_masks *m) {
  u64 unknown = m->sel[WG_SEL_CONTAINER].in;
  struct task_struct *task = bpf_get_current_task_btf();
  struct kernfs_node *kn = BPF_CORE_READ(task, cgroups, dfl_cgrp, kn);
  if (!kn) return unknown;
  u64 cgroup = BPF_CORE_READ(kn, id); /* the cache key, from the node that is walked */
  u64 *cached = bpf_map_lookup_elem(&cgroup_container_rules, &cgroup);
  if (cached) return *cached;
  u32 zero = 0;
  struct container_scan *s = bpf_map_lookup_elem(&container_scan_map, &zero);
  if (!s) return unknown;
  u64 seq = ++s->seq;
  s->found = false;
  for (int level = 0; level < CONTAINER_LEVELS && kn; level++) {
    s->run = 0;
    s->hit = false;
    if (bpf_probe_read_kernel_str(s->name, CGROUP_NAME_CAP, BPF_CORE_READ(kn, name)) < 0) return unknown;
    struct container_ctx ctx = {.s = s};
    bpf_loop(CGROUP_NAME_CAP, container_step, &ctx, 0);
    if (s->hit) { /* an outer one found later replaces it */
      __builtin_memcpy(s->key.id, s->candidate, WG_CONTAINER_ID_LEN);
      s->found = true;
    }
    kn = kn_parent(kn);
  }
  u64 rules = unknown;
  if (!kn) { /* the walk reached the root */
    rules = 0;
    if (s->found) {
      s->key.prefixlen = WG_CONTAINER_ID_LEN * 8;
      rules = lookup_bits(&container_ids, &s->key);
    }
  }
  if (s->seq != seq) return unknown; /* another scan ran on this CPU meanwhile */
  bpf_map_update_elem(&cgroup_container_rules, &cgroup, &rules, BPF_ANY);
  return rules;
}

/* Narrows `candidates` by who is acting: uid, gid, cgroup, executable and the parent's
 * executable. A selector kind no rule uses costs nothing. */
static __always_inline u64 identity_rules(const struct wg_policy_masks *m, u64 candidates, u32 tgid, u32 ppid,
                                          struct wg_path_key *tmp) {
  u64 uid_gid = bpf_get_current_uid_gid();
  if (selector_used(m, WG_SEL_UID)) {
    u32 uid = (u32)uid_gid;
    candidates &= holds(&m->sel[WG_SEL_UID], lookup_bits(&uid_rules, &uid));
  }
  if (selector_used(m, WG_SEL_GID)) {
    u32 gid = uid_gid >> 32;
    candidates &= holds(&m->sel[WG_SEL_GID], lookup_bits(&gid_rules, &gid));
  }
  if (selector_used(m, WG_SEL_CGROUP)) {
    u64 cgroup = bpf_get_current_cgroup_id();
    candidates &= holds(&m->sel[WG_SEL_CGROUP], lookup_bits(&cgroup_rules, &cgroup));
  }
  if (candidates && selector_used(m, WG_SEL_CONTAINER))
    candidates &= holds(&m->sel[WG_SEL_CONTAINER], container_rules(m));
  if (!candidates) return 0;
  if (selector_used(m, WG_SEL_BINARY))
    candidates &= holds(&m->sel[WG_SEL_BINARY],
                        executable_rules(&binary_exact, &binary_prefix, m->binary_lists, tgid, tmp));
  if (candidates && selector_used(m, WG_SEL_PARENT_BINARY))
    candidates &= holds(&m->sel[WG_SEL_PARENT_BINARY], executable_rules(&parent_binary_exact, &parent_binary_prefix,
                                                                         m->parent_binary_lists, ppid, tmp));
  return candidates;
}

#define PF_KTHREAD 0x00200000
#define SIGKILL 9

/* Never killed, whatever a policy says: pid 1, the agent, kernel threads. */
static __always_inline bool protected_process(u32 tgid) {
  struct task_struct *task = bpf_get_current_task_btf();
  return tgid == 1 || tgid == self_tgid || (task->flags & PF_KTHREAD);
}

static __always_inline u32 current_ppid(void) {
  struct task_struct *task = bpf_get_current_task_btf();
  return task->real_parent->tgid;
}

struct decision {
  u64 candidates;
  u32 rule;
  u32 outcome;
  bool report;
};

/* One rule of the matching set: count it, and let it decide if it is the first with an
 * action (or the first that kills or denies in enforce mode). A bpf_loop step, so the
 * verifier checks it once. */
static long decide_step(u32 i, struct decision *d) {
  if (i >= WG_MAX_RULES) return 1;
  if (!(d->candidates & (1ull << i))) return 0;
  u64 *hits = bpf_map_lookup_elem(&rule_hits, &i);
  if (hits) *hits += 1;
  struct wg_rule *r = bpf_map_lookup_elem(&rules, &i);
  if (!r || r->action == WG_ACTION_COUNT) return 0;
  u32 outcome = WG_OUTCOME_LOGGED;
  if (r->action == WG_ACTION_KILL) outcome = r->monitor ? WG_OUTCOME_WOULD_KILL : WG_OUTCOME_KILLED;
  if (r->action == WG_ACTION_DENY) outcome = r->monitor ? WG_OUTCOME_WOULD_DENY : WG_OUTCOME_DENIED;
  bool enforcing = outcome == WG_OUTCOME_KILLED || outcome == WG_OUTCOME_DENIED;
  bool decided_enforcing = d->outcome == WG_OUTCOME_KILLED || d->outcome == WG_OUTCOME_DENIED;
  if (!d->report || (enforcing && !decided_enforcing)) {
    d->rule = i;
    d->outcome = outcome;
    d->report = true;
  }
  return 0;
}

/* Rate limits: the window each rule is in, and how many events it held back. */
struct rate_window {
  u64 start;
  u64 count;
};

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, WG_MAX_RULES);
  __type(key, u32);
  __type(value, struct rate_window);
} rate_windows SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, WG_MAX_RULES);
  __type(key, u32);
  __type(value, u64);
} rate_limited SEC(".maps");

/* Whether the event decided by d may be posted (the action is taken either way): a rule with a
 * rate limit posts at most per_window events per window. Plain loads and an atomic add: CPUs
 * racing at the same moment may let one more event each through. */
static __always_inline bool within_rate(const struct decision *d) {
  u32 i = d->rule;
  struct wg_rule *r = bpf_map_lookup_elem(&rules, &i);
  if (!r || !r->window_ns) return true; /* no limit: one lookup */
  struct rate_window *w = bpf_map_lookup_elem(&rate_windows, &i);
  if (!w) return true;
  u64 now = bpf_ktime_get_ns();
  if (now - w->start >= r->window_ns) {
    w->start = now;
    w->count = 0;
  }
  if (w->count < r->per_window) {
    __sync_fetch_and_add(&w->count, 1);
    return true;
  }
  u64 *held = bpf_map_lookup_elem(&rate_limited, &i);
  if (held) *held += 1;
  return false;
}

/* Decides over the rules in d->candidates; a kill in enforce mode sends SIGKILL, delivered
 * before the current call returns to user space, unless the process is one never killed. */
static __always_inline void decide_and_kill(struct decision *d, u32 tgid) {
  bpf_loop(WG_MAX_RULES, decide_step, d, 0);
  if (!d->report || d->outcome != WG_OUTCOME_KILLED) return;
  if (protected_process(tgid))
    d->outcome = WG_OUTCOME_REFUSED;
  else
    bpf_send_signal(SIGKILL);
}

#endif
