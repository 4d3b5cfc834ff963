/* DNS over UDP paired in the kernel (included by network.bpf.c). A client's query, a standard
 * one with one question of plain labels, is held in dns_pending by its socket and id instead
 * of being posted; its answer, on that socket with that id and the same question bytes, is
 * posted with the query's time, so one record crosses per exchange. Anything else (TCP, other
 * opcodes, several questions, compressed or cut names, an answer whose query was not held, a
 * second query with another question under a held one's id, a full table) is posted as before
 * and paired by user space. User space reads the queries held longer than its answer timeout
 * and reports them unanswered, removing each with one lookup-and-delete: whichever of it and
 * the answer removes the query reports it. */

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __uint(max_entries, WG_DNS_PENDING);
  __type(key, struct wg_dns_pending_key);
  __type(value, struct wg_dns_pending);
} dns_pending SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, u32);
  __type(value, struct wg_dns_pending);
} dns_scratch SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, WG_DNS_COUNTS);
  __type(key, u32);
  __type(value, u64);
} dns_counts SEC(".maps");

enum dns_verdict {
  DNS_POST = 0,   /* post the call as it is */
  DNS_HELD = 1,   /* a query, held: nothing to post */
  DNS_PAIRED = 2, /* an answer to a held query: posted with its time */
};

/* Byte i of the call's copied head (in the record's data, as posted). */
#define DB(s, i) ((u8)(s)->bytes[__builtin_offsetof(struct wg_sock_data, data) + ((i) & (WG_HEAD_BYTES - 1))])

static __always_inline void dns_count(u32 what) {
  u64 *n = bpf_map_lookup_elem(&dns_counts, &what);
  if (n) (*n)++;
}

/* The length of the one question (name, type, class) of the standard query or answer in the
 * head's `head` bytes; 0 if it has none the kernel pairs. */
static __always_inline u32 dns_question_len(struct data_scratch *s, u32 head) {
  if (head < 12 + 5 || (DB(s, 2) & 0x78) /* opcode */ || DB(s, 4) != 0 || DB(s, 5) != 1) return 0;
  u64 at = 12;
  for (int k = 0; k < 128; k++) {
    barrier_var(at); /* keeps DB's mask: the verifier does not carry the bound below over */
    u32 len = DB(s, at);
    if (len == 0) {
      u32 q = (u32)at + 5 - 12; /* the root label, the type and the class */
      return 12 + q <= head && q <= WG_DNS_QUESTION_MAX ? q : 0;
    }
    if (len > 63) return 0; /* a compression pointer, or not a label */
    at += len + 1;
    if (at >= head || at > 12 + 254) return 0; /* cut by the copy, or a name over 255 bytes */
  }
  return 0;
}

static __always_inline bool dns_same_question(struct data_scratch *s, struct wg_dns_pending *p, u32 len) {
  if (p->question_len != len) return false;
  for (u32 i = 0; i < WG_DNS_QUESTION_MAX; i++) {
    if (i >= len) break;
    if (DB(s, 12 + i) != p->question[i]) return false;
  }
  return true;
}

/* The verdict on a UDP DNS call whose record is in s, its first `head` bytes copied. A global
 * function: verified once, not at each call. */
__attribute__((noinline)) int dns_pair(struct data_scratch *s, u32 head) {
  if (!s) return DNS_POST;
  struct wg_sock_data *rec = (void *)s->bytes;
  u32 len = dns_question_len(s, head);
  if (!len) return DNS_POST;
  bool answer = DB(s, 2) & 0x80;
  /* A client sends queries and receives answers. */
  if (answer == (rec->direction == WG_DATA_EGRESS)) return DNS_POST;
  struct wg_dns_pending_key key = {.sk = rec->sk, .id = (u16)(DB(s, 0) << 8 | DB(s, 1))};
  struct wg_dns_pending *p = bpf_map_lookup_elem(&dns_pending, &key);
  if (answer) {
    if (!p || !dns_same_question(s, p, len)) return DNS_POST;
    u64 asked = p->h.ktime;
    /* Not removed here: user space took it as unanswered (it is reported), or another CPU's
     * copy of the answer did. */
    if (bpf_map_delete_elem(&dns_pending, &key)) return DNS_POST;
    rec->query_ktime = asked;
    dns_count(WG_DNS_COUNT_PAIRED);
    return DNS_PAIRED;
  }
  /* The same question again under a held id (a retry) waits from now on, as user space would
   * pair it; another question goes to user space. */
  if (p && !dns_same_question(s, p, len)) return DNS_POST;
  u32 zero = 0;
  struct wg_dns_pending *q = bpf_map_lookup_elem(&dns_scratch, &zero);
  if (!q) return DNS_POST;
  fill_header(&q->h, WG_REC_SOCK_DATA);
  q->family = rec->family;
  q->remote_port = rec->remote_port;
  q->question_len = len;
  q->pad = 0;
  __builtin_memcpy(q->remote_addr, rec->remote_addr, 16);
  __builtin_memcpy(q->question, &s->bytes[__builtin_offsetof(struct wg_sock_data, data) + 12], WG_DNS_QUESTION_MAX);
  if (bpf_map_update_elem(&dns_pending, &key, q, BPF_ANY)) {
    dns_count(WG_DNS_COUNT_UNHELD);
    return DNS_POST;
  }
  dns_count(WG_DNS_COUNT_HELD);
  return DNS_HELD;
}

#undef DB
