/* The sample record the profiler's BPF program posts, and the settings user space gives it.
 * Included by profile.bpf.c (after vmlinux_min.h) and by C++ (after <linux/types.h>). */
#ifndef WAGGLE_PROFILE_RECORD_H
#define WAGGLE_PROFILE_RECORD_H

/* Kernel frames taken per sample (the kernel's own limit, perf_event_max_stack, is 127). */
#define WG_PROFILE_KSTACK_MAX 64
/* Most bytes of user stack copied per sample, from the stack pointer up. */
#define WG_PROFILE_USTACK_MAX 32768
#define WG_PROFILE_PAGE 4096

/* x86-64 user registers in DWARF numbering (what libdw's unwinder takes): rax, rdx, rcx, rbx,
 * rsi, rdi, rbp, rsp, r8..r15, rip. */
#define WG_PROFILE_REGS 17

/* Flags of a sample. */
#define WG_PROFILE_F_USER_REGS (1u << 0)  /* regs[] hold the task's user registers */
#define WG_PROFILE_F_USTACK_CUT (1u << 1) /* the stack went on past the copy's limit */
#define WG_PROFILE_F_KSTACK_FAIL (1u << 2) /* the kernel stack could not be taken */
#define WG_PROFILE_F_OFFCPU (1u << 3)      /* weight samples of blocked time, not CPU time */
/* Off-CPU: the thread ran user code between its wait and the point its stack could be read
 * (a wait in a page fault): only its user pc at the wait is known, no user stack. */
#define WG_PROFILE_F_USER_MOVED (1u << 4)

struct wg_profile_sample {
  __u64 ktime;      /* CLOCK_BOOTTIME ns */
  __u32 pid;        /* tgid */
  __u32 tid;
  __u64 cgroup_id;  /* cgroup v2 id */
  __u32 cpu;
  __u16 flags;      /* WG_PROFILE_F_* */
  __u16 kstack_len; /* kernel frames in kstack[] */
  __u32 ustack_len; /* bytes of user stack in ustack[], copied from regs[7] (rsp) up */
  __u32 weight;     /* samples this record stands for: 1 on CPU; off CPU, whole periods blocked */
  char comm[16];
  __u64 regs[WG_PROFILE_REGS];
  __u64 kstack[WG_PROFILE_KSTACK_MAX]; /* innermost first */
  /* Only ustack_len bytes are posted. The page past the limit is slack that lets the
   * verifier prove each page-sized read in bounds. */
  __u8 ustack[WG_PROFILE_USTACK_MAX + WG_PROFILE_PAGE];
};

/* Why a sample was not posted, index into the profiler's drop counters. */
enum wg_profile_drop {
  WG_PROFILE_DROP_RINGBUF_FULL = 0,
  WG_PROFILE_DROP_NO_SCRATCH = 1,
  WG_PROFILE_DROP_SCRATCH_BUSY = 2, /* a program on this CPU was preempted while building one */
};
#define WG_PROFILE_DROPS 3

/* Off-CPU, per thread (task storage): when its wait began, and the samples of its last wait,
 * waiting for the thread to run again so that its user stack can be read. */
struct wg_offcpu_task {
  __u64 off_since;  /* CLOCK_BOOTTIME ns the wait began; 0 while it runs */
  __u32 pending;    /* samples not yet posted */
  __u16 kstack_len;
  __u16 flags;
  __u64 ip, sp;     /* its user pc and stack pointer when the wait ended */
  __u64 kstack[WG_PROFILE_KSTACK_MAX];
};

/* Which selections are on: a sample passes when it matches every one that is on. */
#define WG_PROFILE_SEL_PID (1u << 0)       /* its tgid is in the `target_pids` map */
#define WG_PROFILE_SEL_COMM (1u << 1)      /* its comm equals filter_comm */
#define WG_PROFILE_SEL_BINARY (1u << 2)    /* its executable is in the `target_binaries` map */
#define WG_PROFILE_SEL_CGROUP (1u << 3)    /* its cgroup or an ancestor is in `target_cgroups` */

/* An executable, as the kernel names it: the superblock's device (kernel encoding,
 * major << 20 | minor) and the inode number. */
struct wg_profile_file_key {
  __u64 dev;
  __u64 ino;
};

#endif
