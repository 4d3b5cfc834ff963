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
  BPF_MAP_TYPE_PROG_ARRAY = 3,
  BPF_MAP_TYPE_PERCPU_HASH = 5,
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
  BPF_RB_CONS_POS = 2,
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

struct super_block {
  unsigned int s_dev; /* kernel dev_t: major << 20 | minor */
} __attribute__((preserve_access_index));

struct inode {
  unsigned short i_mode;
  unsigned long i_ino;
  struct super_block *i_sb;
} __attribute__((preserve_access_index));

struct file {
  struct path f_path;
  struct inode *f_inode;
  void *private_data;
} __attribute__((preserve_access_index));

/* Sockets. The address fields of sock_common sit in anonymous unions in the kernel; CO-RE
 * finds them by name through those. */
struct in6_addr {
  __u8 s6_addr[16];
};

struct sock_common {
  __be32 skc_daddr;
  __be32 skc_rcv_saddr;
  __be16 skc_dport;
  __u16 skc_num;
  unsigned short skc_family;
  volatile unsigned char skc_state;
  struct in6_addr skc_v6_daddr;
  struct in6_addr skc_v6_rcv_saddr;
  unsigned long skc_flags; /* since 6.x: sock's sk_flags moved here */
} __attribute__((preserve_access_index));

struct sock {
  struct sock_common __sk_common;
  unsigned long sk_flags;
  __u16 sk_type;
  __u16 sk_protocol;
  struct socket *sk_socket;
} __attribute__((preserve_access_index));

/* A struct sock of a TCP socket is the start of its tcp_sock. */
struct tcp_sock {
  __u64 bytes_received;
  __u64 bytes_sent;
  __u64 bytes_acked;
  __u64 bytes_retrans;
  __u32 total_retrans;
} __attribute__((preserve_access_index));

struct socket {
  short type;
  struct sock *sk;
  struct file *file; /* NULL for the kernel's own sockets */
} __attribute__((preserve_access_index));

/* User-space layouts (UAPI: fixed, no relocation). */
struct iovec {
  void *iov_base;
  unsigned long iov_len;
};

struct user_msghdr {
  void *msg_name;
  int msg_namelen;
  struct iovec *msg_iov;
  unsigned long msg_iovlen;
  void *msg_control;
  unsigned long msg_controllen;
  unsigned int msg_flags;
};

struct mmsghdr {
  struct user_msghdr msg_hdr;
  unsigned int msg_len;
};

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
  struct kernfs_node *__parent; /* `parent` before Linux 6.15 */
  const char *name;
  __u64 id; /* for a cgroup's directory: the cgroup id */
} __attribute__((preserve_access_index));

struct kernfs_node___old {
  struct kernfs_node *parent;
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

/* Context of cgroup_skb programs, and the socket they can see (UAPI layouts, rewritten by
 * the verifier). Only the fields up to `sk` are declared. */
struct bpf_sock;
struct __sk_buff {
  __u32 len;
  __u32 pkt_type;
  __u32 mark;
  __u32 queue_mapping;
  __u32 protocol; /* ETH_P_*, network byte order */
  __u32 vlan_present;
  __u32 vlan_tci;
  __u32 vlan_proto;
  __u32 priority;
  __u32 ingress_ifindex;
  __u32 ifindex;
  __u32 tc_index;
  __u32 cb[5];
  __u32 hash;
  __u32 tc_classid;
  __u32 data;
  __u32 data_end;
  __u32 napi_id;
  __u32 family;
  __u32 remote_ip4;
  __u32 local_ip4;
  __u32 remote_ip6[4];
  __u32 local_ip6[4];
  __u32 remote_port;
  __u32 local_port;
  __u32 data_meta;
  union {
    void *flow_keys;
    __u64 : 64;
  } __attribute__((aligned(8)));
  __u64 tstamp;
  __u32 wire_len;
  __u32 gso_segs;
  union {
    struct bpf_sock *sk;
    __u64 : 64;
  } __attribute__((aligned(8)));
};

struct bpf_sock {
  __u32 bound_dev_if;
  __u32 family;
  __u32 type;
  __u32 protocol;
  __u32 mark;
  __u32 priority;
  __u32 src_ip4;
  __u32 src_ip6[4];
  __u32 src_port; /* host byte order */
  __be16 dst_port;
  __u16 : 16;
  __u32 dst_ip4;
  __u32 dst_ip6[4];
  __u32 state;
  __s32 rx_queue_mapping;
};

/* The user registers a task saved when it entered the kernel (x86-64): a syscall's arguments are
 * di, si, dx, r10, r8, r9 and stay there until it returns. The profiler reads them all. */
struct pt_regs {
  unsigned long r15;
  unsigned long r14;
  unsigned long r13;
  unsigned long r12;
  unsigned long bp;
  unsigned long bx;
  unsigned long r11;
  unsigned long r10;
  unsigned long r9;
  unsigned long r8;
  unsigned long ax;
  unsigned long cx;
  unsigned long dx;
  unsigned long si;
  unsigned long di;
  unsigned long orig_ax; /* the syscall's number */
  unsigned long ip;
  unsigned long sp;
} __attribute__((preserve_access_index));

#endif
