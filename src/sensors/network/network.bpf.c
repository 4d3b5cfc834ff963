/* Network sensor. TCP connections from sock:inet_sock_set_state (who opened them, how they
 * ended, bytes and retransmits from the socket itself), and the data of socket reads and
 * writes that carry HTTP/1.x or DNS, from the syscall tracepoints. Only connections whose
 * first bytes look like HTTP, and DNS traffic to port 53, ever reach user space. */
#include "common.bpf.h"
#include "socket.bpf.h"

/* What to report; set by user space before load. */
const volatile bool track_tcp = true;
const volatile bool capture_http = true;
const volatile bool capture_dns = true;
/* When set, only sockets whose local or remote port is in `ports` are looked at. */
const volatile bool has_ports = false;

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 1024);
  __type(key, u16);
  __type(value, u8);
} ports SEC(".maps");

/* A TCP connection the sensor follows, by its struct sock. */
struct conn {
  struct wg_header h; /* the process that connected or accepted it */
  u64 start;
  u8 direction;       /* enum wg_tcp_direction */
  u8 l7;              /* enum wg_l7_protocol, 0 while not seen */
  u8 established;
  u8 end;             /* enum wg_tcp_end */
  u8 ended;           /* reported as ended; kept until released: unread data may follow */
  u8 capture;         /* HTTP: every call goes to user space's parser (see http_kernel.bpf.h) */
  u8 returned;        /* HTTP: given back by user space's parser; its next exchange is posted */
  u16 posted;         /* HTTP: calls posted while captured, for giving the connection back */
  /* Taken when established: by the time a socket closes, its local port may be released. */
  struct wg_endpoints e;
};

/* Not an LRU: a connection evicted while open would vanish silently; a full table is counted. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 65536);
  __type(key, u64);
  __type(value, struct conn);
} conns SEC(".maps");

enum io_kind {
  IO_BUF = 0,      /* read, write, recvfrom, sendto: one buffer */
  IO_IOV = 1,      /* readv, writev: an iovec array */
  IO_MSG = 2,      /* recvmsg, sendmsg: a msghdr */
  IO_MMSG = 3,     /* recvmmsg, sendmmsg: the first mmsghdr */
  IO_NO_DATA = 4,  /* sendfile: bytes the process never held */
};

/* A socket call between its entry and its exit. */
struct io {
  u64 sk;
  u64 ptr;   /* buffer, iovec, msghdr or mmsghdr */
  u64 addr;  /* sockaddr of recvfrom and sendto, or 0 */
  u64 count; /* bytes asked for (read, write, send*, recv*, sendfile), iovcnt (readv, writev) */
  u32 fd;
  u8 kind;
  u8 direction;
  u8 ip_protocol;
  u8 valid;  /* task storage: set between an entry and its exit */
};

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 16384);
  __type(key, u64);
  __type(value, struct io);
} pending_io SEC(".maps");

/* Where the kernel has task storage for tracepoint programs (and BTF task pointers), the call
 * in flight lives with its thread instead: no hashing, no locking. Set by user space; the map
 * not used is not created. */
const volatile bool use_task_storage = false;
/* Where the kernel lets a program read the registers a task saved at its syscall's entry, the
 * exits find the call's arguments there: no entry programs, nothing kept in between. Set by
 * user space, which then loads no wg_enter_* program. */
const volatile bool args_at_exit = false;

struct {
  __uint(type, BPF_MAP_TYPE_TASK_STORAGE);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, int);
  __type(value, struct io);
} pending_task SEC(".maps");

static __always_inline void fill_header(struct wg_header *h, u16 type) {
  if (use_task_storage || args_at_exit) /* BTF task pointers are there */
    wg_fill_header_btf(h, type);
  else
    wg_fill_header(h, type, (void *)bpf_get_current_task());
}

/* Room past the head so that the tail can be written at a masked offset. */
#define DATA_ROOM (2 * WG_HEAD_BYTES)
struct data_scratch {
  char bytes[sizeof(struct wg_sock_data) + DATA_ROOM + WG_TAIL_BYTES];
};

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, u32);
  __type(value, struct data_scratch);
} data_scratch_map SEC(".maps");

/* Where the bytes of a call start and how many of them are in that first piece. */
struct span {
  u64 base;
  u64 len;
  u64 name; /* msghdr's address, or 0 */
  u64 total; /* bytes the call moved (or tried to) */
  u64 base2; /* the second buffer of a vector call (a length prefix often comes alone) */
  u64 len2;
  u64 iov;   /* a vector call's iovec array, and its number of buffers (0: not a vector call) */
  u64 iovs;
};

#include "http_kernel.bpf.h"

static __always_inline bool port_selected(u16 local, u16 remote) {
  if (!has_ports) return true;
  return bpf_map_lookup_elem(&ports, &local) || bpf_map_lookup_elem(&ports, &remote);
}

/* --- TCP connections ------------------------------------------------------------------- */


static __always_inline void emit_tcp(struct sock *sk, struct conn *c, u32 what) {
  struct wg_tcp rec = {};
  rec.what = what;
  rec.h = c->h;
  rec.h.type = WG_REC_TCP;
  rec.h.size = sizeof(rec);
  rec.h.ktime = bpf_ktime_get_boot_ns();
  rec.sk = (u64)sk;
  rec.start_ktime = c->start;
  rec.direction = c->direction;
  rec.end = c->end;
  if (c->direction == WG_TCP_CONNECTED && !c->established) rec.end = WG_TCP_FAILED; /* refused, timed out */
  /* Data bytes only: bytes_sent counts retransmissions again, bytes_received the FIN. */
  struct tcp_sock *tp = (void *)sk;
  rec.bytes_sent = BPF_CORE_READ(tp, bytes_sent) - BPF_CORE_READ(tp, bytes_retrans);
  rec.bytes_received = BPF_CORE_READ(tp, bytes_received);
  /* tcp_fin() marks the socket SOCK_DONE when the peer's FIN arrives; that FIN counts in
   * bytes_received like a byte. */
  unsigned long sk_flags = bpf_core_field_exists(sk->__sk_common.skc_flags) ? BPF_CORE_READ(sk, __sk_common.skc_flags)
                                                                            : BPF_CORE_READ(sk, sk_flags);
  if ((sk_flags & (1UL << SOCK_DONE)) && rec.bytes_received > 0) rec.bytes_received--;
  rec.retransmits = BPF_CORE_READ(tp, total_retrans);
  struct wg_endpoints e = c->e;
  if (!c->established) wg_read_endpoints(sk, &e); /* a failed connect: what is left */
  rec.family = e.family;
  rec.local_port = e.local_port;
  rec.remote_port = e.remote_port;
  __builtin_memcpy(rec.local_addr, e.local_addr, 16);
  __builtin_memcpy(rec.remote_addr, e.remote_addr, 16);
  wg_emit(WG_SENSOR_NETWORK, &rec, sizeof(rec));
}

/* The last record of a connection whose socket goes (or is reused): its end, if not reported
 * yet, and for followed protocols the release of their state. */
static __always_inline void release(struct sock *sk, struct conn *c) {
  u64 key = (u64)sk;
  if (c->l7 == WG_L7_HTTP) { /* a response under way is dropped */
    bpf_map_delete_elem(&http_states, &key);
    if (parse_http) bpf_map_delete_elem(&http_resume, &key);
  }
  u32 what = c->l7 == WG_L7_HTTP || c->l7 == WG_L7_DNS ? WG_TCP_RELEASED : 0;
  if (!c->ended && c->direction != WG_TCP_UNKNOWN) what |= WG_TCP_ENDED;
  if (what) emit_tcp(sk, c, what);
}

static __always_inline void track(u64 key, struct conn *c) {
  if (parse_http) { /* a socket reused before its release was seen */
    bpf_map_delete_elem(&http_states, &key);
    bpf_map_delete_elem(&http_resume, &key);
    /* Numbered from anywhere: an offer meant for an earlier connection on this socket address
     * matches this one's count by chance only (1 in 65,536), not at its first calls. */
    c->posted = (u16)bpf_get_prandom_u32();
  }
  if (bpf_map_update_elem(&conns, &key, c, BPF_ANY) == -7 /* E2BIG: table full */)
    wg_count_drop(WG_SENSOR_NETWORK, WG_DROP_PENDING_FULL);
}

SEC("raw_tp/inet_sock_set_state")
int wg_tcp_state(struct bpf_raw_tracepoint_args *ctx) {
  struct sock *sk = (void *)ctx->args[0];
  int oldstate = (int)ctx->args[1];
  int newstate = (int)ctx->args[2];
  if (BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP) return 0;
  u64 key = (u64)sk;
  if (newstate == TCP_SYN_SENT) { /* connect(), in the connecting process */
    if (!track_tcp) return 0;
    u32 tgid = bpf_get_current_pid_tgid() >> 32;
    if (tgid == self_tgid || !wg_selected(tgid)) return 0;
    struct wg_endpoints e;
    wg_read_endpoints(sk, &e);
    if (!port_selected(e.local_port, e.remote_port)) return 0;
    /* A socket connected again (after connect(AF_UNSPEC)): its previous connection ends here. */
    struct conn *old = bpf_map_lookup_elem(&conns, &key);
    if (old) release(sk, old);
    struct conn c = {.start = bpf_ktime_get_boot_ns(), .direction = WG_TCP_CONNECTED};
    wg_fill_header(&c.h, WG_REC_TCP, (void *)bpf_get_current_task());
    track(key, &c);
    return 0;
  }
  if (newstate == TCP_ESTABLISHED) {
    if (oldstate == TCP_SYN_SENT) {
      struct conn *c = bpf_map_lookup_elem(&conns, &key);
      if (c) {
        c->established = 1;
        wg_read_endpoints(sk, &c->e);
      }
      return 0;
    }
    if (oldstate != TCP_SYN_RECV || !track_tcp) return 0;
    /* The handshake of an incoming connection completed (in softirq: no process yet). The
     * process is filled in when it accepts. */
    struct wg_endpoints e;
    wg_read_endpoints(sk, &e);
    if (!port_selected(e.local_port, e.remote_port)) return 0;
    struct conn c = {.start = bpf_ktime_get_boot_ns(), .direction = WG_TCP_ACCEPTED, .established = 1, .e = e};
    track(key, &c);
    return 0;
  }
  struct conn *c = bpf_map_lookup_elem(&conns, &key);
  if (!c) return 0;
  if (newstate == TCP_CLOSE) {
    /* Straight from a data state to CLOSE without a reset received: an abort (SO_LINGER 0,
     * unread data at close) or a timeout. The kernel sends an abort's reset only after this
     * change: report when the socket is destroyed, once the reset is known. */
    if (c->end == WG_TCP_CLOSED && (oldstate == TCP_ESTABLISHED || oldstate == TCP_CLOSE_WAIT ||
                                    oldstate == TCP_FIN_WAIT1 || oldstate == TCP_SYN_RECV))
      return 0;
    /* The process may still read what arrived before the close: the entry stays (so its data
     * is still followed) until the socket is destroyed. */
    if (c->direction != WG_TCP_UNKNOWN) emit_tcp(sk, c, WG_TCP_ENDED);
    c->ended = 1;
  }
  return 0;
}

static __always_inline void mark_reset(struct sock *sk, u8 end) {
  u64 key = (u64)sk;
  struct conn *c = bpf_map_lookup_elem(&conns, &key);
  if (c && c->end == WG_TCP_CLOSED) c->end = end;
}

SEC("raw_tp/tcp_receive_reset")
int wg_tcp_receive_reset(struct bpf_raw_tracepoint_args *ctx) {
  mark_reset((void *)ctx->args[0], WG_TCP_RESET_RECEIVED);
  return 0;
}

SEC("raw_tp/tcp_send_reset")
int wg_tcp_send_reset(struct bpf_raw_tracepoint_args *ctx) {
  if (ctx->args[0]) mark_reset((void *)ctx->args[0], WG_TCP_RESET_SENT);
  return 0;
}

SEC("raw_tp/tcp_destroy_sock")
int wg_tcp_destroy(struct bpf_raw_tracepoint_args *ctx) {
  struct sock *sk = (void *)ctx->args[0];
  u64 key = (u64)sk;
  struct conn *c = bpf_map_lookup_elem(&conns, &key);
  if (!c) return 0;
  release(sk, c);
  bpf_map_delete_elem(&conns, &key);
  return 0;
}

/* accept() and accept4(): the connection now belongs to this process. */
static __always_inline int on_accepted(long ret) {
  if (ret < 0) return 0;
  struct sock *sk = wg_sock_of_fd((void *)bpf_get_current_task(), (u32)ret);
  if (!sk) return 0;
  u64 key = (u64)sk;
  struct conn *c = bpf_map_lookup_elem(&conns, &key);
  if (!c || c->h.pid != 0) return 0;
  u32 tgid = bpf_get_current_pid_tgid() >> 32;
  if (tgid == self_tgid || !wg_selected(tgid)) {
    bpf_map_delete_elem(&conns, &key);
    return 0;
  }
  wg_fill_header(&c->h, WG_REC_TCP, (void *)bpf_get_current_task());
  return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int wg_exit_accept4(struct syscall_exit_ctx *ctx) { return on_accepted(ctx->ret); }
SEC("tracepoint/syscalls/sys_exit_accept")
int wg_exit_accept(struct syscall_exit_ctx *ctx) { return on_accepted(ctx->ret); }

/* --- Socket data ----------------------------------------------------------------------- */

/* The call, if it is one the sensor follows: a TCP socket, or UDP to or from port 53. */
/* What decides whether a socket is followed. */
struct sock_facts {
  u16 family, protocol, local, remote; /* ports in host byte order */
};

/* A call on socket sk, if the sensor follows it: IPv4/IPv6 TCP, or UDP to port 53. */
static __always_inline bool describe_sock(struct sock *sk, struct sock_facts f, u8 kind, u8 direction, u32 fd,
                                          u64 ptr, u64 addr, u64 count, struct io *io) {
  u16 family = f.family, protocol = f.protocol, local = f.local, remote = f.remote;
  if (family != AF_INET && family != AF_INET6) return false;
  if (protocol == IPPROTO_UDP) {
    /* DNS clients: a socket connected to port 53, or an unconnected one whose address is
     * given with the call (checked when posting). Servers on port 53 are not clients. */
    if (!capture_dns || local == 53) return false;
    if (remote != 53 && !(remote == 0 && (addr || kind == IO_MSG || kind == IO_MMSG))) return false;
  } else if (protocol != IPPROTO_TCP) {
    return false;
  }
  /* An unconnected UDP socket's peer is known when posting: its port is checked there. */
  if (!(protocol == IPPROTO_UDP && remote == 0) && !port_selected(local, remote)) return false;
  *io = (struct io){.sk = (u64)sk, .ptr = ptr, .addr = addr, .count = count, .fd = fd, .kind = kind,
                    .direction = direction, .ip_protocol = (u8)protocol, .valid = 1};
  return true;
}

static __always_inline bool selected_tgid(u32 tgid) {
  return (capture_http || capture_dns) && tgid != self_tgid && wg_selected(tgid);
}

static __always_inline bool selected_process(void) { return selected_tgid(bpf_get_current_pid_tgid() >> 32); }

/* A syscall on fd: its socket found in the file table. */
static __always_inline bool describe_io(u8 kind, u8 direction, u32 fd, u64 ptr, u64 addr, u64 count, struct io *io) {
  if (!selected_process()) return false;
  struct sock *sk = wg_sock_of_fd((void *)bpf_get_current_task(), fd);
  if (!sk) return false;
  struct sock_facts f = {BPF_CORE_READ(sk, __sk_common.skc_family), BPF_CORE_READ(sk, sk_protocol),
                         BPF_CORE_READ(sk, __sk_common.skc_num),
                         bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport))};
  return describe_sock(sk, f, kind, direction, fd, ptr, addr, count, io);
}

static __always_inline int on_io_enter(u8 kind, u8 direction, u32 fd, u64 ptr, u64 addr, u64 count) {
  struct io io;
  if (!describe_io(kind, direction, fd, ptr, addr, count, &io)) return 0;
  u64 id = bpf_get_current_pid_tgid();
  if (use_task_storage) {
    struct io *slot =
        bpf_task_storage_get(&pending_task, bpf_get_current_task_btf(), 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
    if (slot)
      *slot = io;
    else
      wg_count_drop(WG_SENSOR_NETWORK, WG_DROP_PENDING_FULL);
  } else if (bpf_map_update_elem(&pending_io, &id, &io, BPF_ANY) != 0) {
    wg_count_drop(WG_SENSOR_NETWORK, WG_DROP_PENDING_FULL);
  }
  return 0;
}

/* Bytes in the first iovecs (at most 8) of a vector call: what a failed send tried to send. */
#define MAX_IOVS 8
static __always_inline u64 iov_total(u64 iov_ptr, u64 count) {
  u64 total = 0;
  for (int i = 0; i < MAX_IOVS; i++) {
    struct iovec iov;
    if (i >= count || bpf_probe_read_user(&iov, sizeof(iov), (void *)(iov_ptr + i * sizeof(iov)))) break;
    total += iov.iov_len;
  }
  return total;
}

/* ret < 0: the call failed; its span is then what it tried to move (size in s->total). */
static __always_inline bool first_span(struct io *io, long ret, struct span *s) {
  s->name = io->addr;
  s->base2 = 0;
  s->len2 = 0;
  s->iov = 0;
  s->iovs = 0;
  bool failed = ret < 0;
  s->total = failed ? io->count : ret;
  if (io->kind == IO_BUF) {
    s->base = io->ptr;
    s->len = s->total;
    return true;
  }
  if (io->kind == IO_NO_DATA) {
    s->base = 0;
    s->len = 0;
    return true;
  }
  u64 iov_ptr = io->ptr;
  u64 iov_count = io->count;
  if (io->kind == IO_MSG || io->kind == IO_MMSG) {
    struct user_msghdr msg;
    if (bpf_probe_read_user(&msg, sizeof(msg), (void *)io->ptr)) return false;
    if (io->kind == IO_MMSG) { /* ret counts messages: take the first one's length */
      u32 msg_len = 0;
      bpf_probe_read_user(&msg_len, sizeof(msg_len), (void *)(io->ptr + sizeof(struct user_msghdr)));
      ret = msg_len;
      s->total = msg_len;
    }
    iov_ptr = (u64)msg.msg_iov;
    iov_count = msg.msg_iovlen;
    s->name = (u64)msg.msg_name;
    if (msg.msg_iovlen == 0) return false;
  }
  if (failed) s->total = iov_total(iov_ptr, iov_count);
  s->iov = iov_ptr;
  s->iovs = iov_count;
  /* Both first iovecs in one read where there are two (each read of user memory costs more
   * than the bytes it moves). */
  struct iovec iov[2] = {};
  if (bpf_probe_read_user(iov, iov_count > 1 ? sizeof(iov) : sizeof(iov[0]), (void *)iov_ptr)) return false;
  s->base = (u64)iov[0].iov_base;
  s->len = iov[0].iov_len < s->total ? iov[0].iov_len : s->total;
  s->base2 = 0;
  s->len2 = 0;
  if (iov_count > 1 && s->len < s->total) {
    s->base2 = (u64)iov[1].iov_base;
    s->len2 = iov[1].iov_len < s->total - s->len ? iov[1].iov_len : s->total - s->len;
  }
  return true;
}

/* The first bytes of an HTTP/1.x request or response. */
static __always_inline bool looks_like_http(const char *d, u32 len) {
  if (len < 5) return false;
  u32 w = (u8)d[0] | (u8)d[1] << 8 | (u8)d[2] << 16 | (u32)(u8)d[3] << 24;
#define W(a, b, c, e) ((u32)(a) | (u32)(b) << 8 | (u32)(c) << 16 | (u32)(e) << 24)
  switch (w) {
    case W('G', 'E', 'T', ' '):
    case W('P', 'U', 'T', ' '):
    case W('P', 'O', 'S', 'T'):
    case W('H', 'E', 'A', 'D'):
    case W('D', 'E', 'L', 'E'):
    case W('P', 'A', 'T', 'C'):
    case W('O', 'P', 'T', 'I'):
    case W('C', 'O', 'N', 'N'):
    case W('T', 'R', 'A', 'C'):
      return true;
    case W('H', 'T', 'T', 'P'):
      return d[4] == '/';
  }
#undef W
  return false;
}

/* The call this thread entered, if it was remembered; forgets it. */
static __always_inline bool take_pending(struct io *io) {
  if (use_task_storage) {
    struct io *slot = bpf_task_storage_get(&pending_task, bpf_get_current_task_btf(), 0, 0);
    if (!slot || !slot->valid) return false;
    *io = *slot;
    slot->valid = 0;
    return true;
  }
  u64 id = bpf_get_current_pid_tgid();
  struct io *pending = bpf_map_lookup_elem(&pending_io, &id);
  if (!pending) return false;
  *io = *pending;
  bpf_map_delete_elem(&pending_io, &id);
  return true;
}

/* Copies the first bytes of a call (at most WG_HEAD_BYTES) to data: their number. With
 * `second`, a vector call's second buffer follows a short first one. */
static __always_inline u32 copy_bytes(char *data, struct span *span, bool second) {
  u32 head = span->len < WG_HEAD_BYTES ? span->len : WG_HEAD_BYTES;
  barrier_var(head);
  head &= DATA_ROOM - 1;
  if (head > 0 && bpf_probe_read_user(data, head, (void *)span->base)) head = 0;
  /* A vector call's second buffer, after a short first one (e.g. a DNS length prefix). */
  if (second && head == span->len && head < WG_HEAD_BYTES && span->len2 > 0) {
    u32 more = WG_HEAD_BYTES - head;
    if (span->len2 < more) more = span->len2;
    barrier_var(more);
    more &= WG_HEAD_BYTES - 1;
    u32 at = head & (WG_HEAD_BYTES - 1);
    if (more > 0 && !bpf_probe_read_user(&data[at], more, (void *)span->base2)) head = at + more;
  }
  return head;
}

static __always_inline u32 copy_head(char *data, struct span *span) { return copy_bytes(data, span, true); }

/* The last bytes (at most WG_TAIL_BYTES) of a vector call of at most MAX_IOVS buffers that moved
 * all of them, from its last buffer (nginx writes a chunked body's last chunk as the last buffer
 * of a writev): copied to the record's data at `at`, their number (0: unknown). The iovecs are
 * read into the scratch past the tail. A function of its own, verified once whatever its
 * caller's state. */
__attribute__((noinline)) u32 copy_vector_tail(struct data_scratch *d, u32 at, u64 iov, u64 n, u64 size) {
  if (!d || n < 1 || n > MAX_IOVS) return 0;
  struct iovec *room =
      (void *)&d->bytes[__builtin_offsetof(struct wg_sock_data, data) + DATA_ROOM - MAX_IOVS * sizeof(struct iovec)];
  u32 bytes = (u32)n * sizeof(struct iovec);
  barrier_var(bytes);
  if (bytes > MAX_IOVS * sizeof(struct iovec) || bpf_probe_read_user(room, bytes, (void *)iov)) return 0;
  u64 moved = 0;
  for (int i = 0; i < MAX_IOVS; i++) {
    if (i >= n) break;
    moved += room[i].iov_len;
  }
  struct iovec *last = &room[(n - 1) & (MAX_IOVS - 1)];
  u64 len = last->iov_len;
  if (moved != size || len == 0) return 0; /* a short write: its last bytes are elsewhere */
  u32 tail = len < WG_TAIL_BYTES ? len : WG_TAIL_BYTES;
  barrier_var(tail);
  at &= DATA_ROOM - 1;
  if (tail == 0 || tail > WG_TAIL_BYTES ||
      bpf_probe_read_user(&d->bytes[__builtin_offsetof(struct wg_sock_data, data) + at], tail,
                          (void *)((u64)last->iov_base + len - tail)))
    return 0;
  return tail;
}

/* A TCP connection the sensor follows. One whose first bytes were neither HTTP nor DNS costs
 * this lookup and no more. */
static __always_inline struct conn *conn_of(u64 sk) { return bpf_map_lookup_elem(&conns, &sk); }

/* Posts what call `io` moved (for sendmmsg and recvmmsg: its message `index`). `c`: the TCP
 * connection, when the caller looked it up (`known`). */
static __always_inline int emit_io(struct io *in, long ret, u32 index, struct conn *c, bool known) {
  struct io io = *in;
  if (io.kind == IO_MMSG) io.ptr += index * sizeof(struct mmsghdr);
  if (!known) c = io.ip_protocol == IPPROTO_TCP ? conn_of(io.sk) : NULL;
  if (c && c->l7 == WG_L7_OTHER) return 0;
  /* A failed send on an HTTP connection still tells what the process answered (a client that
   * left before its response arrived): reported with what it tried to send. */
  bool failed = false;
  if (ret <= 0) {
    /* Only when the peer is gone (EPIPE, ECONNRESET): EAGAIN and EINTR are retried. */
    if ((ret != -32 && ret != -104) || io.direction != WG_DATA_EGRESS || io.ip_protocol != IPPROTO_TCP) return 0;
    if (!c || c->l7 != WG_L7_HTTP) return 0;
    failed = true;
    ret = -1;
  }

  u32 zero = 0;
  struct data_scratch *s = bpf_map_lookup_elem(&data_scratch_map, &zero);
  if (!s) return 0;
  struct wg_sock_data *rec = (void *)s->bytes;
  char *data = rec->data;
  struct span span;
  if (!first_span(&io, ret, &span)) {
    wg_count_drop(WG_SENSOR_NETWORK, WG_DROP_READ_FAILED);
    return 0;
  }
  u64 size = span.total;
  u32 head = span.len < WG_HEAD_BYTES ? span.len : WG_HEAD_BYTES;
  barrier_var(head);
  head &= DATA_ROOM - 1;

  struct sock *sk = (void *)io.sk;
  struct wg_endpoints e;
  u8 protocol = 0;
  if (io.ip_protocol == IPPROTO_UDP) {
    wg_read_endpoints(sk, &e);
    if (e.remote_port == 0) { /* unconnected: the peer is in the call's address */
      if (!span.name || !wg_read_sockaddr((void *)span.name, &e)) return 0;
      if (e.remote_port != 53 || !port_selected(e.local_port, e.remote_port)) return 0;
    }
    protocol = WG_L7_DNS;
  } else {
    if (c && c->l7) {
      protocol = c->l7;
      e = c->e; /* taken when it was established */
    } else {
      /* Not known to be HTTP yet: look at its first bytes before copying more. */
      char peek[8] = {};
      bool peeked = capture_http && head >= 5 &&
                    !bpf_probe_read_user(peek, sizeof(peek) < head ? sizeof(peek) : 5, (void *)span.base);
      bool http = peeked && looks_like_http(peek, head);
      wg_read_endpoints(sk, &e);
      if (http) {
        protocol = WG_L7_HTTP;
        if (c) {
          c->l7 = protocol;
        } else { /* a connection older than the agent: follow it from now on */
          struct conn fresh = {.l7 = protocol, .established = 1, .e = e};
          fill_header(&fresh.h, WG_REC_TCP);
          track(io.sk, &fresh);
        }
      } else if (capture_dns && e.remote_port == 53) {
        protocol = WG_L7_DNS;
        if (c) c->l7 = protocol; /* followed until released, like HTTP */
      } else {
        /* Neither: decided from its first bytes (blank lines before a request excepted), and
         * not looked at again. */
        if (c && peeked && peek[0] != '\r' && peek[0] != '\n') c->l7 = WG_L7_OTHER;
        return 0;
      }
    }
    if ((protocol == WG_L7_HTTP && !capture_http) || (protocol == WG_L7_DNS && !capture_dns)) return 0;
  }
  if (protocol == WG_L7_HTTP && parse_http) {
    if (!c) c = bpf_map_lookup_elem(&conns, &io.sk);
    if (c && c->capture == CAPTURE_IGNORED) return 0;
    if (c && c->capture == CAPTURE_POSTED) {
      http_take_back(c, io.sk);
      if (c->capture == CAPTURE_IGNORED) return 0;
    }
    if (c && c->capture == CAPTURE_NONE && http_step(c, io.sk, io.direction, size, &span, s) == HTTP_KEPT) return 0;
  }
  head = copy_head(data, &span);

  /* The end of a large call, where the last chunk of a chunked body shows. */
  u32 tail = 0;
  if (io.kind == IO_BUF && size > head && size >= WG_TAIL_BYTES) {
    if (!bpf_probe_read_user(&data[head], WG_TAIL_BYTES, (void *)(span.base + size - WG_TAIL_BYTES)))
      tail = WG_TAIL_BYTES;
  } else if (size > head && io.ip_protocol == IPPROTO_TCP && (io.kind == IO_IOV || io.kind == IO_MSG)) {
    tail = copy_vector_tail(s, head, span.iov, span.iovs, size);
    if (tail > WG_TAIL_BYTES) tail = 0; /* (it cannot be: a bound for the verifier) */
    barrier_var(tail);
  }

  fill_header(&rec->h, WG_REC_SOCK_DATA);
  rec->sk = io.sk;
  rec->size = size;
  rec->direction = io.direction;
  rec->protocol = protocol;
  rec->ip_protocol = io.ip_protocol;
  rec->failed = failed;
  rec->family = e.family;
  rec->local_port = e.local_port;
  rec->remote_port = e.remote_port;
  rec->head_len = head;
  rec->tail_len = tail;
  rec->seq = 0;
  if (c && protocol == WG_L7_HTTP && parse_http) rec->seq = ++c->posted;
  rec->fd = io.fd;
  __builtin_memcpy(rec->local_addr, e.local_addr, 16);
  __builtin_memcpy(rec->remote_addr, e.remote_addr, 16);
  u64 total = sizeof(struct wg_sock_data) + head + tail;
  rec->h.size = total;
  if (total > sizeof(struct data_scratch)) return 0;
  wg_emit(WG_SENSOR_NETWORK, rec, total);
  return 0;
}

/* The exits share one copy of the code that posts a call's bytes, reached by a tail call: the
 * verifier then checks that code once instead of once per syscall (seconds at startup). The
 * call travels to it in a per-CPU slot: a tail call keeps the CPU and nothing runs between. */
struct exit_slot {
  struct io io;
  long ret;
  u32 index; /* which message of a sendmmsg or recvmmsg */
  u32 pad;
};

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, u32);
  __type(value, struct exit_slot);
} exit_slot_map SEC(".maps");

/* Holds wg_post_io, put there by user space after load. */
struct {
  __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
  __uint(max_entries, 1);
  __type(key, u32);
  __type(value, u32);
} emitters SEC(".maps");

static __always_inline int on_io_exit(void *ctx, long ret, u8 kind, u8 direction, int fd_arg, int ptr_arg,
                                      int addr_arg, int count_arg) {
  u32 zero = 0;
  struct exit_slot *slot = bpf_map_lookup_elem(&exit_slot_map, &zero);
  if (!slot) return 0;
  if (args_at_exit) {
    /* Only calls that moved bytes are posted, and sends that failed because the peer left
     * (EPIPE, ECONNRESET; see emit_io): the rest costs nothing more. */
    if (ret <= 0 && !(direction == WG_DATA_EGRESS && (ret == -32 || ret == -104))) return 0;
    struct pt_regs *regs = wg_syscall_regs();
    if (!describe_io(kind, direction, (u32)wg_syscall_arg(regs, fd_arg), wg_syscall_arg(regs, ptr_arg),
                     wg_syscall_arg(regs, addr_arg), wg_syscall_arg(regs, count_arg), &slot->io))
      return 0;
  } else if (!take_pending(&slot->io)) {
    return 0;
  }
  slot->ret = ret;
  slot->index = 0;
  bpf_tail_call(ctx, &emitters, 0);
  wg_count_drop(WG_SENSOR_NETWORK, WG_DROP_READ_FAILED); /* only if the emitter is missing */
  return 0;
}

SEC("tracepoint")
int wg_post_io(void *ctx) {
  u32 zero = 0;
  struct exit_slot *slot = bpf_map_lookup_elem(&exit_slot_map, &zero);
  if (!slot) return 0;
  u32 index = slot->index;
  emit_io(&slot->io, slot->ret, index, NULL, false);
  /* sendmmsg and recvmmsg: their second message too (a resolver sends its A and AAAA queries
   * with one call), by calling this program again. */
  if (slot->io.kind == IO_MMSG && index == 0 && slot->ret > 1) {
    slot->index = 1;
    bpf_tail_call(ctx, &emitters, 0);
  }
  return 0;
}

/* A syscall's enter and exit programs, with the positions of its arguments (-1: none). */
#define ARG(ctx, i) ((i) < 0 ? 0 : (ctx)->args[(i) < 0 ? 0 : (i)])
#define IO_PAIR(syscall, kind, direction, ptr_arg, addr_arg, count_arg)                                   \
  SEC("tracepoint/syscalls/sys_enter_" #syscall)                                                         \
  int wg_enter_##syscall(struct syscall_enter_ctx *ctx) {                                                \
    return on_io_enter(kind, direction, (u32)ctx->args[0], ARG(ctx, ptr_arg), ARG(ctx, addr_arg),        \
                       ARG(ctx, count_arg));                                                            \
  }                                                                                                      \
  SEC("tracepoint/syscalls/sys_exit_" #syscall)                                                          \
  int wg_exit_##syscall(struct syscall_exit_ctx *ctx) {                                                  \
    return on_io_exit(ctx, ctx->ret, kind, direction, 0, ptr_arg, addr_arg, count_arg);                 \
  }

IO_PAIR(read, IO_BUF, WG_DATA_INGRESS, 1, -1, 2)
IO_PAIR(write, IO_BUF, WG_DATA_EGRESS, 1, -1, 2)
IO_PAIR(recvfrom, IO_BUF, WG_DATA_INGRESS, 1, 4, 2)
IO_PAIR(sendto, IO_BUF, WG_DATA_EGRESS, 1, 4, 2)
IO_PAIR(readv, IO_IOV, WG_DATA_INGRESS, 1, -1, 2)
IO_PAIR(writev, IO_IOV, WG_DATA_EGRESS, 1, -1, 2)
IO_PAIR(recvmsg, IO_MSG, WG_DATA_INGRESS, 1, -1, -1)
IO_PAIR(sendmsg, IO_MSG, WG_DATA_EGRESS, 1, -1, -1)
IO_PAIR(recvmmsg, IO_MMSG, WG_DATA_INGRESS, 1, -1, -1)
IO_PAIR(sendmmsg, IO_MMSG, WG_DATA_EGRESS, 1, -1, -1)
IO_PAIR(sendfile64, IO_NO_DATA, WG_DATA_EGRESS, 2, -1, 3)

/* Socket calls where the socket layer reports them (tp_btf/sock_send_length and
 * sock_recv_length): they fire for sockets only, with their struct sock at hand, so the reads
 * and writes of other files cost nothing and no file table is walked. The call's buffer comes
 * from its syscall's arguments, in the registers the task saved at entry (x86-64 numbers; a
 * call the table does not know, io_uring's, is not looked at). sendmmsg and recvmmsg, several
 * messages per call, stay on their syscall exits, and so does sendfile (older kernels send
 * files without sock_sendmsg; newer ones call it once per batch). */
struct call_layout {
  u8 kind;
  signed char ptr_arg, addr_arg, count_arg; /* -1: none */
};

static __always_inline bool socket_call(u64 nr, u8 direction, struct call_layout *c) {
  bool egress = direction == WG_DATA_EGRESS;
  switch (nr) {
    case 0: /* read */
    case 1: /* write */
      *c = (struct call_layout){IO_BUF, 1, -1, 2};
      return egress == (nr == 1);
    case 19: /* readv */
    case 20: /* writev */
      *c = (struct call_layout){IO_IOV, 1, -1, 2};
      return egress == (nr == 20);
    case 44: /* sendto */
    case 45: /* recvfrom */
      *c = (struct call_layout){IO_BUF, 1, 4, 2};
      return egress == (nr == 44);
    case 46: /* sendmsg */
    case 47: /* recvmsg */
      *c = (struct call_layout){IO_MSG, 1, -1, -1};
      return egress == (nr == 46);
  }
  return false;
}

#define MSG_PEEK 2
#define MSG_TRUNC 0x20     /* TCP: bytes discarded, not copied */
#define MSG_ERRQUEUE 0x2000 /* the error queue: echoes of sent data */
#define PF_KTHREAD 0x00200000
#define PF_IO_WORKER 0x00000010

static __always_inline int on_socket_call(struct sock *sk, int ret, int flags, u8 direction) {
  if (ret <= 0 && !(direction == WG_DATA_EGRESS && (ret == -32 || ret == -104))) return 0;
  if (direction == WG_DATA_INGRESS && (flags & (MSG_PEEK | MSG_TRUNC | MSG_ERRQUEUE))) return 0;
  /* A kernel thread or an io_uring worker has no syscall of its own in its saved registers. */
  struct task_struct *task = bpf_get_current_task_btf(); /* once: each helper call costs */
  if (task->flags & (PF_KTHREAD | PF_IO_WORKER)) return 0;
  /* Before the rest, so that a connection not followed costs the least. */
  struct conn *conn = sk->sk_protocol == IPPROTO_TCP ? conn_of((u64)sk) : NULL;
  if (conn && conn->l7 == WG_L7_OTHER) return 0;
  if (!selected_tgid(task->tgid)) return 0;
  /* The socket is the tracepoint's own (a trusted pointer): its fields are read in place. A
   * socket of the kernel's own (NFS, say), used while the task is in a syscall, has no file. */
  struct socket *sock = sk->sk_socket;
  if (!sock || !sock->file) return 0;
  struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
  struct call_layout c;
  if (!socket_call(regs->orig_ax, direction, &c)) return 0;
  struct sock_facts f = {sk->__sk_common.skc_family, sk->sk_protocol, sk->__sk_common.skc_num,
                         bpf_ntohs(sk->__sk_common.skc_dport)};
  struct io io;
  if (!describe_sock(sk, f, c.kind, direction, (u32)regs->di, wg_syscall_arg(regs, c.ptr_arg),
                     wg_syscall_arg(regs, c.addr_arg), wg_syscall_arg(regs, c.count_arg), &io))
    return 0;
  /* An unconnected UDP socket's reply: the kernel writes its sender's address into the
   * caller's buffer only after this, so the call is posted at its syscall's exit. */
  if (io.ip_protocol == IPPROTO_UDP && direction == WG_DATA_INGRESS && f.remote == 0) {
    struct io *slot =
        bpf_task_storage_get(&pending_task, bpf_get_current_task_btf(), 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
    if (slot)
      *slot = io;
    else
      wg_count_drop(WG_SENSOR_NETWORK, WG_DROP_PENDING_FULL);
    return 0;
  }
  return emit_io(&io, ret, 0, conn, true);
}

/* The exits of the calls that can read an unconnected UDP socket: what the socket tracepoint
 * left with the thread is posted now, its sender's address filled in. */
static __always_inline int on_late_exit(void *ctx, long ret) {
  u32 zero = 0;
  struct exit_slot *slot = bpf_map_lookup_elem(&exit_slot_map, &zero);
  if (!slot || !take_pending(&slot->io)) return 0;
  slot->ret = ret;
  slot->index = 0;
  bpf_tail_call(ctx, &emitters, 0);
  wg_count_drop(WG_SENSOR_NETWORK, WG_DROP_READ_FAILED); /* only if the emitter is missing */
  return 0;
}

SEC("tracepoint/syscalls/sys_exit_recvfrom")
int wg_late_recvfrom(struct syscall_exit_ctx *ctx) { return on_late_exit(ctx, ctx->ret); }

SEC("tracepoint/syscalls/sys_exit_recvmsg")
int wg_late_recvmsg(struct syscall_exit_ctx *ctx) { return on_late_exit(ctx, ctx->ret); }

SEC("tp_btf/sock_send_length")
int wg_sock_send(u64 *ctx) { return on_socket_call((struct sock *)ctx[0], (int)ctx[1], (int)ctx[2], WG_DATA_EGRESS); }

SEC("tp_btf/sock_recv_length")
int wg_sock_recv(u64 *ctx) { return on_socket_call((struct sock *)ctx[0], (int)ctx[1], (int)ctx[2], WG_DATA_INGRESS); }
