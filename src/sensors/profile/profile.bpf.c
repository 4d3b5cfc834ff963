/* CPU profiler: a perf_event program on every CPU's software clock. For each sample of a
 * selected process it posts the kernel stack (from the kernel's unwinder), the task's user
 * registers and a copy of the top of its user stack, which user space unwinds from each
 * binary's .eh_frame. Samples of unselected processes end here, before any copy.
 * Off-CPU profiling (sched_switch and sys_exit, below) posts the same record for blocked time. */
#include "vmlinux_min.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "profile_record.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 1 << 23); /* replaced by user space at load time */
} samples SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, WG_PROFILE_DROPS);
  __type(key, u32);
  __type(value, u64);
} drops SEC(".maps");

/* The sample is built here, one slot per CPU: it is too large for the BPF stack, and for a
 * per-CPU map's 32 KiB values. max_entries is set to the number of CPUs at load time. */
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, u32);
  __type(value, struct wg_profile_sample);
} scratch SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 1024);
  __type(key, u32);
  __type(value, u8);
} target_pids SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 256);
  __type(key, struct wg_profile_file_key);
  __type(value, u8);
} target_binaries SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 256);
  __type(key, u64);
  __type(value, u8);
} target_cgroups SEC(".maps");

/* Set by user space before load. */
const volatile __u32 self_tgid = 0;
const volatile __u32 selections = 0; /* WG_PROFILE_SEL_* */
const volatile char filter_comm[16] = {};
const volatile bool want_kernel = true;
const volatile bool want_user = true;
const volatile __u32 ustack_bytes = WG_PROFILE_USTACK_MAX;
/* Written by user space while loaded (mapped .bss): 0 while nobody collects samples. */
__u32 collecting = 0;
/* Cgroup levels above the current one checked against target_cgroups. */
#define WG_PROFILE_CGROUP_DEPTH 16

static __always_inline void count_drop(u32 cause) {
  u64 *value = bpf_map_lookup_elem(&drops, &cause);
  if (value) *value += 1;
}

static __always_inline bool comm_matches(const char *comm) {
  for (int i = 0; i < 16; i++) {
    if (comm[i] != filter_comm[i]) return false;
    if (comm[i] == 0) break;
  }
  return true;
}

static __always_inline bool cgroup_selected(void) {
  u64 id = bpf_get_current_cgroup_id();
  if (bpf_map_lookup_elem(&target_cgroups, &id)) return true;
  /* A process of a container may sit in a cgroup below the container's own. */
  for (int level = 1; level < WG_PROFILE_CGROUP_DEPTH; level++) {
    id = bpf_get_current_ancestor_cgroup_id(level);
    if (id == 0) break;
    if (bpf_map_lookup_elem(&target_cgroups, &id)) return true;
  }
  return false;
}

static __always_inline bool selected(struct task_struct *task, u32 tgid) {
  if (tgid == 0 || tgid == self_tgid) return false; /* idle, and the agent itself */
  if ((selections & WG_PROFILE_SEL_PID) && !bpf_map_lookup_elem(&target_pids, &tgid)) return false;
  if ((selections & WG_PROFILE_SEL_COMM) && !comm_matches(task->comm)) return false;
  if (selections & WG_PROFILE_SEL_BINARY) {
    struct inode *inode = BPF_CORE_READ(task, mm, exe_file, f_inode);
    struct wg_profile_file_key key = {};
    if (!inode) return false;
    key.dev = BPF_CORE_READ(inode, i_sb, s_dev);
    key.ino = BPF_CORE_READ(inode, i_ino);
    if (!bpf_map_lookup_elem(&target_binaries, &key)) return false;
  }
  if ((selections & WG_PROFILE_SEL_CGROUP) && !cgroup_selected()) return false;
  return true;
}

/* Copies the user stack from sp up, a page at a time: the read of the page past the top of
 * the stack fails, and the copy ends with the last page that was mapped. */
static __always_inline u32 copy_user_stack(struct wg_profile_sample *s, u64 sp, u16 *flags) {
  u64 len = 0;
  u64 limit = ustack_bytes;
  if (limit > WG_PROFILE_USTACK_MAX) limit = WG_PROFILE_USTACK_MAX;
  for (int i = 0; i < WG_PROFILE_USTACK_MAX / WG_PROFILE_PAGE + 1; i++) {
    if (len >= limit) {
      *flags |= WG_PROFILE_F_USTACK_CUT;
      break;
    }
    u64 chunk = WG_PROFILE_PAGE - ((sp + len) & (WG_PROFILE_PAGE - 1));
    if (chunk > limit - len) chunk = limit - len;
    /* Keeps the compiler from folding the checks below into the ones above: the verifier
     * must see them on the register passed to the helper. The buffer has a page of slack
     * past the limit, so offset below the limit and chunk at most a page is in bounds. */
    asm volatile("" : "+r"(chunk));
    if (chunk == 0 || chunk > WG_PROFILE_PAGE) break;
    u64 off = len & (WG_PROFILE_USTACK_MAX - 1);
    if (bpf_probe_read_user(&s->ustack[off], chunk, (void *)(sp + len)) != 0) break;
    len += chunk;
  }
  return len;
}

static __always_inline struct wg_profile_sample *begin_sample(struct task_struct *task, u32 tgid, u32 cpu) {
  struct wg_profile_sample *s = bpf_map_lookup_elem(&scratch, &cpu);
  if (!s) {
    count_drop(WG_PROFILE_DROP_NO_SCRATCH);
    return NULL;
  }
  s->ktime = bpf_ktime_get_boot_ns();
  s->pid = tgid;
  s->tid = task->pid;
  s->cgroup_id = bpf_get_current_cgroup_id();
  s->cpu = cpu;
  s->flags = 0;
  s->kstack_len = 0;
  s->ustack_len = 0;
  s->weight = 1;
  __builtin_memcpy(s->comm, task->comm, sizeof(s->comm));
  return s;
}

/* The user registers are those the task saved when it last entered the kernel. */
static __always_inline void read_user_regs(struct wg_profile_sample *s, struct task_struct *task) {
  struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
  s->regs[0] = BPF_CORE_READ(regs, ax);
  s->regs[1] = BPF_CORE_READ(regs, dx);
  s->regs[2] = BPF_CORE_READ(regs, cx);
  s->regs[3] = BPF_CORE_READ(regs, bx);
  s->regs[4] = BPF_CORE_READ(regs, si);
  s->regs[5] = BPF_CORE_READ(regs, di);
  s->regs[6] = BPF_CORE_READ(regs, bp);
  s->regs[7] = BPF_CORE_READ(regs, sp);
  s->regs[8] = BPF_CORE_READ(regs, r8);
  s->regs[9] = BPF_CORE_READ(regs, r9);
  s->regs[10] = BPF_CORE_READ(regs, r10);
  s->regs[11] = BPF_CORE_READ(regs, r11);
  s->regs[12] = BPF_CORE_READ(regs, r12);
  s->regs[13] = BPF_CORE_READ(regs, r13);
  s->regs[14] = BPF_CORE_READ(regs, r14);
  s->regs[15] = BPF_CORE_READ(regs, r15);
  s->regs[16] = BPF_CORE_READ(regs, ip);
  s->flags |= WG_PROFILE_F_USER_REGS;
}

static __always_inline void post_sample(struct wg_profile_sample *s) {
  u64 size = __builtin_offsetof(struct wg_profile_sample, ustack) + (s->ustack_len & (2 * WG_PROFILE_USTACK_MAX - 1));
  if (size > __builtin_offsetof(struct wg_profile_sample, ustack) + WG_PROFILE_USTACK_MAX)
    size = __builtin_offsetof(struct wg_profile_sample, ustack) + WG_PROFILE_USTACK_MAX;
  /* A wakeup per sample: user space reads a process's mappings while it still runs. */
  if (bpf_ringbuf_output(&samples, s, size, 0) != 0) count_drop(WG_PROFILE_DROP_RINGBUF_FULL);
}

SEC("perf_event")
int wg_profile_sample(void *ctx) {
  struct task_struct *task = bpf_get_current_task_btf();
  u32 tgid = task->tgid;
  if (!collecting || !selected(task, tgid)) return 0;

  struct wg_profile_sample *s = begin_sample(task, tgid, bpf_get_smp_processor_id());
  if (!s) return 0;
  if (want_kernel) {
    long bytes = bpf_get_stack(ctx, s->kstack, sizeof(s->kstack), 0);
    if (bytes >= 0)
      s->kstack_len = bytes / 8;
    else
      s->flags |= WG_PROFILE_F_KSTACK_FAIL;
  }
  /* Kernel threads have no user side; a user task's registers are those of this sample's
   * interrupt when it ran in user mode. */
  if (want_user && task->mm) {
    read_user_regs(s, task);
    s->ustack_len = copy_user_stack(s, s->regs[7], &s->flags);
  }
  post_sample(s);
  return 0;
}

/* ---- Off-CPU: where threads wait ----------------------------------------------------------
 * Blocked time is sampled like CPU time: each whole period a thread spends blocked is one
 * sample of the stack it blocked in. The wait is measured from switch-out to switch-in; its
 * kernel stack is read at switch-in (the thread has not run yet); its user stack once the
 * thread runs again, at the exit of the syscall it blocked in or at its next switch-out,
 * because only the running thread's memory can be read. */
struct {
  __uint(type, BPF_MAP_TYPE_TASK_STORAGE);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, int);
  __type(value, struct wg_offcpu_task);
} offcpu_tasks SEC(".maps");

/* One flag per CPU: set while a tracepoint program builds a sample in that CPU's scratch slot. */
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, u32);
  __type(value, u64); /* 64 bits: the atomic exchange needs them */
} scratch_busy SEC(".maps");

const volatile __u64 offcpu_period_ns = 1000000000 / 19;

#define WG_TASK_RUNNING 0

/* Posts the thread's pending samples; it runs, so its user stack can be read. */
static __always_inline void post_offcpu(struct task_struct *task, struct wg_offcpu_task *t) {
  u32 cpu = bpf_get_smp_processor_id();
  u64 *busy = bpf_map_lookup_elem(&scratch_busy, &cpu);
  if (!busy) return;
  if (__sync_lock_test_and_set(busy, 1)) {
    count_drop(WG_PROFILE_DROP_SCRATCH_BUSY);
    t->pending = 0;
    return;
  }
  u32 owed = t->pending;
  t->pending = 0;
  struct wg_profile_sample *s = owed ? begin_sample(task, task->tgid, cpu) : NULL;
  if (s) {
    s->weight = owed;
    s->flags = WG_PROFILE_F_OFFCPU | (t->flags & WG_PROFILE_F_KSTACK_FAIL);
    u32 frames = t->kstack_len;
    if (frames > WG_PROFILE_KSTACK_MAX) frames = WG_PROFILE_KSTACK_MAX;
    s->kstack_len = frames;
    __builtin_memcpy(s->kstack, t->kstack, sizeof(s->kstack));
    if (want_user && task->mm) {
      read_user_regs(s, task);
      /* Stopped where it waited: the stack is the one it waited with. */
      if (s->regs[16] == t->ip && s->regs[7] == t->sp) {
        s->ustack_len = copy_user_stack(s, s->regs[7], &s->flags);
      } else {
        s->regs[16] = t->ip;
        s->regs[7] = t->sp;
        s->flags |= WG_PROFILE_F_USER_MOVED;
      }
    }
    post_sample(s);
  }
  /* A plain store releases it (BPF has no atomic store): only this CPU uses the slot. */
  asm volatile("" ::: "memory");
  *(volatile u64 *)busy = 0;
}

SEC("tp_btf/sched_switch")
int wg_offcpu_switch(u64 *ctx) {
  if (!collecting) return 0;
  bool preempt = (bool)ctx[0];
  struct task_struct *prev = (struct task_struct *)ctx[1];
  struct task_struct *next = (struct task_struct *)ctx[2];
  unsigned int prev_state = (unsigned int)ctx[3];
  u64 now = bpf_ktime_get_boot_ns();

  /* next's wait ends: whole periods become samples of the stack it waited in. */
  struct wg_offcpu_task *t = bpf_task_storage_get(&offcpu_tasks, next, 0, 0);
  if (t && t->off_since) {
    /* Whole periods, and one more with the chance the remainder is of a period: unbiased for
     * each stack, so that many short waits add up where they happen. */
    u64 blocked = now - t->off_since;
    u64 periods = blocked / offcpu_period_ns;
    t->off_since = 0;
    if ((u64)bpf_get_prandom_u32() * offcpu_period_ns < (blocked - periods * offcpu_period_ns) << 32) periods++;
    if (periods) {
      u64 owed = t->pending + periods; /* none owed here, unless a post failed to clear it */
      t->pending = owed > 0xffffffff ? 0xffffffff : (u32)owed;
      t->flags = 0;
      t->kstack_len = 0;
      if (want_kernel) {
        long bytes = bpf_get_task_stack(next, t->kstack, sizeof(t->kstack), 0);
        if (bytes >= 0)
          t->kstack_len = bytes / 8;
        else
          t->flags |= WG_PROFILE_F_KSTACK_FAIL;
      }
      struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(next);
      t->ip = BPF_CORE_READ(regs, ip);
      t->sp = BPF_CORE_READ(regs, sp);
    }
  }

  /* prev runs this program: samples it still owes are posted with its stack. Then, unless it
   * was only preempted (runnable, waiting for a CPU rather than for something), its wait begins. */
  t = bpf_task_storage_get(&offcpu_tasks, prev, 0, 0);
  if (t && t->pending) post_offcpu(prev, t);
  if (preempt || prev_state == WG_TASK_RUNNING) return 0;
  u32 tgid = prev->tgid;
  if (!t) {
    if (!selected(prev, tgid)) return 0;
    t = bpf_task_storage_get(&offcpu_tasks, prev, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
    if (!t) return 0;
  } else if (!selected(prev, tgid)) {
    return 0; /* its comm or cgroup changed */
  }
  t->off_since = now;
  return 0;
}

/* The end of the syscall a thread waited in: its user stack is still the one it waited with. */
SEC("tp_btf/sys_exit")
int wg_offcpu_sys_exit(u64 *ctx) {
  if (!collecting) return 0;
  struct task_struct *task = bpf_get_current_task_btf();
  struct wg_offcpu_task *t = bpf_task_storage_get(&offcpu_tasks, task, 0, 0);
  if (t && t->pending) post_offcpu(task, t);
  return 0;
}
