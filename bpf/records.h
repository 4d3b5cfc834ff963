/* Records that cross from the kernel to user space, and the keys of the maps user space
 * fills. Included by the BPF programs (after vmlinux_min.h) and by C++ (after
 * <linux/types.h>): the one definition both sides agree on. */
#ifndef WAGGLE_RECORDS_H
#define WAGGLE_RECORDS_H

#define WG_COMM_LEN 16
/* Longest path the kernel reports; a longer one is flagged truncated (WG_F_*_TRUNC). */
#define WG_PATH_MAX 4096
/* Bytes of argv the exec event carries; longer command lines are flagged truncated. */
#define WG_ARGS_MAX 16384
/* Leaf cgroup name, where container runtimes put the container id. */
#define WG_CGROUP_NAME_MAX 128
/* Deepest directory nesting the in-kernel path walk follows. */
#define WG_PATH_DEPTH_MAX 64
/* Longest prefix, exact path and suffix a file filter can hold. */
#define WG_FILTER_PATH_MAX 256
#define WG_FILTER_SUFFIX_MAX 64

enum wg_record_type {
  WG_REC_EXEC = 1,
  WG_REC_EXIT = 2,
  WG_REC_FORK = 3,
  WG_REC_OPEN = 4,
  WG_REC_POLICY_OPEN = 5,
  WG_REC_POLICY_CONNECT = 6,
  WG_REC_POLICY_EXEC = 7,
  WG_REC_TCP = 8,
  WG_REC_SOCK_DATA = 9,
  WG_REC_HTTP_EXCHANGE = 10,
};

/* Which sensor a drop is charged to: index into the drops map is sensor * WG_DROP_CAUSES + cause. */
enum wg_sensor_id {
  WG_SENSOR_PROCESS = 0,
  WG_SENSOR_FILE = 1,
  WG_SENSOR_POLICY = 2,
  WG_SENSOR_NETWORK = 3,
};
#define WG_SENSORS 4

enum wg_drop_cause {
  WG_DROP_RINGBUF_FULL = 0,  /* bpf_ringbuf_output failed: the reader fell behind */
  WG_DROP_PENDING_FULL = 1,  /* an entered syscall could not be remembered until its exit */
  WG_DROP_READ_FAILED = 2,   /* a kernel or user read needed for the record failed */
};
#define WG_DROP_CAUSES 3

/* Flags in wg_header.flags. */
#define WG_F_ARGS_TRUNC (1u << 0)
#define WG_F_BINARY_TRUNC (1u << 1)
#define WG_F_CWD_TRUNC (1u << 2)
#define WG_F_PATH_TRUNC (1u << 3)
#define WG_F_RESOLVED_TRUNC (1u << 4)
#define WG_F_CORE_DUMP (1u << 5)

struct wg_header {
  __u16 type;      /* enum wg_record_type */
  __u16 flags;     /* WG_F_* */
  __u32 size;      /* bytes of the whole record, variable part included */
  __u64 ktime;     /* CLOCK_BOOTTIME ns when the record was made */
  __u32 pid;       /* tgid */
  __u32 tid;
  __u32 ppid;      /* tgid of the real parent */
  __u32 uid;
  __u32 gid;
  __u32 pad;
  __u64 cgroup_id; /* cgroup v2 id */
  __u64 start_boottime; /* CLOCK_BOOTTIME ns when the process (thread group) started */
  char comm[WG_COMM_LEN];
};

/* Exec: the variable part holds, back to back, without NULs between them and each with its
 * length given here: binary (absolute path), cwd (absolute path), argv (NUL-separated,
 * exactly as in the process's memory), leaf cgroup name. Paths are as the process sees them
 * (relative to its root directory). */
struct wg_exec {
  struct wg_header h;
  __u32 binary_len;
  __u32 cwd_len;
  __u32 args_len;
  __u32 cgroup_name_len;
  char data[];
};

struct wg_exit {
  struct wg_header h;
  __s32 exit_code;    /* raw wait status: (code << 8) | signal, 0x80 for a core dump */
  __u32 pad;
};

struct wg_fork {
  struct wg_header h;
  __u32 child_pid;
  __u32 pad;
  __u64 child_start_boottime;
};

enum wg_open_syscall {
  WG_SYS_OPEN = 0,
  WG_SYS_OPENAT = 1,
  WG_SYS_OPENAT2 = 2,
  WG_SYS_CREAT = 3,
};

/* Open: data holds the path as the process gave it (path_len bytes), then, when that path was
 * relative, the absolute path it resolves to (resolved_len bytes: the directory it was relative
 * to, '/', the path as given). resolved_len is 0 for an absolute path. */
struct wg_open {
  struct wg_header h;
  __s64 ret;         /* fd, or -errno */
  __u64 flags;
  __u32 mode;
  __s32 dfd;
  __u32 syscall;     /* enum wg_open_syscall */
  __u32 path_len;
  __u32 resolved_len;
  __u32 pad;
  char data[];
};

/* Key of the path filter LPM tries: prefixlen counts bits of data that must match. */
struct wg_path_key {
  __u32 prefixlen;
  char data[WG_FILTER_PATH_MAX];
};

/* --- Policies ---------------------------------------------------------------------------
 * Rules are numbered 0..WG_MAX_RULES-1 host-wide; a set of rules is a u64 bitmap. Each
 * selector map gives, for a value, the rules that list it; the kernel combines them. */
#define WG_MAX_RULES 64

enum wg_rule_action {
  WG_ACTION_LOG = 0,
  WG_ACTION_KILL = 1,
  WG_ACTION_DENY = 2,
  WG_ACTION_COUNT = 3,
};

enum wg_policy_outcome {
  WG_OUTCOME_LOGGED = 0,
  WG_OUTCOME_KILLED = 1,
  WG_OUTCOME_WOULD_KILL = 2,  /* monitor mode */
  WG_OUTCOME_REFUSED = 3,     /* kill asked for pid 1, the agent, or a kernel thread */
  WG_OUTCOME_DENIED = 4,      /* the call failed with EPERM */
  WG_OUTCOME_WOULD_DENY = 5,  /* monitor mode */
};

struct wg_rule {
  __u8 action;   /* enum wg_rule_action */
  __u8 monitor;  /* 1: report what would have been done */
  __u8 in_use;
  __u8 pad[5];
  /* log with a rateLimit: at most per_window events per window_ns (0: no limit); the rest
   * are counted, and never leave the kernel. */
  __u64 window_ns;
  __u64 per_window;
};

/* For every selector kind, which rules use it with `in`, with `notIn`, or not at all. A rule
 * holds for a value of that kind when (listed & in) | (~listed & not_in) | unused. */
struct wg_selector_masks {
  __u64 in;
  __u64 not_in;
  __u64 unused;
};

enum wg_selector_kind {
  WG_SEL_PATH = 0,    /* `in` only: path lists */
  WG_SEL_BINARY = 1,
  WG_SEL_UID = 2,
  WG_SEL_CGROUP = 3,
  WG_SEL_DESTINATION = 4,
  WG_SEL_PORT = 5,   /* `in` only */
  WG_SEL_GID = 6,
  WG_SEL_PARENT_BINARY = 7,
  WG_SEL_ARGS = 8,     /* process.exec: any argument equal to a listed value */
  WG_SEL_CONTAINER = 9, /* container id (or a prefix of one) of the process's cgroup */
  WG_SEL_KINDS = 10,
};
/* Key of the container id trie: prefixlen counts the bits of `id` that must match. */
#define WG_CONTAINER_ID_LEN 64
struct wg_container_key {
  __u32 prefixlen;
  char id[WG_CONTAINER_ID_LEN];
};
/* An argument value of the args selector: at most WG_ARG_MAX - 2 bytes (the key holds it
 * NUL-padded). At most WG_ARGS_SCANNED pieces of an exec's argv are read (an argument longer
 * than 4095 bytes takes several); an argv longer than that counts as holding every value. */
#define WG_ARG_MAX 64
#define WG_ARGS_SCANNED 1024

struct wg_policy_masks {
  __u64 file_open_rules;  /* rules whose event is file.open */
  __u64 connect_rules;    /* rules whose event is network.connect */
  __u64 tcp_rules;        /* connect rules that apply to TCP */
  __u64 udp_rules;        /* ... and to UDP */
  __u64 exec_rules;       /* rules whose event is process.exec */
  __u64 accept_rules;     /* rules whose event is network.accept, judged when a process accepts */
  __u64 ingress_rules;    /* network.accept rules judged on a packet's arrival (deny; UDP) */
  __u32 path_lists;       /* which path maps hold values: WG_LIST_PREFIX | _EXACT | _SUFFIX */
  __u32 binary_lists;     /* which binary maps hold values: WG_LIST_PREFIX | _EXACT */
  __u32 parent_binary_lists;
  __u32 pad;
  struct wg_selector_masks sel[WG_SEL_KINDS];
};
#define WG_LIST_PREFIX 1
#define WG_LIST_EXACT 2
#define WG_LIST_SUFFIX 4

/* LPM keys of the destination selector maps. */
struct wg_ip4_key {
  __u32 prefixlen;
  __u8 addr[4];
};
struct wg_ip6_key {
  __u32 prefixlen;
  __u8 addr[16];
};

/* A connect (or, inbound, an accepted connection or a received packet) that matched a rule.
 * addr holds the IPv4 address in its first 4 bytes. */
struct wg_policy_connect {
  struct wg_header h;
  __u64 matched;
  __u32 rule;
  __u32 outcome;
  __u32 family;  /* AF_INET, AF_INET6 */
  __u32 type;    /* SOCK_STREAM, SOCK_DGRAM */
  __u8 addr[16];
  __u16 port;       /* host byte order: the destination's; inbound, the local port */
  __u16 peer_port;  /* inbound: the peer's port (host byte order) */
  __u32 generation;
  __u32 inbound;    /* 1: network.accept (addr is the peer's) */
};

/* A file.open that matched a rule: outcome for `rule`, the first rule (lowest number) whose
 * action decided it; `matched` is every rule that matched. data: path as given, then the
 * resolved path (as in wg_open). */
struct wg_policy_open {
  struct wg_header h;
  __u64 matched;
  __u64 flags;
  __u32 rule;
  __u32 outcome;    /* enum wg_policy_outcome */
  __u32 syscall;
  __u32 path_len;
  __u32 resolved_len;
  __u32 generation;  /* of the policy set that matched (see policy_common.bpf.h) */
  char data[];
};

/* An exec that matched a rule: data holds the new executable's path (binary_len bytes). */
struct wg_policy_exec {
  struct wg_header h;
  __u64 matched;
  __u32 rule;
  __u32 outcome;
  __u32 generation;
  __u32 binary_len;
  char data[];
};

/* The executable of each process, as an LPM key for the binary selector maps. */
struct wg_proc_binary {
  struct wg_path_key binary;
};

/* --- Network ------------------------------------------------------------------------- */

enum wg_tcp_direction {
  WG_TCP_UNKNOWN = 0,   /* open before the agent started */
  WG_TCP_CONNECTED = 1, /* this process connected */
  WG_TCP_ACCEPTED = 2,  /* this process accepted it (or it waits to be accepted) */
};

enum wg_tcp_end {
  WG_TCP_CLOSED = 0,
  WG_TCP_RESET_SENT = 1,
  WG_TCP_RESET_RECEIVED = 2,
  WG_TCP_FAILED = 3,    /* a connect that never got established (refused, timed out) */
};

/* A TCP connection that ended, or whose socket was released. The header describes the process that connected or accepted
 * it (pid 0 when no process accepted it or it is older than the agent); ktime is when it
 * closed. Addresses: IPv4 in the first 4 bytes; ports in host byte order. */
struct wg_tcp {
  struct wg_header h;
  __u64 sk;              /* the kernel socket: pairs with wg_sock_data.sk */
  __u64 start_ktime;     /* connect began or the handshake completed; 0 when unknown */
  __u64 bytes_sent;      /* data bytes sent (retransmissions once), acknowledged or not */
  __u64 bytes_received;
  __u32 retransmits;
  __u16 family;          /* AF_INET, AF_INET6 */
  __u8 direction;        /* enum wg_tcp_direction */
  __u8 end;              /* enum wg_tcp_end */
  __u16 local_port;
  __u16 remote_port;
  __u32 what;            /* WG_TCP_ENDED | WG_TCP_RELEASED */
  __u8 local_addr[16];
  __u8 remote_addr[16];
};
/* wg_tcp.what: the connection ended (its counters are final); the socket was released (no
 * more data can be read from it: its HTTP state can go). */
#define WG_TCP_ENDED 1
#define WG_TCP_RELEASED 2

/* Bytes of each socket read or write that reach user space: the first WG_HEAD_BYTES, and when
 * the call carried more, its last WG_TAIL_BYTES (where a chunked body's end shows). */
#define WG_HEAD_BYTES 512
#define WG_TAIL_BYTES 16

enum wg_l7_protocol {
  WG_L7_HTTP = 1,
  WG_L7_DNS = 2,
  WG_L7_OTHER = 3, /* neither, from its first bytes: kept in the kernel, never posted */
};

enum wg_data_direction {
  WG_DATA_INGRESS = 0, /* the process received it */
  WG_DATA_EGRESS = 1,  /* the process sent it */
};

/* One read-like or write-like call on a socket that carries HTTP or DNS. data: head_len
 * bytes from the start of what the call moved, then tail_len bytes of its end. head_len may
 * be less than min(size, WG_HEAD_BYTES) when the rest could not be read (e.g. sendfile: 0). */
struct wg_sock_data {
  struct wg_header h;
  __u64 sk;
  __u64 size;         /* bytes the call moved */
  __u8 direction;     /* enum wg_data_direction */
  __u8 protocol;      /* enum wg_l7_protocol */
  __u8 ip_protocol;   /* IPPROTO_TCP or IPPROTO_UDP */
  __u8 failed;        /* a send that failed: size and data are what the process tried to send */
  __u16 family;
  __u16 local_port;
  __u16 remote_port;
  __u16 head_len;
  __u16 tail_len;
  __u16 seq;          /* HTTP parsed in the kernel: the captured calls of the connection posted so far */
  __u32 fd;
  __u8 local_addr[16];
  __u8 remote_addr[16];
  char data[];
};

/* --- HTTP exchanges parsed in the kernel ---------------------------------------------- */

/* Longest request target the kernel keeps; a longer one makes the connection captured. */
#define WG_HTTP_TARGET_MAX 128
/* A W3C traceparent value: "00-" 32 hex "-" 16 hex "-" 2 hex. */
#define WG_HTTP_TRACE_LEN 55

/* The methods the kernel parses, in the order of http::standard_methods() (src/protocols/http_parser.hpp). */
enum wg_http_method {
  WG_HTTP_GET = 0,
  WG_HTTP_HEAD = 1,
  WG_HTTP_POST = 2,
  WG_HTTP_PUT = 3,
  WG_HTTP_DELETE = 4,
  WG_HTTP_CONNECT = 5, /* never parsed in the kernel: a tunnel */
  WG_HTTP_OPTIONS = 6,
  WG_HTTP_TRACE = 7,
  WG_HTTP_PATCH = 8,
};

enum wg_http_role {
  WG_HTTP_SERVER = 1, /* the process received the requests */
  WG_HTTP_CLIENT = 2,
};

/* One HTTP/1.x request and its response on connection sk, parsed in the kernel. With handoff
 * set it is the request alone: the kernel could not delimit its response (chunked, no length,
 * an upgrade, headers beyond the first call's WG_HEAD_BYTES), which follows as the
 * connection's wg_sock_data records, as does everything after it. h is the process that made
 * the request's first call; times are CLOCK_BOOTTIME ns. */
struct wg_http_exchange {
  struct wg_header h;
  __u64 sk;
  __u64 start_ktime;    /* the call holding the first request byte */
  __u64 end_ktime;      /* the call holding the last response byte (handoff: 0) */
  __u64 request_bytes;  /* start line, headers and body */
  __u64 response_bytes; /* interim responses included (handoff: the interim ones so far) */
  __u16 status;         /* of the final response (handoff: 0) */
  __u8 method;          /* enum wg_http_method */
  __u8 role;            /* enum wg_http_role */
  __u8 handoff;
  __u8 target_len;
  __u8 trace_len;       /* 0 or WG_HTTP_TRACE_LEN: the traceparent header's value, unchecked */
  __u8 pad;
  __u16 family;
  __u16 local_port;
  __u16 remote_port;
  __u16 pad2;
  __u8 local_addr[16];
  __u8 remote_addr[16];
  char target[WG_HTTP_TARGET_MAX];
  char trace[56];
};
/* A record is whole, or short: it ends after the first WG_HTTP_TARGET_SHORT bytes of target
 * (h.size says which), when the target is no longer than that and there is no traceparent. Most
 * exchanges fit, and a short record is 204 bytes instead of 356: less for the kernel to write
 * and for user space to read. */
#define WG_HTTP_TARGET_SHORT 32
#define WG_HTTP_EXCHANGE_SHORT (__builtin_offsetof(struct wg_http_exchange, target) + WG_HTTP_TARGET_SHORT)

/* Counters of the kernel's HTTP parsing (a per-CPU array, by index). */
enum wg_http_count {
  WG_HTTP_COUNT_EXCHANGES = 0, /* exchanges posted whole */
  WG_HTTP_COUNT_CAPTURED = 1,  /* connections handed to user space's parser at a request */
  WG_HTTP_COUNT_HANDOFFS = 2,  /* connections handed over with a request awaiting its response */
  WG_HTTP_COUNT_GAVE_UP = 3,   /* exchanges in flight dropped: bytes that could not be delimited */
  WG_HTTP_COUNT_NO_STATE = 4,  /* connections captured because the state table was full */
  WG_HTTP_COUNT_RETURNED = 5,  /* captured connections given back to the kernel's parser */
  WG_HTTP_COUNT_QUIETED = 6,   /* captured connections user space was done with (given up, upgraded) */
  WG_HTTP_COUNT_TALLIED = 7,   /* exchanges counted in the kernel's tallies, not posted */
  WG_HTTP_COUNT_UNTALLIED = 8, /* exchanges posted because the tallies were full */
};
#define WG_HTTP_COUNTS 9

/* HTTP exchanges tallied in the kernel (sensors.network.http_events: none): per key, the
 * exchanges' count, durations and duration buckets, with no record posted. User space names a
 * key once, from its wg_http_tally_name, and adds what changed since its last read. */
#define WG_HTTP_BOUNDS 14   /* kHttpDurationBounds (src/core/events.hpp) */
#define WG_HTTP_TALLIES 16384 /* keys tallied at once; beyond, exchanges are posted */

struct wg_http_tally_key {
  __u64 start_boottime; /* of the process (with pid: the process cache's key) */
  __u64 target_hash;    /* of the request target's target_len bytes */
  __u32 pid;            /* tgid of the process that made the request's first call */
  __u16 status;
  __u8 method;          /* enum wg_http_method */
  __u8 role;            /* enum wg_http_role */
  __u16 family;         /* a client's server (zero for a server) */
  __u16 remote_port;
  __u8 target_len;
  __u8 pad[3];
  __u8 remote_addr[16];
};

/* Per CPU: buckets[i] counts durations within bound i and above bound i - 1 (of the bounds in
 * ns that user space set); buckets[WG_HTTP_BOUNDS] those above every bound. */
struct wg_http_tally {
  __u64 count;
  __u64 sum_ns;
  __u64 buckets[WG_HTTP_BOUNDS + 1];
};

/* Written once per key, when its tally is made: who and what it counts. */
struct wg_http_tally_name {
  struct wg_header h;
  char target[WG_HTTP_TARGET_MAX];
};

/* A value of the network sensor's http_resume map (written by user space, per socket): the
 * number of the captured call after which its parser was between exchanges (low 16 bits) and
 * the connection's role (enum wg_http_role, shifted by WG_HTTP_ROLE_SHIFT), or WG_HTTP_QUIET:
 * its parser is done with the connection (given up, or upgraded to another protocol), so that
 * nothing more of it is posted. */
#define WG_HTTP_QUIET (1u << 16)
#define WG_HTTP_ROLE_SHIFT 17

#endif
