/* Network policies. network.connect: rules evaluated in the cgroup connect hooks, which can
 * refuse a connection (the call fails with EPERM) before a packet leaves, and the cgroup sendmsg
 * hooks, which refuse a UDP datagram sent without connect the same way. network.accept: rules
 * judged when a process accepts a connection (the accept exit, where a kill lands before the
 * call returns), and deny rules judged in the cgroup ingress hook, which drops the first
 * packet of a connection (or a UDP datagram) before any process sees it. The cgroup programs
 * attach to the cgroups the rules name, or to the root of the cgroup tree when a rule names
 * none. */
#include "common.bpf.h"
#include "policy_common.bpf.h"
#include "socket.bpf.h"

/* Peers (a connect's destination, an inbound connection's source): CIDRs as LPM keys; an
 * entry holds the rules of every wider CIDR too. */
struct {
  __uint(type, BPF_MAP_TYPE_LPM_TRIE);
  __uint(max_entries, 65536);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, struct wg_ip4_key);
  __type(value, u64);
} dest4 SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_LPM_TRIE);
  __uint(max_entries, 65536);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, struct wg_ip6_key);
  __type(value, u64);
} dest6 SEC(".maps");

/* Port -> the rules whose port selector lists it (ranges expanded): one lookup per connect.
 * Inbound, the local port. */
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 65536);
  __type(key, u32);
  __type(value, u64);
} port_rules SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, u32);
  __type(value, struct wg_path_key);
} binary_scratch SEC(".maps");

/* The rules whose peer selector lists addr (16 bytes; IPv4 in the first 4). */
static __always_inline u64 peer_rules(const u8 *addr, bool v6) {
  if (v6) {
    struct wg_ip6_key key = {.prefixlen = 128};
    __builtin_memcpy(key.addr, addr, 16);
    return lookup_bits(&dest6, &key);
  }
  struct wg_ip4_key key = {.prefixlen = 32};
  __builtin_memcpy(key.addr, addr, 4);
  return lookup_bits(&dest4, &key);
}

static __always_inline u64 protocol_rules(const struct wg_policy_masks *m, u32 type) {
  return type == SOCK_STREAM ? m->tcp_rules : type == SOCK_DGRAM ? m->udp_rules : 0;
}

static __always_inline void post(struct wg_policy_connect *rec, const struct decision *d, bool v6, u32 type,
                                 const u8 *addr) {
  rec->h.size = sizeof(*rec);
  rec->matched = d->candidates;
  rec->rule = d->rule;
  rec->outcome = d->outcome;
  rec->family = v6 ? AF_INET6 : AF_INET;
  rec->type = type;
  __builtin_memcpy(rec->addr, addr, 16);
  rec->generation = generation;
  wg_emit(WG_SENSOR_POLICY, rec, sizeof(*rec));
}

static __always_inline int on_connect(struct bpf_sock_addr *ctx, bool v6) {
  u32 zero = 0;
  struct wg_policy_masks *m = bpf_map_lookup_elem(&masks, &zero);
  if (!m || !m->connect_rules) return 1;
  u32 type = ctx->type;
  u64 candidates = m->connect_rules & protocol_rules(m, type);
  if (!candidates) return 1;
  u32 port = bpf_ntohs((u16)ctx->user_port);
  candidates &= holds(&m->sel[WG_SEL_PORT], lookup_bits(&port_rules, &port));

  u8 addr[16] = {};
  if (v6) {
    for (int i = 0; i < 4; i++) {
      u32 word = ctx->user_ip6[i];
      __builtin_memcpy(&addr[i * 4], &word, 4);
    }
  } else {
    u32 ip = ctx->user_ip4;
    __builtin_memcpy(addr, &ip, 4);
  }
  candidates &= holds(&m->sel[WG_SEL_DESTINATION], peer_rules(addr, v6));
  if (!candidates) return 1;
  u32 tgid = bpf_get_current_pid_tgid() >> 32;
  struct wg_path_key *tmp = bpf_map_lookup_elem(&binary_scratch, &zero);
  if (!tmp) return 1;
  candidates = identity_rules(m, candidates, tgid, current_ppid(), tmp);
  if (!candidates) return 1;

  struct decision d = {.candidates = candidates, .rule = WG_MAX_RULES};
  bpf_loop(WG_MAX_RULES, decide_step, &d, 0);
  if (!d.report) return 1;
  if (within_rate(&d)) {
    struct wg_policy_connect rec = {};
    wg_fill_header_btf(&rec.h, WG_REC_POLICY_CONNECT);
    rec.port = port;
    post(&rec, &d, v6, type, addr);
  }
  return d.outcome == WG_OUTCOME_DENIED ? 0 : 1; /* 0: the connect fails with EPERM */
}

SEC("cgroup/connect4")
int wg_pol_conn4(struct bpf_sock_addr *ctx) { return on_connect(ctx, false); }

SEC("cgroup/connect6")
int wg_pol_conn6(struct bpf_sock_addr *ctx) { return on_connect(ctx, true); }

/* UDP datagrams sent with an explicit destination (sendto, sendmsg) on a socket that was never
 * connected: the same rules, the same refusal (the call fails with EPERM). */
SEC("cgroup/sendmsg4")
int wg_pol_send4(struct bpf_sock_addr *ctx) { return on_connect(ctx, false); }

SEC("cgroup/sendmsg6")
int wg_pol_send6(struct bpf_sock_addr *ctx) { return on_connect(ctx, true); }

/* network.accept, when a process accepts: every selector holds, and a kill lands before
 * accept returns to user space. */
static __always_inline int on_accept(long fd) {
  u32 zero = 0;
  struct wg_policy_masks *m = bpf_map_lookup_elem(&masks, &zero);
  if (!m || !m->accept_rules || fd < 0) return 0;
  struct task_struct *task = bpf_get_current_task_btf();
  struct sock *sk = wg_sock_of_fd(task, fd);
  if (!sk) return 0;
  struct wg_endpoints e;
  wg_read_endpoints(sk, &e);
  if (e.family != AF_INET && e.family != AF_INET6) return 0;
  u64 candidates = m->accept_rules & m->tcp_rules;
  u32 port = e.local_port;
  candidates &= holds(&m->sel[WG_SEL_PORT], lookup_bits(&port_rules, &port));
  bool v6 = e.family == AF_INET6;
  candidates &= holds(&m->sel[WG_SEL_DESTINATION], peer_rules(e.remote_addr, v6));
  if (!candidates) return 0;
  u32 tgid = bpf_get_current_pid_tgid() >> 32;
  struct wg_path_key *tmp = bpf_map_lookup_elem(&binary_scratch, &zero);
  if (!tmp) return 0;
  candidates = identity_rules(m, candidates, tgid, current_ppid(), tmp);
  if (!candidates) return 0;

  struct decision d = {.candidates = candidates, .rule = WG_MAX_RULES};
  decide_and_kill(&d, tgid);
  if (!d.report || !within_rate(&d)) return 0;
  struct wg_policy_connect rec = {};
  wg_fill_header_btf(&rec.h, WG_REC_POLICY_CONNECT);
  rec.port = port;
  rec.peer_port = e.remote_port;
  rec.inbound = 1;
  post(&rec, &d, v6, SOCK_STREAM, e.remote_addr);
  return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int wg_pol_accept4(struct syscall_exit_ctx *ctx) { return on_accept(ctx->ret); }

SEC("tracepoint/syscalls/sys_exit_accept")
int wg_pol_accept(struct syscall_exit_ctx *ctx) { return on_accept(ctx->ret); }

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define TCP_LISTEN 10

/* network.accept deny rules, as a packet arrives for a socket of the cgroup: a new TCP
 * connection (a packet for a listening socket) or a UDP datagram from a denied peer is
 * dropped. Nothing else is touched: packets of established connections pass at once. */
SEC("cgroup_skb/ingress")
int wg_pol_ingress(struct __sk_buff *skb) {
  u32 zero = 0;
  struct wg_policy_masks *m = bpf_map_lookup_elem(&masks, &zero);
  if (!m || !m->ingress_rules) return 1;
  struct bpf_sock *sk = skb->sk;
  if (!sk) return 1;
  sk = bpf_sk_fullsock(sk);
  if (!sk) return 1;
  /* New TCP connections (a listening socket), and UDP datagrams to unconnected sockets: the
   * replies a connected UDP client (a resolver, say) waits for are never touched. */
  u32 type = sk->type, protocol = sk->protocol;
  if (type == SOCK_STREAM && (protocol != IPPROTO_TCP || sk->state != TCP_LISTEN)) return 1;
  if (type == SOCK_DGRAM && (protocol != IPPROTO_UDP || sk->dst_port != 0)) return 1;
  u64 candidates = m->ingress_rules & protocol_rules(m, type);
  if (!candidates) return 1;
  u32 port = sk->src_port;
  candidates &= holds(&m->sel[WG_SEL_PORT], lookup_bits(&port_rules, &port));
  if (!candidates) return 1;

  /* The packet starts at its IP header: the source address, and the transport header's
   * source port when no IPv6 extension header comes first. */
  u8 addr[16] = {};
  u16 peer_port = 0;
  u32 l4 = 0;
  u8 proto = 0;
  bool v6 = skb->protocol == bpf_htons(ETH_P_IPV6);
  if (v6) {
    if (bpf_skb_load_bytes(skb, 8, addr, 16)) return 1;
    bpf_skb_load_bytes(skb, 6, &proto, 1);
    l4 = 40;
  } else if (skb->protocol == bpf_htons(ETH_P_IP)) {
    u8 vihl = 0;
    if (bpf_skb_load_bytes(skb, 12, addr, 4) || bpf_skb_load_bytes(skb, 0, &vihl, 1)) return 1;
    bpf_skb_load_bytes(skb, 9, &proto, 1);
    l4 = (vihl & 0xf) * 4;
  } else {
    return 1;
  }
  candidates &= holds(&m->sel[WG_SEL_DESTINATION], peer_rules(addr, v6));
  if (candidates && selector_used(m, WG_SEL_CGROUP)) {
    u64 cgroup = bpf_skb_cgroup_id(skb);
    candidates &= holds(&m->sel[WG_SEL_CGROUP], lookup_bits(&cgroup_rules, &cgroup));
  }
  if (!candidates) return 1;
  if (proto == IPPROTO_TCP || proto == IPPROTO_UDP) {
    u16 be = 0;
    if (!bpf_skb_load_bytes(skb, l4, &be, 2)) peer_port = bpf_ntohs(be);
  }

  struct decision d = {.candidates = candidates, .rule = WG_MAX_RULES};
  bpf_loop(WG_MAX_RULES, decide_step, &d, 0);
  if (!d.report) return 1;
  if (within_rate(&d)) {
    /* No process acts here (the packet arrives in softirq): the record names none. */
    struct wg_policy_connect rec = {};
    rec.h.type = WG_REC_POLICY_CONNECT;
    rec.h.ktime = bpf_ktime_get_boot_ns();
    rec.h.cgroup_id = bpf_skb_cgroup_id(skb);
    rec.port = port;
    rec.peer_port = peer_port;
    rec.inbound = 1;
    post(&rec, &d, v6, type, addr);
  }
  return d.outcome == WG_OUTCOME_DENIED ? 0 : 1; /* 0: the packet is dropped */
}
