/* The few kernel types waggle's BPF programs read, declared by hand so that the build never
 * depends on the kernel of the machine that builds it. Every struct carries
 * preserve_access_index: field offsets are relocated by libbpf (CO-RE) against the BTF of the
 * kernel the agent runs on, so only the names of the fields used here must exist there. */
#ifndef WAGGLE_VMLINUX_MIN_H
#define WAGGLE_VMLINUX_MIN_H

typedef signed char __s8;
typedef unsigned char __u8;
typedef short __s16;
typedef unsigned short __u16;
typedef int __s32;
typedef unsigned int __u32;
typedef long long __s64;
typedef unsigned long long __u64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;
typedef _Bool bool;
typedef int pid_t;
typedef __u64 u64;
typedef __u32 u32;
typedef __u16 u16;
typedef __u8 u8;
typedef __s64 s64;
typedef __s32 s32;
#define true 1
#define false 0
#define NULL ((void *)0)

enum bpf_map_type {
  BPF_MAP_TYPE_HASH = 1,
  BPF_MAP_TYPE_ARRAY = 2,
  BPF_MAP_TYPE_PERCPU_ARRAY = 6,
  BPF_MAP_TYPE_LRU_HASH = 9,
  BPF_MAP_TYPE_LPM_TRIE = 11,
  BPF_MAP_TYPE_RINGBUF = 27,
  BPF_MAP_TYPE_TASK_STORAGE = 29,
};

enum {
  BPF_ANY = 0,
  BPF_NOEXIST = 1,
  BPF_EXIST = 2,
};

enum {
  BPF_F_NO_PREALLOC = 1,
};

enum {
  BPF_LOCAL_STORAGE_GET_F_CREATE = 1,
};

enum {
  BPF_RB_NO_WAKEUP = 1,
  BPF_RB_FORCE_WAKEUP = 2,
};

enum {
  BPF_RB_AVAIL_DATA = 0,
};

typedef struct {
  int counter;
} atomic_t;

struct qstr {
  union {
    struct {
      u32 hash;
      u32 len;
    };
    u64 hash_len;
  };
  const unsigned char *name;
} __attribute__((preserve_access_index));

struct dentry {
  struct dentry *d_parent;
  struct qstr d_name;
} __attribute__((preserve_access_index));

struct vfsmount {
  struct dentry *mnt_root;
} __attribute__((preserve_access_index));

struct mount {
  struct mount *mnt_parent;
  struct dentry *mnt_mountpoint;
  struct vfsmount mnt;
} __attribute__((preserve_access_index));

struct path {
  struct vfsmount *mnt;
  struct dentry *dentry;
} __attribute__((preserve_access_index));

struct file {
  struct path f_path;
} __attribute__((preserve_access_index));

struct fdtable {
  unsigned int max_fds;
  struct file **fd;
} __attribute__((preserve_access_index));

struct files_struct {
  struct fdtable *fdt;
} __attribute__((preserve_access_index));

struct fs_struct {
  struct path root;
  struct path pwd;
} __attribute__((preserve_access_index));

struct mm_struct {
  unsigned long arg_start;
  unsigned long arg_end;
  struct file *exe_file;
} __attribute__((preserve_access_index));

struct kernfs_node {
  const char *name;
} __attribute__((preserve_access_index));

struct cgroup {
  struct kernfs_node *kn;
} __attribute__((preserve_access_index));

struct css_set {
  struct cgroup *dfl_cgrp;
} __attribute__((preserve_access_index));

struct signal_struct {
  atomic_t live;
  int group_exit_code;
} __attribute__((preserve_access_index));

struct task_struct {
  unsigned int flags;
  int exit_code;
  pid_t pid;
  pid_t tgid;
  struct task_struct *real_parent;
  struct task_struct *group_leader;
  u64 start_boottime;
  char comm[16];
  struct mm_struct *mm;
  struct fs_struct *fs;
  struct files_struct *files;
  struct signal_struct *signal;
  struct css_set *cgroups;
} __attribute__((preserve_access_index));

struct linux_binprm {
  struct file *file;
} __attribute__((preserve_access_index));

/* Context of syscalls:sys_enter_* and sys_exit_* tracepoints (common header, then nr, then
 * the arguments as 8-byte slots). */
struct trace_entry {
  unsigned short type;
  unsigned char flags;
  unsigned char preempt_count;
  int pid;
};

struct syscall_enter_ctx {
  struct trace_entry ent;
  long id;
  unsigned long args[6];
};

struct syscall_exit_ctx {
  struct trace_entry ent;
  long id;
  long ret;
};

/* Raw and BTF tracepoints receive the tracepoint's arguments as an array of u64. */
struct bpf_raw_tracepoint_args {
  u64 args[0];
};

/* Context of cgroup/connect4 and connect6 programs (UAPI layout: the verifier rewrites the
 * accesses, no relocation needed). */
struct bpf_sock_addr {
  __u32 user_family;
  __u32 user_ip4;    /* network byte order */
  __u32 user_ip6[4]; /* network byte order */
  __u32 user_port;   /* network byte order */
  __u32 family;
  __u32 type;
  __u32 protocol;
  __u32 msg_src_ip4;
  __u32 msg_src_ip6[4];
  __u64 sk;
};

#endif
