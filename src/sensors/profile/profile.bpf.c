/* CPU profiler: a perf_event program on every CPU's software clock. For each sample of a
 * selected process it posts the kernel stack (from the kernel's unwinder), the task's user
 * registers and a copy of the top of its user stack, which user space unwinds from each
 * binary's .eh_frame. Samples of unselected processes end here, before any copy. */
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

SEC("perf_event")
int wg_profile_sample(void *ctx) {
  struct task_struct *task = bpf_get_current_task_btf();
  u32 tgid = task->tgid;
  if (!collecting || !selected(task, tgid)) return 0;

  u32 cpu = bpf_get_smp_processor_id();
  struct wg_profile_sample *s = bpf_map_lookup_elem(&scratch, &cpu);
  if (!s) {
    count_drop(WG_PROFILE_DROP_NO_SCRATCH);
    return 0;
  }
  s->ktime = bpf_ktime_get_boot_ns();
  s->pid = tgid;
  s->tid = task->pid;
  s->cgroup_id = bpf_get_current_cgroup_id();
  s->cpu = cpu;
  s->flags = 0;
  s->kstack_len = 0;
  s->ustack_len = 0;
  s->pad = 0;
  __builtin_memcpy(s->comm, task->comm, sizeof(s->comm));

  if (want_kernel) {
    long bytes = bpf_get_stack(ctx, s->kstack, sizeof(s->kstack), 0);
    if (bytes >= 0)
      s->kstack_len = bytes / 8;
    else
      s->flags |= WG_PROFILE_F_KSTACK_FAIL;
  }

  /* Kernel threads have no user side. The user registers are those the task saved when it
   * last entered the kernel (the interrupt of this sample, when it ran in user mode). */
  if (want_user && task->mm) {
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
    s->ustack_len = copy_user_stack(s, s->regs[7], &s->flags);
  }

  u64 size = __builtin_offsetof(struct wg_profile_sample, ustack) + (s->ustack_len & (2 * WG_PROFILE_USTACK_MAX - 1));
  if (size > __builtin_offsetof(struct wg_profile_sample, ustack) + WG_PROFILE_USTACK_MAX)
    size = __builtin_offsetof(struct wg_profile_sample, ustack) + WG_PROFILE_USTACK_MAX;
  /* A wakeup per sample: user space reads a process's mappings while it still runs. */
  if (bpf_ringbuf_output(&samples, s, size, 0) != 0) count_drop(WG_PROFILE_DROP_RINGBUF_FULL);
  return 0;
}
