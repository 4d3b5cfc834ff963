/* Connect policies: network.connect rules evaluated in the cgroup connect hooks, which can
 * refuse a connection (the call fails with EPERM) before a packet leaves, and the cgroup sendmsg
 * hooks, which refuse a UDP datagram sent without connect the same way. Attached to the
 * cgroups the rules name, or to the root of the cgroup tree when a rule names none. */
#include "common.bpf.h"
#include "policy_common.bpf.h"
#include "socket.bpf.h"

/* Destinations: CIDRs as LPM keys; an entry holds the rules of every wider CIDR too. */
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

/* Port -> the rules whose port selector lists it (ranges expanded): one lookup per connect. */
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

static __always_inline int on_connect(struct bpf_sock_addr *ctx, bool v6) {
  u32 zero = 0;
  struct wg_policy_masks *m = bpf_map_lookup_elem(&masks, &zero);
  if (!m || !m->connect_rules) return 1;
  u32 type = ctx->type;
  u64 candidates = m->connect_rules & (type == SOCK_STREAM ? m->tcp_rules : type == SOCK_DGRAM ? m->udp_rules : 0);
  if (!candidates) return 1;
  u32 port = bpf_ntohs((u16)ctx->user_port);
  candidates &= holds(&m->sel[WG_SEL_PORT], lookup_bits(&port_rules, &port));

  u8 addr[16] = {};
  u64 listed;
  if (v6) {
    struct wg_ip6_key key = {.prefixlen = 128};
    for (int i = 0; i < 4; i++) {
      u32 word = ctx->user_ip6[i];
      __builtin_memcpy(&key.addr[i * 4], &word, 4);
    }
    __builtin_memcpy(addr, key.addr, 16);
    listed = lookup_bits(&dest6, &key);
  } else {
    struct wg_ip4_key key = {.prefixlen = 32};
    u32 ip = ctx->user_ip4;
    __builtin_memcpy(key.addr, &ip, 4);
    __builtin_memcpy(addr, &ip, 4);
    listed = lookup_bits(&dest4, &key);
  }
  candidates &= holds(&m->sel[WG_SEL_DESTINATION], listed);
  if (!candidates) return 1;
  u32 tgid = bpf_get_current_pid_tgid() >> 32;
  struct wg_path_key *tmp = bpf_map_lookup_elem(&binary_scratch, &zero);
  if (!tmp) return 1;
  candidates = identity_rules(m, candidates, tgid, current_ppid(), tmp);
  if (!candidates) return 1;

  struct decision d = {.candidates = candidates, .rule = WG_MAX_RULES};
  bpf_loop(WG_MAX_RULES, decide_step, &d, 0);
  if (!d.report) return 1;

  struct wg_policy_connect rec = {};
  wg_fill_header_btf(&rec.h, WG_REC_POLICY_CONNECT);
  rec.h.size = sizeof(rec);
  rec.matched = candidates;
  rec.rule = d.rule;
  rec.outcome = d.outcome;
  rec.family = v6 ? AF_INET6 : AF_INET;
  rec.type = type;
  __builtin_memcpy(rec.addr, addr, 16);
  rec.port = port;
  rec.generation = generation;
  wg_emit(WG_SENSOR_POLICY, &rec, sizeof(rec));
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
