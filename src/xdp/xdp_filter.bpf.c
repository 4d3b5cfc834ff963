/* Packet rules in XDP: each packet is parsed once (VLAN tags, IPv4 or IPv6 with its
 * extension headers, TCP/UDP/ICMP), then the rules are evaluated in order until one drops or
 * passes it. `count` and `sample` rules go on; `rate_limit` drops what is over its source's
 * bucket and lets the rest go on. A rule's addresses are one hash lookup (whole addresses) and
 * one LPM trie lookup (networks), whatever their number; TCP options are read only when a rule
 * needs them; tcpdump expressions run as a chain of tail calls before the rules. Per rule, per
 * CPU: packets and bytes matched. */
#include "vmlinux_min.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "xdp_record.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct xdp_md {
  __u32 data;
  __u32 data_end;
  __u32 data_meta;
  __u32 ingress_ifindex;
  __u32 rx_queue_index;
  __u32 egress_ifindex;
};

enum xdp_action { XDP_ABORTED = 0, XDP_DROP, XDP_PASS, XDP_TX, XDP_REDIRECT };

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, WG_XDP_MAX_RULES);
  __type(key, u32);
  __type(value, struct wg_xdp_rule);
} rules SEC(".maps");

/* The rule set this program is loaded for, set by user space before the load: constants to
 * the verifier, which leaves out the code of every match and action no rule uses. */
const volatile struct wg_xdp_settings rule_set = {};
#define USED(match) (rule_set.needs & (match))
#define ACTION_USED(action) (rule_set.actions & (1u << (action)))

/* The same, never read by the program: bound to it by user space, for `waggle xdp status`. */
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, u32);
  __type(value, struct wg_xdp_settings);
} settings SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_LPM_TRIE);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __uint(max_entries, 1 << 16); /* set by user space to the networks given */
  __type(key, struct wg_xdp_net_key);
  __type(value, u8);
} networks SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 1 << 16); /* set by user space to the addresses given */
  __type(key, struct wg_xdp_net_key);
  __type(value, u8);
} hosts SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 1 << 16); /* set by user space to the IPv4 addresses given */
  __type(key, struct wg_xdp_host4_key);
  __type(value, u8);
} hosts4 SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, WG_XDP_SLOTS);
  __type(key, u32);
  __type(value, struct wg_xdp_counter);
} counters SEC(".maps");

/* A token bucket kept as GCRA does: the theoretical arrival time of the next packet. A packet
 * conforms when taking it would put that time at most the bucket's capacity ahead of now.
 * One word, so that CPUs update it with a compare-and-swap, without a lock (an LRU map has
 * none). */
struct bucket {
  u64 tat_ns;
};

/* rate_limit rules' buckets, by rule and masked source; the least recently used sources are
 * forgotten first (a forgotten source starts with a full bucket). */
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 65536);
  __type(key, struct wg_xdp_bucket_key);
  __type(value, struct bucket);
} buckets SEC(".maps");

/* Never read by the program: bound to it by user space, for `waggle xdp status`. */
struct wg_xdp_rule_name {
  char name[WG_XDP_NAME_MAX];
};
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, WG_XDP_MAX_RULES);
  __type(key, u32);
  __type(value, struct wg_xdp_rule_name);
} rule_names SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, u32);
  __type(value, struct wg_xdp_meta);
} meta SEC(".maps");

#define MAX_OPTIONS 20 /* non-NOP options in 40 bytes */

/* What the parser learned of one packet; per CPU, too large for the stack with the rest. */
struct packet {
  u32 pcap_bits; /* first: the tcpdump-expression programs set bit j when expression j accepts */
  u32 frame_len;
  u32 l3, l4, payload; /* offsets from the frame's start */
  u32 l3_len, payload_len;
  u16 vlan;
  u16 sport, dport;
  u8 family, proto, ttl, frag, ext, tcp_flags, icmp_type, icmp_code;
  u8 n_opts;
  u8 opt_at; /* the options walk's position */
  u8 verdict; /* WG_XDP_ACT_*, or 0xff while undecided */
  u8 opt_kind[MAX_OPTIONS];
  u8 opt_off[MAX_OPTIONS]; /* offset of the option's value in opts[] */
  u8 opt_len[MAX_OPTIONS]; /* bytes of value */
  u8 opts[64]; /* WG_XDP_OPTIONS_MAX used; a power of two lets an index be masked */
  u8 src4[4], dst4[4]; /* IPv4 addresses */
  /* IPv6 addresses, and IPv4 ones (mapped) only when a network lookup needs them */
  struct wg_xdp_net_key src, dst;
};

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, u32);
  __type(value, struct packet);
} scratch SEC(".maps");

#define UNDECIDED 0xff
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86dd
#define ETH_P_8021Q 0x8100
#define ETH_P_8021AD 0x88a8
#define MAX_L3_OFFSET 64   /* Ethernet and two VLAN tags fit well within */
#define MAX_L4_OFFSET 4096 /* a longer IPv6 extension chain is malformed */

static __always_inline void count(u32 slot, u32 bytes) {
  struct wg_xdp_counter *c = bpf_map_lookup_elem(&counters, &slot);
  if (c) {
    c->packets += 1;
    c->bytes += bytes;
  }
}

static __always_inline int verdict_of(u8 action) { return action == WG_XDP_ACT_DROP ? XDP_DROP : XDP_PASS; }

static __always_inline void map_ipv4(u8 *addr, const u8 *v4) {
  __builtin_memset(addr, 0, 10);
  addr[10] = 0xff;
  addr[11] = 0xff;
  __builtin_memcpy(addr + 12, v4, 4);
}

/* One step of an IPv6 extension header chain (a bpf_loop callback: the verifier checks one
 * step). Ends at the first header that is not an extension; a fragment header with a non-zero
 * offset ends it too, what follows being payload. */
struct ext_walk {
  struct xdp_md *ctx;
  struct packet *p;
  u32 at;   /* offset of the header `next` names */
  u8 next;
  u8 bad;   /* cut off, or still going after WG_XDP_MAX_EXT headers */
};

static __always_inline bool is_extension(u8 next) {
  return next == 0 || next == 43 || next == 44 || next == 60 || next == 51 || next == 135;
}

static long ext_step(u32 step, void *data) {
  struct ext_walk *w = data;
  struct packet *p = w->p;
  u8 next = w->next;
  if (!is_extension(next) || p->frag == WG_XDP_FRAG_LATER) return 1;
  u8 h[8];
  if (step >= WG_XDP_MAX_EXT || w->at > MAX_L4_OFFSET || bpf_xdp_load_bytes(w->ctx, w->at, h, 8) != 0) {
    w->bad = 1; /* every extension header is 8 bytes or more */
    return 1;
  }
  u32 len;
  if (next == 44) {
    u16 fo = ((u16)h[2] << 8) | h[3];
    p->frag = (fo & 0xfff8) ? WG_XDP_FRAG_LATER : (fo & 1) ? WG_XDP_FRAG_FIRST : WG_XDP_FRAG_NONE;
    p->ext |= WG_XDP_EXT_FRAGMENT;
    len = 8;
  } else if (next == 51) {
    p->ext |= WG_XDP_EXT_AH;
    len = ((u32)h[1] + 2) * 4;
  } else {
    p->ext |= next == 0 ? WG_XDP_EXT_HOP : next == 43 ? WG_XDP_EXT_ROUTING : next == 60 ? WG_XDP_EXT_DEST
                                                                                      : WG_XDP_EXT_MOBILITY;
    len = ((u32)h[1] + 1) * 8;
  }
  w->next = h[0];
  w->at += len;
  return 0;
}

/* Returns false when the headers cannot be parsed in full. */
static __always_inline bool parse_l3(struct xdp_md *ctx, struct packet *p, void *data, void *end) {
  u8 *eth = data;
  if ((void *)(eth + 14) > end) return false;
  u16 type = ((u16)eth[12] << 8) | eth[13];
  u32 off = 14;
  p->vlan = WG_XDP_VLAN_NONE;
  for (int i = 0; i < WG_XDP_MAX_VLANS; i++) {
    if (type != ETH_P_8021Q && type != ETH_P_8021AD) break;
    u8 *tag = data + off;
    if ((void *)(tag + 4) > end) return false;
    if (i == 0) p->vlan = (((u16)tag[0] << 8) | tag[1]) & 0x0fff;
    type = ((u16)tag[2] << 8) | tag[3];
    off += 4;
  }
  p->l3 = off;
  if (type == ETH_P_IP) {
    u8 *ip = data + (off & (MAX_L3_OFFSET - 1));
    if ((void *)(ip + 20) > end) return false;
    u32 ihl = ip[0] & 0x0f;
    if ((ip[0] >> 4) != 4 || ihl < 5) return false;
    p->family = 4;
    p->l3_len = ((u32)ip[2] << 8) | ip[3];
    if (p->l3_len < ihl * 4 || off + p->l3_len > p->frame_len) return false;
    p->ttl = ip[8];
    p->proto = ip[9];
    u16 frag = ((u16)ip[6] << 8) | ip[7];
    p->frag = (frag & 0x1fff) ? WG_XDP_FRAG_LATER : (frag & 0x2000) ? WG_XDP_FRAG_FIRST : WG_XDP_FRAG_NONE;
    __builtin_memcpy(p->src4, ip + 12, 4);
    __builtin_memcpy(p->dst4, ip + 16, 4);
    p->l4 = off + ihl * 4;
    return true;
  }
  if (type == ETH_P_IPV6) {
    u8 *ip = data + (off & (MAX_L3_OFFSET - 1));
    if ((void *)(ip + 40) > end) return false;
    if ((ip[0] >> 4) != 6) return false;
    p->family = 6;
    p->l3_len = (((u32)ip[4] << 8) | ip[5]) + 40;
    if (off + p->l3_len > p->frame_len) return false;
    p->ttl = ip[7];
    __builtin_memcpy(p->src.addr, ip + 8, 16);
    __builtin_memcpy(p->dst.addr, ip + 24, 16);
    struct ext_walk w = {ctx, p, off + 40, ip[6], 0};
    p->frag = WG_XDP_FRAG_NONE;
    bpf_loop(WG_XDP_MAX_EXT + 1, ext_step, &w, 0);
    if (w.bad) return false; /* cut off, or a chain longer than WG_XDP_MAX_EXT */
    u32 at = w.at;
    u8 next = w.next;
    if (at > p->l3 + p->l3_len) return false;
    p->proto = next;
    p->l4 = at;
    return true;
  }
  p->family = 0; /* not IP: only VLAN and tcpdump-expression rules can match */
  __builtin_memset(p->src.addr, 0, sizeof(p->src.addr)); /* a rate_limit rule's bucket key */
  return true;
}

/* Reads the TCP options into p->opts and lists them; an option cut off ends the list. A
 * bounded loop, each step one option or NOP (40 bytes hold at most 40). The walk's position
 * and the options found so far live in the per-CPU state, not in registers: the verifier
 * does not know their values, so every path through a step leaves it in the same state and
 * it checks one state per step instead of every sequence of option lengths. */
static __always_inline void parse_options(struct xdp_md *ctx, struct packet *p, u32 optlen) {
  asm volatile("" : "+r"(optlen)); /* the checks below must be on the register the helper gets */
  optlen &= 63;
  if (optlen == 0 || optlen > WG_XDP_OPTIONS_MAX) return;
  if (bpf_xdp_load_bytes(ctx, p->l4 + 20, p->opts, optlen) != 0) return;
  p->opt_at = 0;
  for (int step = 0; step < WG_XDP_OPTIONS_MAX; step++) {
    u32 at = *(volatile u8 *)&p->opt_at, n = *(volatile u8 *)&p->n_opts;
    if (at >= optlen || n >= MAX_OPTIONS) break;
    u8 kind = p->opts[at & 63];
    if (kind == 0) break; /* end of options */
    if (kind == 1) {      /* NOP */
      p->opt_at = at + 1;
      continue;
    }
    if (at + 1 >= optlen) break;
    u32 len = p->opts[(at + 1) & 63];
    if (len < 2 || at + len > optlen) break; /* zero-length or cut off */
    p->opt_kind[n] = kind;
    p->opt_off[n] = at + 2;
    p->opt_len[n] = len - 2;
    p->n_opts = n + 1;
    p->opt_at = at + len;
  }
}

/* Returns false when the L4 header is cut off or impossible. */
static __always_inline bool parse_l4(struct xdp_md *ctx, struct packet *p, void *data,
                                     void *data_end) {
  u32 end = p->l3 + p->l3_len;
  p->payload = p->l4;
  if (p->frag == WG_XDP_FRAG_LATER || p->family == 0) return true;
  /* Read in place (l4 is at most MAX_L4_OFFSET + a header, past which the frame ended). */
  if (p->l4 > 2 * MAX_L4_OFFSET) return false;
  u8 *h = data + (p->l4 & (4 * MAX_L4_OFFSET - 1));
  if (p->proto == 6) {
    if (p->l4 + 20 > end || (void *)(h + 20) > data_end) return false;
    u32 doff = h[12] >> 4;
    if (doff < 5 || p->l4 + doff * 4 > end) return false;
    p->sport = ((u16)h[0] << 8) | h[1];
    p->dport = ((u16)h[2] << 8) | h[3];
    p->tcp_flags = h[13];
    p->payload = p->l4 + doff * 4;
    if (USED(WG_XDP_M_TCP_OPTION)) parse_options(ctx, p, doff * 4 - 20);
  } else if (p->proto == 17) {
    if (p->l4 + 8 > end || (void *)(h + 8) > data_end) return false;
    p->sport = ((u16)h[0] << 8) | h[1];
    p->dport = ((u16)h[2] << 8) | h[3];
    p->payload = p->l4 + 8;
  } else if ((p->proto == 1 && p->family == 4) || (p->proto == 58 && p->family == 6)) {
    if (p->l4 + 8 > end || (void *)(h + 8) > data_end) return false;
    p->icmp_type = h[0];
    p->icmp_code = h[1];
    p->payload = p->l4 + 8;
  }
  p->payload_len = end - p->payload;
  return true;
}

/* The matchers below are global functions: the verifier checks each once, not once for
 * every path that leads to it. Their pointer arguments may be NULL as far as it knows. */

__attribute__((noinline)) int port_matches(const struct wg_xdp_rule *r, int destination, u32 port) {
  if (!r) return 0;
  const struct wg_xdp_range16 *ranges = destination ? r->dport : r->sport;
  u32 n = destination ? r->n_dport : r->n_sport;
  for (int i = 0; i < WG_XDP_PORT_RANGES; i++) {
    if (i >= n) break;
    if (port >= ranges[i].lo && port <= ranges[i].hi) return 1;
  }
  return 0;
}

/* Whether the packet's source (or destination) is in address set `set`: its whole addresses
 * in a hash, its networks in the trie, which keeps IPv4 networks as IPv4-mapped IPv6 ones (a
 * set is of one family, as its rule is). */
static __always_inline bool in_set(struct packet *p, bool destination, u32 set, u8 kinds) {
  struct wg_xdp_net_key *key = destination ? &p->dst : &p->src;
  if (p->family == 4) {
    const u8 *v4 = destination ? p->dst4 : p->src4;
    if (kinds & WG_XDP_SET_HOSTS) {
      struct wg_xdp_host4_key k4 = {.set = set};
      __builtin_memcpy(k4.addr, v4, 4);
      if (bpf_map_lookup_elem(&hosts4, &k4)) return true;
    }
    if (!(kinds & WG_XDP_SET_NETWORKS)) return false;
    map_ipv4(key->addr, v4);
  }
  key->prefixlen = 32 + 128;
  key->set = set;
  if (p->family == 6 && (kinds & WG_XDP_SET_HOSTS) && bpf_map_lookup_elem(&hosts, key)) return true;
  return (kinds & WG_XDP_SET_NETWORKS) && bpf_map_lookup_elem(&networks, key) != NULL;
}

__attribute__((noinline)) int option_matches(struct packet *p, const struct wg_xdp_rule *r) {
  if (!p || !r) return 0;
  for (int i = 0; i < MAX_OPTIONS; i++) {
    if (i >= p->n_opts) break;
    if (p->opt_kind[i] != r->opt_kind) continue;
    if (r->opt_len == 0) return true;
    if (p->opt_len[i] < r->opt_len) return false; /* too short to hold the value */
    u32 v = 0, at = p->opt_off[i];
    for (int k = 0; k < 4; k++) {
      if (k >= r->opt_len) break;
      v = (v << 8) | p->opts[(at + k) & 63];
    }
    return v >= r->opt_lo && v <= r->opt_hi;
  }
  return false;
}

__attribute__((noinline)) int bytes_match(struct xdp_md *ctx, struct packet *p, const struct wg_xdp_rule *r, u32 i) {
  if (!p || !r || i >= WG_XDP_BYTE_MATCHES) return 0;
  const struct wg_xdp_bytes *b = &r->bytes[i];
  u32 base = b->base == WG_XDP_BASE_L3 ? p->l3 : b->base == WG_XDP_BASE_L4 ? p->l4 : p->payload;
  u32 at = base + b->offset;
  u32 limit = p->l3 + p->l3_len;
  u8 v[4] = {};
  u32 value;
  if (b->len == 1) {
    if (at + 1 > limit || bpf_xdp_load_bytes(ctx, at, v, 1) != 0) return false;
    value = v[0];
  } else if (b->len == 2) {
    if (at + 2 > limit || bpf_xdp_load_bytes(ctx, at, v, 2) != 0) return false;
    value = ((u32)v[0] << 8) | v[1];
  } else {
    if (at + 4 > limit || bpf_xdp_load_bytes(ctx, at, v, 4) != 0) return false;
    value = ((u32)v[0] << 24) | ((u32)v[1] << 16) | ((u32)v[2] << 8) | v[3];
  }
  value &= b->mask;
  return value >= b->lo && value <= b->hi;
}

/* Each test is kept only when some rule of the set uses it (USED is a constant). */
static __always_inline bool rule_matches(struct xdp_md *ctx, struct packet *p, const struct wg_xdp_rule *r) {
  u32 m = r->match;
#define TESTS(match) (USED(match) && (m & (match)))
  if (TESTS(WG_XDP_M_PCAP) && !(p->pcap_bits & (1u << (r->pcap_index & 31)))) return false;
  if (TESTS(WG_XDP_M_VLAN) && p->vlan != r->vlan) return false;
  if (TESTS(~(WG_XDP_M_VLAN | WG_XDP_M_PCAP)) && p->family == 0) return false; /* IP fields, not IP */
  if (TESTS(WG_XDP_M_FAMILY) && p->family != r->family) return false;
  if (TESTS(WG_XDP_M_FRAGMENT) && !(p->frag & r->fragment_mask)) return false;
  if (TESTS(WG_XDP_M_L4) && p->frag == WG_XDP_FRAG_LATER) return false; /* no L4 header to read */
  if (TESTS(WG_XDP_M_PROTO) && p->proto != r->proto) return false;
  if (TESTS(WG_XDP_M_TTL) && (p->ttl < r->ttl_lo || p->ttl > r->ttl_hi)) return false;
  if (TESTS(WG_XDP_M_LENGTH) && (p->l3_len < r->length.lo || p->l3_len > r->length.hi)) return false;
  if (TESTS(WG_XDP_M_IPV6_EXT) && (p->ext & r->ext_mask) != r->ext_mask) return false;
  if (TESTS(WG_XDP_M_SPORT) && !port_matches(r, 0, p->sport)) return false;
  if (TESTS(WG_XDP_M_DPORT) && !port_matches(r, 1, p->dport)) return false;
  if (TESTS(WG_XDP_M_TCP_FLAGS) && (p->tcp_flags & r->tcp_flags_mask) != r->tcp_flags_value) return false;
  if (TESTS(WG_XDP_M_PAYLOAD) && (p->payload_len < r->payload.lo || p->payload_len > r->payload.hi)) return false;
  if (TESTS(WG_XDP_M_ICMP_TYPE) && p->icmp_type != r->icmp_type) return false;
  if (TESTS(WG_XDP_M_ICMP_CODE) && p->icmp_code != r->icmp_code) return false;
  if (TESTS(WG_XDP_M_TCP_OPTION) && !option_matches(p, r)) return false;
  if (TESTS(WG_XDP_M_SRC) && !in_set(p, false, r->src_set, r->src_kinds)) return false;
  if (TESTS(WG_XDP_M_DST) && !in_set(p, true, r->dst_set, r->dst_kinds)) return false;
  if (TESTS(WG_XDP_M_BYTES)) {
    for (int i = 0; i < WG_XDP_BYTE_MATCHES; i++) {
      if (i >= r->n_bytes) break;
      if (!bytes_match(ctx, p, r, i)) return false;
    }
  }
#undef TESTS
  return true;
}

/* GCRA: takes one packet's cost from the bucket kept as `tat`, or says it is over. */
static __always_inline bool gcra_take(u64 *tat, u64 now, u64 interval, u64 capacity) {
  for (int attempt = 0; attempt < 4; attempt++) {
    u64 old = *tat;
    u64 next = (old > now ? old : now) + interval;
    if (next - now > capacity) return false;
    if (__sync_val_compare_and_swap(tat, old, next) == old) return true;
  }
  return false; /* four CPUs raced this bucket in a row: it is flooding */
}

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 1 << 20);
} packet_samples SEC(".maps");

/* sample rules' buckets, by rule. */
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, WG_XDP_MAX_RULES);
  __type(key, u32);
  __type(value, u64);
} sample_rate SEC(".maps");

static __always_inline void sample(struct xdp_md *ctx, struct packet *p, const struct wg_xdp_rule *r, u32 index) {
  u64 *tat = bpf_map_lookup_elem(&sample_rate, &index);
  if (!tat || !gcra_take(tat, bpf_ktime_get_ns(), r->rl_interval_ns, r->rl_capacity_ns)) return;
  struct wg_xdp_sample *s = bpf_ringbuf_reserve(&packet_samples, sizeof(*s), 0);
  if (!s) {
    count(WG_XDP_SLOT_SAMPLE_LOST, p->frame_len);
    return;
  }
  u32 n = r->sample_bytes < p->frame_len ? r->sample_bytes : p->frame_len;
  asm volatile("" : "+r"(n));
  n &= 0x1ff;
  if (n > WG_XDP_SAMPLE_MAX) n = WG_XDP_SAMPLE_MAX;
  s->ktime = bpf_ktime_get_ns();
  s->rule = index;
  s->frame_len = p->frame_len;
  s->pad = 0;
  if (n == 0 || bpf_xdp_load_bytes(ctx, 0, s->data, n) != 0) n = 0;
  s->captured = n;
  bpf_ringbuf_submit(s, 0);
}

/* True when the packet's source is over its bucket. */
static __always_inline bool over_limit(struct packet *p, const struct wg_xdp_rule *r, u32 index) {
  struct wg_xdp_bucket_key key = {.rule = index};
  u32 bits = p->family == 4 ? 96 + r->rl_prefix4 : r->rl_prefix6;
  u8 addr[16]; /* IPv4 as IPv4-mapped IPv6 */
  if (p->family == 4)
    map_ipv4(addr, p->src4);
  else
    __builtin_memcpy(addr, p->src.addr, 16);
  for (int i = 0; i < 16; i++) {
    u32 keep = bits > 8 * i ? bits - 8 * i : 0;
    u8 mask = keep >= 8 ? 0xff : (u8)(0xff00 >> keep);
    key.addr[i] = addr[i] & mask;
  }
  u64 now = bpf_ktime_get_ns();
  struct bucket *b = bpf_map_lookup_elem(&buckets, &key);
  if (!b) {
    struct bucket fresh = {.tat_ns = now + r->rl_interval_ns};
    if (bpf_map_update_elem(&buckets, &key, &fresh, BPF_NOEXIST) == 0) return false;
    b = bpf_map_lookup_elem(&buckets, &key); /* another CPU made it first */
    if (!b) return false;
  }
  return !gcra_take(&b->tat_ns, now, r->rl_interval_ns, r->rl_capacity_ns);
}

/* Evaluates rule `index`; 1 when it decided the packet (p->verdict), 0 to go on. A global
 * function: checked once by the verifier, called from a plain loop (cheaper than bpf_loop). */
__attribute__((noinline)) int decide(struct xdp_md *ctx, struct packet *p, u32 index) {
  if (!p) return 1;
  const struct wg_xdp_rule *r = bpf_map_lookup_elem(&rules, &index);
  if (!r) return 1;
  if (!rule_matches(ctx, p, r)) return 0;
  if (ACTION_USED(WG_XDP_ACT_RATE_LIMIT) && r->action == WG_XDP_ACT_RATE_LIMIT) {
    if (!over_limit(p, r, index)) return 0;
    count(index, p->frame_len);
    p->verdict = WG_XDP_ACT_DROP;
    return 1;
  }
  count(index, p->frame_len);
  if (ACTION_USED(WG_XDP_ACT_SAMPLE) && r->action == WG_XDP_ACT_SAMPLE) sample(ctx, p, r, index);
  if (r->action == WG_XDP_ACT_COUNT || r->action == WG_XDP_ACT_SAMPLE) return 0;
  p->verdict = r->action;
  return 1;
}

/* The tcpdump expressions, one program each (translated from classic BPF by user space), then
 * wg_xdp_eval at index n_pcap: a chain of tail calls through the packet's per-CPU state. */
struct {
  __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
  __uint(max_entries, WG_XDP_MAX_PCAP + 1);
  __type(key, u32);
  __type(value, u32);
} chain SEC(".maps");

static __always_inline int evaluate(struct xdp_md *ctx, struct packet *p) {
  u32 n = rule_set.n_rules;
  if (n > WG_XDP_MAX_RULES) n = WG_XDP_MAX_RULES;
  for (u32 i = 0; i < WG_XDP_MAX_RULES; i++) {
    if (i >= n || decide(ctx, p, i)) break;
  }
  if (p->verdict != UNDECIDED) return verdict_of(p->verdict);
  count(WG_XDP_SLOT_DEFAULT, p->frame_len);
  return verdict_of(rule_set.default_action);
}

SEC("xdp")
int wg_xdp_filter(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data;
  void *end = (void *)(long)ctx->data_end;
  u32 zero = 0;
  struct packet *p = bpf_map_lookup_elem(&scratch, &zero);
  if (!p) return XDP_PASS;
  /* The fields before the option lists; those are read only below n_opts, the addresses are
   * written by the parser. */
  __builtin_memset(p, 0, __builtin_offsetof(struct packet, opt_kind));
  p->frame_len = end - data;
  p->verdict = UNDECIDED;
  if (!parse_l3(ctx, p, data, end) || !parse_l4(ctx, p, data, end)) {
    count(WG_XDP_SLOT_MALFORMED, p->frame_len);
    return verdict_of(rule_set.malformed_action);
  }
  if (rule_set.n_pcap) {
    bpf_tail_call(ctx, &chain, 0);
    /* Not reached unless the chain is missing: tcpdump-expression rules do not match. */
    count(WG_XDP_SLOT_CHAIN_BROKEN, p->frame_len);
  }
  return evaluate(ctx, p);
}

/* The end of the chain: the packet is parsed and its expressions' bits are set. */
SEC("xdp")
int wg_xdp_eval(struct xdp_md *ctx) {
  u32 zero = 0;
  struct packet *p = bpf_map_lookup_elem(&scratch, &zero);
  if (!p) return XDP_PASS;
  return evaluate(ctx, p);
}
