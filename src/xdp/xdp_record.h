/* Packet rules as the XDP program reads them: one fixed-size record per rule in an array,
 * evaluated in order, and the networks of each rule in an LPM trie. Included by
 * xdp_filter.bpf.c (after vmlinux_min.h) and by C++ (after <linux/types.h>). */
#ifndef WAGGLE_XDP_RECORD_H
#define WAGGLE_XDP_RECORD_H

#define WG_XDP_MAX_RULES 256
#define WG_XDP_PORT_RANGES 8  /* per direction per rule */
#define WG_XDP_BYTE_MATCHES 4 /* per rule */
#define WG_XDP_MAX_VLANS 2    /* 802.1Q / 802.1ad tags parsed */
#define WG_XDP_MAX_EXT 16     /* IPv6 extension headers followed; a longer chain is malformed */
#define WG_XDP_OPTIONS_MAX 40 /* bytes of TCP options (doff 15) */

#define WG_XDP_MAX_PCAP 16   /* tcpdump-expression rules: a chain of tail calls (the kernel allows 33) */

/* Counter slots after the rules': packets no rule decided, packets that could not be parsed,
 * packets whose tcpdump-expression chain could not be entered (never, unless torn down). */
#define WG_XDP_SLOT_DEFAULT WG_XDP_MAX_RULES
#define WG_XDP_SLOT_MALFORMED (WG_XDP_MAX_RULES + 1)
#define WG_XDP_SLOT_CHAIN_BROKEN (WG_XDP_MAX_RULES + 2)
#define WG_XDP_SLOT_SAMPLE_LOST (WG_XDP_MAX_RULES + 3) /* samples the ring had no room for */
#define WG_XDP_SLOTS (WG_XDP_MAX_RULES + 4)

/* What a rule matches on: bit set = that field is checked. */
enum wg_xdp_match {
  WG_XDP_M_FAMILY = 1u << 0,
  WG_XDP_M_SRC = 1u << 1,        /* source address in src_set */
  WG_XDP_M_DST = 1u << 2,        /* destination address in dst_set */
  WG_XDP_M_PROTO = 1u << 3,
  WG_XDP_M_SPORT = 1u << 4,
  WG_XDP_M_DPORT = 1u << 5,
  WG_XDP_M_TCP_FLAGS = 1u << 6,  /* flags & mask == value */
  WG_XDP_M_LENGTH = 1u << 7,     /* L3 length (IPv4 total length, IPv6 payload length + 40) */
  WG_XDP_M_PAYLOAD = 1u << 8,    /* bytes after the L4 header */
  WG_XDP_M_TTL = 1u << 9,        /* TTL or hop limit */
  WG_XDP_M_IPV6_EXT = 1u << 10,  /* every extension header kind in ext_mask present */
  WG_XDP_M_TCP_OPTION = 1u << 11,
  WG_XDP_M_ICMP_TYPE = 1u << 12,
  WG_XDP_M_ICMP_CODE = 1u << 13,
  WG_XDP_M_BYTES = 1u << 14,
  WG_XDP_M_VLAN = 1u << 15,      /* outer VLAN id; WG_XDP_VLAN_NONE: untagged */
  WG_XDP_M_FRAGMENT = 1u << 16,  /* fragment kind in fragment_mask */
  WG_XDP_M_PCAP = 1u << 17,      /* the tcpdump expression pcap_index accepted the packet */
};

/* Fields only known from the L4 header: a non-first fragment never matches them. */
#define WG_XDP_M_L4 (WG_XDP_M_SPORT | WG_XDP_M_DPORT | WG_XDP_M_TCP_FLAGS | WG_XDP_M_PAYLOAD | \
                     WG_XDP_M_TCP_OPTION | WG_XDP_M_ICMP_TYPE | WG_XDP_M_ICMP_CODE)

#define WG_XDP_VLAN_NONE 0xffff

/* Fragment kinds (fragment_mask bits). */
#define WG_XDP_FRAG_NONE (1u << 0)  /* not a fragment */
#define WG_XDP_FRAG_FIRST (1u << 1) /* offset 0, more fragments follow */
#define WG_XDP_FRAG_LATER (1u << 2) /* offset > 0: no L4 header */

/* IPv6 extension header kinds (ext_mask bits). */
#define WG_XDP_EXT_HOP (1u << 0)      /* 0: hop-by-hop options */
#define WG_XDP_EXT_ROUTING (1u << 1)  /* 43 */
#define WG_XDP_EXT_FRAGMENT (1u << 2) /* 44 */
#define WG_XDP_EXT_DEST (1u << 3)     /* 60: destination options */
#define WG_XDP_EXT_AH (1u << 4)       /* 51 */
#define WG_XDP_EXT_MOBILITY (1u << 5) /* 135 */

enum wg_xdp_action {
  WG_XDP_ACT_PASS = 0,
  WG_XDP_ACT_DROP = 1,
  WG_XDP_ACT_COUNT = 2, /* counted, evaluation goes on: what a drop would catch */
  WG_XDP_ACT_RATE_LIMIT = 3, /* over its source's token bucket: dropped (and counted); else evaluation goes on */
  WG_XDP_ACT_SAMPLE = 4,     /* counted; a prefix posted to user space within the rule's rate; evaluation goes on */
};

#define WG_XDP_SAMPLE_MAX 256 /* bytes of a packet a sample holds at most */

/* A sampled packet, as the `packet_samples` ring carries it. */
struct wg_xdp_sample {
  __u64 ktime;      /* CLOCK_MONOTONIC ns */
  __u32 rule;
  __u32 frame_len;  /* the whole frame's */
  __u32 captured;   /* bytes in data[] */
  __u32 pad;
  __u8 data[WG_XDP_SAMPLE_MAX];
};

/* Where a byte match's offset starts. */
enum wg_xdp_base {
  WG_XDP_BASE_L3 = 0,
  WG_XDP_BASE_L4 = 1,
  WG_XDP_BASE_PAYLOAD = 2,
};

struct wg_xdp_range16 {
  __u16 lo, hi;
};

/* (big-endian value of `len` bytes at base + offset) & mask within [lo, hi]. */
struct wg_xdp_bytes {
  __u8 base;
  __u8 len; /* 1, 2 or 4 */
  __u16 offset;
  __u32 mask;
  __u32 lo, hi;
};

struct wg_xdp_rule {
  __u32 match;  /* WG_XDP_M_* */
  __u8 action;  /* WG_XDP_ACT_* */
  __u8 family;  /* 4 or 6 */
  __u8 proto;
  __u8 n_sport, n_dport, n_bytes;
  __u8 tcp_flags_mask, tcp_flags_value;
  __u8 ttl_lo, ttl_hi;
  __u8 icmp_type, icmp_code;
  __u8 opt_kind;
  __u8 opt_len;     /* bytes of the option's value compared (0: present is enough) */
  __u8 fragment_mask;
  __u8 ext_mask;
  __u16 vlan;
  __u8 pcap_index;
  __u8 pad;
  __u32 src_set, dst_set; /* keys of this rule's networks in the `networks` trie */
  __u32 opt_lo, opt_hi;
  struct wg_xdp_range16 length, payload;
  struct wg_xdp_range16 sport[WG_XDP_PORT_RANGES];
  struct wg_xdp_range16 dport[WG_XDP_PORT_RANGES];
  struct wg_xdp_bytes bytes[WG_XDP_BYTE_MATCHES];
  /* rate_limit: a token bucket per source address masked to these prefixes; time is the
   * currency: a packet costs rl_interval_ns, the bucket holds rl_capacity_ns. sample: the
   * same, one bucket for the rule. */
  __u64 rl_interval_ns, rl_capacity_ns;
  __u8 rl_prefix4, rl_prefix6;
  __u8 src_kinds, dst_kinds; /* WG_XDP_SET_*: where the set's addresses are */
  __u16 sample_bytes;        /* sample: prefix posted, at most WG_XDP_SAMPLE_MAX */
  __u8 pad2[2];
};

struct wg_xdp_bucket_key {
  __u32 rule;
  __u8 addr[16]; /* the source, masked */
};

/* Rule-set settings: constants of the program (read-only data set before its load), and a
 * copy in an array map of one entry for `waggle xdp status`. */
struct wg_xdp_settings {
  __u32 n_rules;
  __u8 default_action;   /* WG_XDP_ACT_PASS or _DROP */
  __u8 malformed_action; /* for packets whose headers cannot be parsed in full */
  __u8 n_pcap;           /* tcpdump-expression programs in the chain */
  __u8 actions;          /* bit 1 << WG_XDP_ACT_* for each action a rule takes */
  __u32 needs;           /* union of the rules' match bits: what the parser must look at */
};

/* A set's whole addresses (/32, /128) are in the `hosts` hash, its shorter networks in the
 * `networks` trie: an exact lookup costs less than a trie walk. */
#define WG_XDP_SET_HOSTS (1u << 0)
#define WG_XDP_SET_NETWORKS (1u << 1)

/* Whole IPv4 addresses of a set: a key of 8 bytes hashes faster than the 20 of the others. */
struct wg_xdp_host4_key {
  __u32 set;
  __u8 addr[4];
};

/* Networks trie key (and hosts hash key, prefixlen 160): the set id, then the address as IPv6 (IPv4 mapped, ::ffff:a.b.c.d).
 * prefixlen counts the set id's 32 bits. */
struct wg_xdp_net_key {
  __u32 prefixlen;
  __u32 set;
  __u8 addr[16];
};

/* What was applied, kept with the program (bound to it, never read by it) so that
 * `waggle xdp status` can tell from an attached program alone. */
#define WG_XDP_NAME_MAX 64
#define WG_XDP_SOURCE_MAX 256
struct wg_xdp_meta {
  char name[WG_XDP_NAME_MAX];     /* metadata.name */
  char source[WG_XDP_SOURCE_MAX]; /* the rules file */
  char ifname[16];
  __u32 ifindex;
  __u32 mode;                     /* XDP_FLAGS_DRV_MODE or XDP_FLAGS_SKB_MODE */
  __u32 n_rules;
  __u32 pad;
  __u64 applied_unix_ns;
  __u64 netns_inode;
};

struct wg_xdp_counter {
  __u64 packets;
  __u64 bytes;
};

#endif
