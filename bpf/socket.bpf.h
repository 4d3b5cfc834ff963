/* Sockets seen from BPF: the struct sock behind a file descriptor, and its endpoints. */
#ifndef WAGGLE_SOCKET_BPF_H
#define WAGGLE_SOCKET_BPF_H

#include "common.bpf.h"

#define AF_INET 2
#define AF_INET6 10
#define SOCK_STREAM 1
#define SOCK_DGRAM 2
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#define S_IFMT 0170000
#define S_IFSOCK 0140000
#define SOCK_DONE 1 /* enum sock_flags: the peer's FIN arrived */

enum {
  TCP_ESTABLISHED = 1,
  TCP_SYN_SENT = 2,
  TCP_SYN_RECV = 3,
  TCP_FIN_WAIT1 = 4,
  TCP_FIN_WAIT2 = 5,
  TCP_TIME_WAIT = 6,
  TCP_CLOSE = 7,
  TCP_CLOSE_WAIT = 8,
  TCP_CLOSING = 11,
};

/* The struct sock of fd in task's file table, or NULL when fd is not a socket. */
static __always_inline struct sock *wg_sock_of_fd(struct task_struct *task, u32 fd) {
  struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
  if (!fdt || fd >= BPF_CORE_READ(fdt, max_fds)) return NULL;
  struct file **fds = BPF_CORE_READ(fdt, fd);
  struct file *file = NULL;
  if (bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]) || !file) return NULL;
  unsigned short mode = BPF_CORE_READ(file, f_inode, i_mode);
  if ((mode & S_IFMT) != S_IFSOCK) return NULL;
  struct socket *sock = BPF_CORE_READ(file, private_data);
  return sock ? BPF_CORE_READ(sock, sk) : NULL;
}

/* Addresses as 16 bytes (IPv4 in the first 4), ports in host byte order. */
struct wg_endpoints {
  u16 family;
  u16 local_port;
  u16 remote_port;
  u8 local_addr[16];
  u8 remote_addr[16];
};

static __always_inline void wg_read_endpoints(struct sock *sk, struct wg_endpoints *e) {
  __builtin_memset(e, 0, sizeof(*e));
  e->family = BPF_CORE_READ(sk, __sk_common.skc_family);
  e->local_port = BPF_CORE_READ(sk, __sk_common.skc_num);
  e->remote_port = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
  if (e->family == AF_INET6) {
    BPF_CORE_READ_INTO(&e->local_addr, sk, __sk_common.skc_v6_rcv_saddr);
    BPF_CORE_READ_INTO(&e->remote_addr, sk, __sk_common.skc_v6_daddr);
  } else {
    BPF_CORE_READ_INTO((u32 *)e->local_addr, sk, __sk_common.skc_rcv_saddr);
    BPF_CORE_READ_INTO((u32 *)e->remote_addr, sk, __sk_common.skc_daddr);
  }
}

/* Takes the remote endpoint from a sockaddr_in or sockaddr_in6 in user memory. */
static __always_inline bool wg_read_sockaddr(const void *addr, struct wg_endpoints *e) {
  u8 raw[8]; /* family, port, and an IPv4 address */
  if (bpf_probe_read_user(raw, sizeof(raw), addr)) return false;
  u16 family = raw[0] | raw[1] << 8;
  e->remote_port = raw[2] << 8 | raw[3];
  __builtin_memset(e->remote_addr, 0, 16);
  if (family == AF_INET) {
    __builtin_memcpy(e->remote_addr, raw + 4, 4);
    e->family = AF_INET; /* a sockaddr_in given to an AF_INET6 socket */
    return true;
  }
  e->family = AF_INET6;
  return family == AF_INET6 && !bpf_probe_read_user(e->remote_addr, 16, addr + 8);
}

#endif
