/* HTTP/1.x exchanges parsed in the kernel (included by network.bpf.c).
 *
 * Per connection the kernel follows one exchange at a time: the request line, the headers that
 * delimit the messages (Content-Length, Transfer-Encoding) and the traceparent, from the bytes
 * of each message's first call; the later calls of a message are only counted. A completed
 * exchange is posted as one wg_http_exchange. Whatever this fast path does not take exactly is
 * left to user space's parser, which sees the connection's calls from then on:
 * - at a request: a split or long request line, a chunked or unsized request body, pipelined
 *   requests, a header section beyond the call's first WG_HEAD_BYTES, a line the kernel does not
 *   check as strictly as user space (the connection is "captured" from this call on);
 * - at a response: chunked, close-delimited or upgraded responses, a head beyond the first call
 *   (the request is posted alone, "handed off", and the response follows as captured calls);
 * - bytes past where a message must end, or a request while a response is under way: the
 *   exchange in flight is dropped (counted) and the connection captured from its next call.
 * User space's parser is the reference: the kernel takes less, never more. */

#include "http_bytes.h"

/* Set by user space: HTTP parsed here (otherwise every call of an HTTP connection is posted). */
const volatile bool parse_http = false;

enum http_phase {
  PH_IDLE = 0,     /* between exchanges */
  PH_REQUEST = 1,  /* the request's body is under way */
  PH_WAIT = 2,     /* the request is complete; its final response has not started */
  PH_RESPONSE = 3, /* the final response's body is under way */
};

struct http_state {
  struct wg_header h; /* the process that began the exchange */
  u64 start, last;    /* first request byte, last response byte */
  u64 req_bytes, resp_bytes;
  u64 left; /* bytes of the current message still to come */
  u16 status;
  u8 phase, role, method, target_len, trace_len;
  u8 no_body; /* a HEAD request: its response has no body */
  char trace[56];
  char target[WG_HTTP_TARGET_MAX];
};

/* Made for a connection at its first request, removed when it is released or captured. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __uint(max_entries, 65536);
  __type(key, u64);
  __type(value, struct http_state);
} http_states SEC(".maps");

/* Written by user space: a captured connection whose parser was between exchanges once it had
 * read the connection's posted call number `seq` (wg_sock_data.seq). If the kernel has posted
 * nothing since, the next call starts a request, and the kernel takes the connection back. Or
 * WG_HTTP_QUIET: user space will read nothing more of it. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __uint(max_entries, 65536); /* as many as conns */
  __type(key, u64);
  __type(value, u32);
} http_resume SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, WG_HTTP_COUNTS);
  __type(key, u32);
  __type(value, u64);
} http_counts SEC(".maps");


static struct http_state blank_state;

static __always_inline void http_count(u32 what) {
  u64 *v = bpf_map_lookup_elem(&http_counts, &what);
  if (v) *v += 1;
}

/* What a message's head says, read from the bytes of its first call. */
struct http_head {
  u32 len;      /* bytes of the call that were copied */
  u32 pos;      /* where the next line starts */
  u32 end;      /* just past the blank line; 0 until it is seen */
  u32 trace_at; /* the traceparent's value */
  u64 length;   /* Content-Length */
  u16 status;
  u8 method, method_len, target_len;
  u8 has_length, has_te, trace_seen, bad;
  u32 forget; /* see http_forget */
};

/* x as the verifier sees a value read from memory: unknown. The paths that leave a loop at
 * different iterations then meet in one state, verified once, instead of each going on alone. */
static __always_inline u32 http_forget(struct http_head *h, u32 x) {
  *(volatile u32 *)&h->forget = x;
  return *(volatile u32 *)&h->forget;
}

/* Byte i of the copied call (masked: the verifier sees every index in bounds). */
#define HB(d, i) ((u8)(d)->bytes[sizeof(struct wg_sock_data) + ((i) & (WG_HEAD_BYTES - 1))])

static __always_inline u8 http_lower(u8 c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

static __always_inline bool http_name_is(struct data_scratch *d, u32 at, const char *name, int n) {
  bool same = true;
  for (int k = 0; k < n; k++) same &= http_lower(HB(d, at + k)) == (u8)name[k];
  return same;
}

enum http_run { RUN_NAME = 0, RUN_TEXT = 1 };

/* A word read with one load wherever it lies: the compiler otherwise builds a load it cannot
 * prove aligned from eight byte loads. The verifier lets a program read a map value at any
 * offset where the architecture reads misaligned words efficiently (x86-64, arm64). */
typedef u64 __attribute__((aligned(8))) http_word;

/* The word at byte `at` of the copied call. */
#define HW(d, at) (*(http_word *)(void *)&(d)->bytes[sizeof(struct wg_sock_data) + ((at) & (WG_HEAD_BYTES - 1))])

static __always_inline u64 http_not_in_run(u64 v, u32 run) {
  return run == RUN_NAME ? http_bytes_not_name(v) : http_bytes_not_text(v);
}

/* The end of the run of name characters (letters, digits, '-', '_', '.') or text characters
 * (HTAB, SP, visible ASCII, bytes >= 0x80) from `from`: the first other byte, or len. Eight
 * bytes at a time; the last few (fewer than eight before len) from the word that ends at len,
 * shifted so that byte `from` comes first and masked to the bytes before len. */
static __always_inline u32 http_scan(struct data_scratch *d, u32 from, u32 len, u32 run) {
  for (int k = 0; k < WG_HEAD_BYTES / 8; k++) {
    if (from + 8 > len) break;
    u64 other = http_not_in_run(HW(d, from), run);
    if (other) return from + http_bytes_first(other);
    from += 8;
  }
  if (from >= len) return len;
  if (len - from > 7) return from; /* (only for a len past WG_HEAD_BYTES, which no caller passes) */
  u32 base = len >= 8 ? len - 8 : 0; /* from - base is 0 to 7 */
  u64 v = HW(d, base) >> ((from - base) * 8);
  u64 other = http_not_in_run(v, run) & ((1ULL << ((len - from) * 8)) - 1);
  return other ? from + http_bytes_first(other) : len;
}

/* The request line at the call's start: one of the methods the kernel takes, a target of
 * visible ASCII or bytes >= 0x80 (at most WG_HTTP_TARGET_MAX), HTTP/1.0 or 1.1, CRLF. 1 when
 * taken (h->pos past it). Global: the verifier checks it once. */
__attribute__((noinline)) int http_request_line(struct data_scratch *d, struct http_head *h) {
  if (!d || !h) return 0;
  u32 len = h->len;
  if (len < 16 || len > WG_HEAD_BYTES) return 0; /* "GET / HTTP/1.1\r\n" */
  u32 w = HB(d, 0) | HB(d, 1) << 8 | HB(d, 2) << 16 | (u32)HB(d, 3) << 24;
  u8 m, ml;
#define W(a, b, c, e) ((u32)(a) | (u32)(b) << 8 | (u32)(c) << 16 | (u32)(e) << 24)
  if (w == W('G', 'E', 'T', ' ')) {
    m = WG_HTTP_GET, ml = 3;
  } else if (w == W('P', 'U', 'T', ' ')) {
    m = WG_HTTP_PUT, ml = 3;
  } else if (w == W('P', 'O', 'S', 'T') && HB(d, 4) == ' ') {
    m = WG_HTTP_POST, ml = 4;
  } else if (w == W('H', 'E', 'A', 'D') && HB(d, 4) == ' ') {
    m = WG_HTTP_HEAD, ml = 4;
  } else if (w == W('D', 'E', 'L', 'E') && HB(d, 4) == 'T' && HB(d, 5) == 'E' && HB(d, 6) == ' ') {
    m = WG_HTTP_DELETE, ml = 6;
  } else if (w == W('O', 'P', 'T', 'I') && HB(d, 4) == 'O' && HB(d, 5) == 'N' && HB(d, 6) == 'S' &&
             HB(d, 7) == ' ') {
    m = WG_HTTP_OPTIONS, ml = 7;
  } else if (w == W('T', 'R', 'A', 'C') && HB(d, 4) == 'E' && HB(d, 5) == ' ') {
    m = WG_HTTP_TRACE, ml = 5;
  } else if (w == W('P', 'A', 'T', 'C') && HB(d, 4) == 'H' && HB(d, 5) == ' ') {
    m = WG_HTTP_PATCH, ml = 5;
  } else {
    return 0; /* CONNECT (a tunnel) and other methods: user space */
  }
#undef W
  u32 i = ml + 1;
  for (int k = 0; k <= WG_HTTP_TARGET_MAX; k++) {
    if (i >= len) return 0;
    u8 c = HB(d, i);
    if (c <= 0x20 || c == 0x7f) break;
    i++;
  }
  u32 tl = i - (ml + 1);
  if (tl == 0 || tl > WG_HTTP_TARGET_MAX || i + 11 > len || HB(d, i) != ' ') return 0;
  if (HB(d, i + 1) != 'H' || HB(d, i + 2) != 'T' || HB(d, i + 3) != 'T' || HB(d, i + 4) != 'P' ||
      HB(d, i + 5) != '/' || HB(d, i + 6) != '1' || HB(d, i + 7) != '.' ||
      (HB(d, i + 8) != '0' && HB(d, i + 8) != '1') || HB(d, i + 9) != '\r' || HB(d, i + 10) != '\n')
    return 0;
  h->method = m;
  h->method_len = ml;
  h->target_len = tl;
  h->pos = i + 11;
  return 1;
}

/* The status line at the call's start: HTTP/1.0 or 1.1, a status 100 to 599, a reason of
 * text characters, CRLF. */
__attribute__((noinline)) int http_status_line(struct data_scratch *d, struct http_head *h) {
  if (!d || !h) return 0;
  u32 len = h->len;
  if (len < 14 || len > WG_HEAD_BYTES) return 0; /* "HTTP/1.1 200\r\n" */
  if (HB(d, 0) != 'H' || HB(d, 1) != 'T' || HB(d, 2) != 'T' || HB(d, 3) != 'P' || HB(d, 4) != '/' ||
      HB(d, 5) != '1' || HB(d, 6) != '.' || (HB(d, 7) != '0' && HB(d, 7) != '1') || HB(d, 8) != ' ')
    return 0;
  u8 a = HB(d, 9), b = HB(d, 10), c = HB(d, 11);
  if (a < '1' || a > '5' || b < '0' || b > '9' || c < '0' || c > '9') return 0;
  if (HB(d, 12) != ' ' && HB(d, 12) != '\r') return 0;
  u32 i = http_forget(h, http_scan(d, 12, len, RUN_TEXT));
  if (i + 2 > len || HB(d, i) != '\r' || HB(d, i + 1) != '\n') return 0;
  h->status = (a - '0') * 100 + (b - '0') * 10 + (c - '0');
  h->pos = i + 2;
  return 1;
}

/* Past the spaces and tabs (at most 8) from `from` towards `to`: forwards (`back` 0, the first
 * other byte) or backwards (`back` 1, just after the last other byte). */
static __always_inline u32 http_ows(struct data_scratch *d, u32 from, u32 to, u32 back) {
  if (!d) return from;
  u32 step = back ? -1 : 1;
  for (int k = 0; k < 8 && from != to; k++) {
    u8 c = HB(d, from - back);
    if (c != ' ' && c != '\t') break;
    from += step;
  }
  return from;
}

/* The field on the line at h->pos, whose name ends at `colon` and whose value runs to `eol`:
 * Content-Length (1 to 13 digits, several must agree), Transfer-Encoding, traceparent (one
 * only) are taken; other fields are skipped. 0 when the kernel does not take the head. */
static __always_inline int http_field(struct data_scratch *d, struct http_head *h, u32 colon, u32 eol) {
  if (!d || !h) return 0;
  u32 start = h->pos, vs = colon + 1, ve = eol;
  if (colon < start || vs > ve || ve > WG_HEAD_BYTES) return 0;
  u32 name_len = colon - start;
  bool length = name_len == 14 && http_name_is(d, start, "content-length", 14);
  bool trace = !length && name_len == 11 && http_name_is(d, start, "traceparent", 11);
  if (length || trace) { /* the value without the spaces around it */
    vs = http_forget(h, http_ows(d, vs, ve, 0));
    ve = http_forget(h, http_ows(d, ve, vs, 1));
  }
  if (length) {
    u32 n = ve - vs;
    if (n == 0 || n > 13) return 0;
    u64 v = 0;
    bool digits = true;
    for (int k = 0; k < 13; k++) {
      if (k >= n) break;
      u8 c = HB(d, vs + k);
      digits &= c >= '0' && c <= '9';
      v = v * 10 + (u8)(c - '0');
    }
    if (!digits || v > (1ULL << 40) || (h->has_length && h->length != v)) return 0;
    h->has_length = 1;
    h->length = v;
  } else if (name_len == 17 && http_name_is(d, start, "transfer-encoding", 17)) {
    h->has_te = 1;
  } else if (trace) {
    if (h->trace_seen) return 0;
    h->trace_seen = 1;
    if (ve - vs != WG_HTTP_TRACE_LEN) return 0; /* another version's, or spaces: user space reads it */
    h->trace_at = vs;
  }
  return 1;
}

/* The header line at h->pos: a name, a colon, a value of text, CRLF (user space takes any
 * token as a name, and a bare LF). 1: go on; 0: the head ended (h->end) or the kernel does not
 * take it (h->bad). */
static __always_inline int http_header_line(struct data_scratch *d, struct http_head *h) {
  u32 len = h->len, start = h->pos;
  if (len > WG_HEAD_BYTES || start + 2 > len) {
    h->bad = 1;
    return 0;
  }
  if (HB(d, start) == '\r' && HB(d, start + 1) == '\n') {
    h->end = start + 2;
    return 0;
  }
  u32 colon = http_forget(h, http_scan(d, start, len, RUN_NAME));
  if (colon >= len || colon == start || colon - start > 64 || HB(d, colon) != ':') {
    h->bad = 1;
    return 0;
  }
  u32 eol = http_forget(h, http_scan(d, colon + 1, len, RUN_TEXT));
  if (eol + 2 > len || HB(d, eol) != '\r' || HB(d, eol + 1) != '\n' ||
      !http_field(d, h, colon, eol)) {
    h->bad = 1;
    return 0;
  }
  h->pos = eol + 2;
  return 1;
}

/* Header lines, HTTP_LINES_PER_CALL at most, as http_header_line: 1 while the head goes on.
 * Several lines per call: each call and its return cost tens of nanoseconds on a CPU whose
 * kernel mitigates return-stack attacks with a return thunk; two lines a call took the kernel's
 * time per request down 5% (docs/benchmarks.md). Three come near the verifier's limit of
 * instructions, four exceed it. Global: the verifier checks these lines once, whatever the
 * caller's state. */
#define HTTP_LINES_PER_CALL 2
__attribute__((noinline)) int http_header_lines(struct data_scratch *d, struct http_head *h) {
  if (!d || !h) return 0;
  for (int k = 0; k < HTTP_LINES_PER_CALL; k++)
    if (!http_header_line(d, h)) return 0;
  return 1;
}

/* The head of the message the call begins, copied to d: 1 when the kernel takes all of it. */
static __always_inline bool http_parse_head(struct data_scratch *d, struct http_head *h, bool request) {
  if (!(request ? http_request_line(d, h) : http_status_line(d, h))) return false;
  for (int k = 0; k < 64 / HTTP_LINES_PER_CALL; k++)
    if (!http_header_lines(d, h)) break;
  return h->end && !h->bad;
}

/* conn.capture */
enum http_capture_state {
  CAPTURE_NONE = 0,    /* parsed here */
  CAPTURE_POSTED = 1,  /* every call goes to user space's parser */
  CAPTURE_IGNORED = 2, /* given up: nothing more until it is released */
};

enum http_verdict {
  HTTP_KEPT = 0, /* taken here: nothing to post */
  HTTP_POST = 1, /* the connection is captured: post this call */
};

/* The connection goes to user space's parser from this call on. */
static __always_inline int http_capture(struct conn *c, u64 sk, u32 count) {
  c->capture = CAPTURE_POSTED;
  bpf_map_delete_elem(&http_states, &sk);
  http_count(count);
  return HTTP_POST;
}

/* A captured connection goes back to the kernel's parser if user space says it was between
 * exchanges after the last call posted (see http_resume): this call then begins a request. */
static __always_inline void http_take_back(struct conn *c, u64 sk) {
  u32 *v = bpf_map_lookup_elem(&http_resume, &sk);
  if (!v) return;
  if (*v & WG_HTTP_QUIET) {
    c->capture = CAPTURE_IGNORED;
    http_count(WG_HTTP_COUNT_QUIETED);
  } else if ((u16)*v == c->posted) {
    c->capture = CAPTURE_NONE;
    c->returned = 1;
    http_count(WG_HTTP_COUNT_RETURNED);
    /* Its role, so that a call in the responses' direction goes back to user space rather than
     * being taken as a request. */
    u8 role = (*v >> WG_HTTP_ROLE_SHIFT) & 3;
    if (role == WG_HTTP_SERVER || role == WG_HTTP_CLIENT) {
      bpf_map_update_elem(&http_states, &sk, &blank_state, BPF_NOEXIST);
      struct http_state *st = bpf_map_lookup_elem(&http_states, &sk);
      if (st) st->role = role;
    }
  }
  bpf_map_delete_elem(&http_resume, &sk); /* stale otherwise: user space asks again when it can */
}

/* Bytes that cannot be delimited: the exchange in flight is dropped and the connection is
 * ignored until it is released, as user space's parser does when it gives up (responses may
 * still be owed to requests never parsed: no later request line is safe to start from). */
static __always_inline int http_give_up(struct conn *c, u64 sk) {
  http_capture(c, sk, WG_HTTP_COUNT_GAVE_UP);
  c->capture = CAPTURE_IGNORED;
  return HTTP_KEPT;
}

/* The fields of an exchange's record before its target. */
static __always_inline void http_fill(struct wg_http_exchange *x, u32 size, struct conn *c, u64 sk,
                                      struct http_state *st, bool handoff, u64 now) {
  x->h = st->h;
  x->h.type = WG_REC_HTTP_EXCHANGE;
  x->h.size = size;
  x->h.ktime = now;
  x->sk = sk;
  x->start_ktime = st->start;
  x->end_ktime = handoff ? 0 : st->last;
  x->request_bytes = st->req_bytes;
  x->response_bytes = st->resp_bytes;
  x->status = handoff ? 0 : st->status;
  x->method = st->method;
  x->role = st->role;
  x->handoff = handoff;
  x->target_len = st->target_len;
  x->trace_len = st->trace_len;
  x->pad = 0; /* ring memory: every byte is written */
  x->pad2 = 0;
  x->family = c->e.family;
  x->local_port = c->e.local_port;
  x->remote_port = c->e.remote_port;
  __builtin_memcpy(x->local_addr, c->e.local_addr, 16);
  __builtin_memcpy(x->remote_addr, c->e.remote_addr, 16);
}

/* Posts st's exchange: a short record where it fits (see WG_HTTP_TARGET_SHORT). */
static __always_inline void http_post(struct conn *c, u64 sk, struct http_state *st, bool handoff, u64 now) {
  struct wg_http_exchange *x;
  if (st->trace_len == 0 && st->target_len <= WG_HTTP_TARGET_SHORT) {
    x = wg_reserve(WG_SENSOR_NETWORK, WG_HTTP_EXCHANGE_SHORT);
    if (!x) return;
    http_fill(x, WG_HTTP_EXCHANGE_SHORT, c, sk, st, handoff, now);
    __builtin_memcpy(x->target, st->target, WG_HTTP_TARGET_SHORT);
  } else {
    x = wg_reserve(WG_SENSOR_NETWORK, sizeof(*x));
    if (!x) return;
    http_fill(x, sizeof(*x), c, sk, st, handoff, now);
    __builtin_memcpy(x->target, st->target, sizeof(x->target));
    __builtin_memcpy(x->trace, st->trace, sizeof(x->trace));
  }
  wg_submit(x);
  if (!handoff) http_count(WG_HTTP_COUNT_EXCHANGES);
}

/* Set by user space: completed exchanges are tallied here rather than posted (http_events:
 * none), into buckets of these bounds in ns (a duration d is within bound b when d <= b). */
const volatile bool tally_http = false;
const volatile __u64 http_bound_ns[WG_HTTP_BOUNDS] = {};

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __uint(max_entries, WG_HTTP_TALLIES);
  __type(key, struct wg_http_tally_key);
  __type(value, struct wg_http_tally);
} http_tallies SEC(".maps");

/* Each tally's name, written with it (user space reads it once, and removes both). */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __uint(max_entries, WG_HTTP_TALLIES);
  __type(key, struct wg_http_tally_key);
  __type(value, struct wg_http_tally_name);
} http_tally_names SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, u32);
  __type(value, struct wg_http_tally_name);
} http_name_scratch SEC(".maps");

static struct wg_http_tally blank_tally;

/* The target's bytes, eight at a time (the copy's bytes past target_len masked off). */
static __always_inline u64 http_target_hash(struct http_state *st, u32 len) {
  u64 h = 0xcbf29ce484222325ULL ^ len;
  for (u32 i = 0; i < WG_HTTP_TARGET_MAX / 8; i++) {
    if (i * 8 >= len) break;
    u64 w = *(u64 *)&st->target[i * 8];
    u32 left = len - i * 8;
    if (left < 8) w &= (1ULL << (left * 8)) - 1;
    h = (h ^ w) * 0x100000001b3ULL;
    h ^= h >> 29;
  }
  return h;
}

/* Counts st's completed exchange in its tally (made at its first exchange, with its name).
 * Returns 0 when the tallies are full: the exchange is then posted. A global function: verified
 * once, not at each call. */
__attribute__((noinline)) int http_tally(struct conn *c, struct http_state *st) {
  /* First: where the maps are not made (tallies off), the rest is dead code to the verifier,
   * which checks a global function even if nothing calls it (before Linux 6.8). */
  if (!tally_http || !c || !st) return 0;
  u32 len = st->target_len;
  if (len > WG_HTTP_TARGET_MAX) return 0;
  struct wg_http_tally_key k = {};
  k.start_boottime = st->h.start_boottime;
  k.target_hash = http_target_hash(st, len);
  k.pid = st->h.pid;
  k.status = st->status;
  k.method = st->method;
  k.role = st->role;
  k.target_len = len;
  if (st->role == WG_HTTP_CLIENT) {
    k.family = c->e.family;
    k.remote_port = c->e.remote_port;
    __builtin_memcpy(k.remote_addr, c->e.remote_addr, 16);
  }
  struct wg_http_tally *v = bpf_map_lookup_elem(&http_tallies, &k);
  if (!v) {
    u32 zero = 0;
    struct wg_http_tally_name *n = bpf_map_lookup_elem(&http_name_scratch, &zero);
    if (!n) return 0;
    n->h = st->h;
    __builtin_memcpy(n->target, st->target, sizeof(n->target));
    long err = bpf_map_update_elem(&http_tally_names, &k, n, BPF_NOEXIST);
    if (err && err != -17 /* EEXIST: made by another CPU */) {
      http_count(WG_HTTP_COUNT_UNTALLIED);
      return 0;
    }
    const bool named_here = err == 0;
    bpf_map_update_elem(&http_tallies, &k, &blank_tally, BPF_NOEXIST);
    v = bpf_map_lookup_elem(&http_tallies, &k);
    if (!v) {
      if (named_here) bpf_map_delete_elem(&http_tally_names, &k); /* no name without its tally */
      http_count(WG_HTTP_COUNT_UNTALLIED);
      return 0;
    }
  }
  u64 d = st->last - st->start;
  u32 b = WG_HTTP_BOUNDS;
  for (u32 i = 0; i < WG_HTTP_BOUNDS; i++) {
    if (d <= http_bound_ns[i]) {
      b = i;
      break;
    }
  }
  v->count++;
  v->sum_ns += d;
  if (b <= WG_HTTP_BOUNDS) v->buckets[b]++;
  http_count(WG_HTTP_COUNT_TALLIED);
  return 1;
}

/* A completed exchange: tallied, or posted (always its connection's first since user space's
 * parser gave it back, which tells user space the kernel parses it again). */
static __always_inline void http_done(struct conn *c, u64 sk, struct http_state *st, u64 now) {
  if (!tally_http || c->returned || !http_tally(c, st)) http_post(c, sk, st, false, now);
  c->returned = 0;
}

/* The request waits for a response the kernel cannot delimit: posted alone, and the connection
 * captured from this call on. */
static __always_inline int http_hand_off(struct conn *c, u64 sk, struct http_state *st, u64 now) {
  http_post(c, sk, st, true, now);
  return http_capture(c, sk, WG_HTTP_COUNT_HANDOFFS);
}

static __always_inline u32 copy_bytes(char *data, struct span *span, bool second);
static __always_inline bool looks_like_http(const char *d, u32 len);

/* A body's call that begins like a start line: bytes were missed (sendfile, splice, losses)
 * or the message is ambiguous, and user space's parser would give up. Wider than its test (a
 * complete start line): the kernel gives up on a little more, never on less. */
static __always_inline bool http_starts_message(struct span *span) {
  char peek[8] = {};
  if (span->len < 5 || bpf_probe_read_user(peek, span->len < 8 ? 5 : 8, (void *)span->base)) return false;
  return looks_like_http(peek, span->len < 8 ? 5 : 8);
}

/* One call of `size` bytes on HTTP connection c (not captured), in `direction`. */
static __always_inline int http_step(struct conn *c, u64 sk, u8 direction, u64 size, struct span *span,
                                     struct data_scratch *d) {
  struct http_state *st = bpf_map_lookup_elem(&http_states, &sk);
  if (!st) {
    bpf_map_update_elem(&http_states, &sk, &blank_state, BPF_NOEXIST);
    st = bpf_map_lookup_elem(&http_states, &sk);
    if (!st) return http_capture(c, sk, WG_HTTP_COUNT_NO_STATE);
  }
  bool egress = direction == WG_DATA_EGRESS;
  /* Until the first request, a call is taken as one: its direction gives the role. */
  bool request = st->role == 0 || egress == (st->role == WG_HTTP_CLIENT);
  u64 now = bpf_ktime_get_boot_ns();
  struct http_head h = {};
  u8 phase = st->phase;

  if (phase == PH_REQUEST && request) {
    if (size > st->left || http_starts_message(span)) return http_give_up(c, sk);
    st->req_bytes += size;
    st->left -= size;
    if (st->left == 0) st->phase = PH_WAIT;
    return HTTP_KEPT;
  }
  if (phase == PH_RESPONSE) {
    if (request || size > st->left || http_starts_message(span)) return http_give_up(c, sk);
    st->resp_bytes += size;
    st->left -= size;
    st->last = now;
    if (st->left > 0) return HTTP_KEPT;
    http_done(c, sk, st, now);
    st->phase = PH_IDLE;
    return HTTP_KEPT;
  }
  if (phase == PH_WAIT && request) return http_hand_off(c, sk, st, now); /* pipelined */

  /* A head is taken from the call's first buffer only (a server writing its head and body
   * with one writev gives the head a buffer of its own): one read of user memory less. A head
   * split over buffers goes to user space; while a request's body is under way, where a head
   * not taken would give the connection up (an interim response), both buffers are read. */
  h.len = copy_bytes((char *)d->bytes + sizeof(struct wg_sock_data), span, phase == PH_REQUEST);
  if (phase == PH_IDLE) {
    /* A response with no request (or one begun before the agent saw the connection) goes to
     * user space, which knows what to skip. */
    if (!request || !http_parse_head(d, &h, true) || h.has_te) return http_capture(c, sk, WG_HTTP_COUNT_CAPTURED);
    u64 message = h.end + (h.has_length ? h.length : 0);
    if (size > message) return http_capture(c, sk, WG_HTTP_COUNT_CAPTURED); /* pipelined, or bytes after it */
    if (st->role == 0) st->role = egress ? WG_HTTP_CLIENT : WG_HTTP_SERVER;
    /* The process that connected or accepted it (the one serving it, for nginx's workers and
     * most servers); for a connection older than the agent, the first that used it. */
    if (c->h.pid == 0) fill_header(&c->h, WG_REC_TCP);
    if (c->h.pid == bpf_get_current_pid_tgid() >> 32)
      st->h = c->h;
    else /* handed to another process (a server's primary accepts, its workers serve) */
      fill_header(&st->h, WG_REC_HTTP_EXCHANGE);
    st->start = now;
    st->last = now;
    st->req_bytes = size;
    st->resp_bytes = 0;
    st->status = 0;
    st->left = message - size;
    st->method = h.method;
    st->no_body = h.method == WG_HTTP_HEAD;
    st->target_len = h.target_len;
    bpf_probe_read_kernel(st->target, sizeof(st->target), &d->bytes[sizeof(struct wg_sock_data) + h.method_len + 1]);
    st->trace_len = 0;
    if (h.trace_at) {
      st->trace_len = WG_HTTP_TRACE_LEN;
      bpf_probe_read_kernel(st->trace, WG_HTTP_TRACE_LEN,
                            &d->bytes[sizeof(struct wg_sock_data) + (h.trace_at & (WG_HEAD_BYTES - 1))]);
    }
    st->phase = st->left ? PH_REQUEST : PH_WAIT;
    return HTTP_KEPT;
  }

  /* A response starts: interim ones (100 Continue) also while the request's body is under way. */
  bool parsed = http_parse_head(d, &h, false);
  if (parsed && h.status < 200 && h.status != 101 && size == h.end) {
    st->resp_bytes += size;
    return HTTP_KEPT;
  }
  if (phase == PH_REQUEST) return http_give_up(c, sk); /* answered before its body came */
  /* Upgrades, chunked and close-delimited bodies, heads the kernel does not take: user space. */
  if (!parsed || h.status < 200 || h.has_te) return http_hand_off(c, sk, st, now);
  bool empty = st->no_body || h.status == 204 || h.status == 304;
  if (!empty && !h.has_length) return http_hand_off(c, sk, st, now);
  u64 message = h.end + (empty ? 0 : h.length);
  if (size > message) return http_hand_off(c, sk, st, now);
  st->status = h.status;
  st->resp_bytes += size;
  st->last = now;
  st->left = message - size;
  if (st->left > 0) {
    st->phase = PH_RESPONSE;
    return HTTP_KEPT;
  }
  http_done(c, sk, st, now);
  st->phase = PH_IDLE;
  return HTTP_KEPT;
}
