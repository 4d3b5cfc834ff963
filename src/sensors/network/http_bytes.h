/* HTTP's byte classes eight bytes at a time, for the kernel's parser (http_kernel.bpf.h) and
 * its unit test. Plain C on 64-bit words: in a mask, bit 7 of a byte is set when the byte at
 * that position in memory (little-endian: the first byte is the lowest) passes the test.
 * Every byte's answer is exact: no carry or borrow crosses from one byte to the next. */
#ifndef WAGGLE_HTTP_BYTES_H
#define WAGGLE_HTTP_BYTES_H

#define HTTP_BYTES_ONES 0x0101010101010101ULL
#define HTTP_BYTES_HIGHS 0x8080808080808080ULL

/* Bytes below lo (lo at most 0x80), judged on their low seven bits. */
static inline __attribute__((always_inline)) unsigned long long http_bytes_below(unsigned long long x,
                                                                                 unsigned char lo) {
  return ~((x | HTTP_BYTES_HIGHS) - HTTP_BYTES_ONES * lo) & HTTP_BYTES_HIGHS;
}

/* Bytes above hi (hi below 0x80), judged on their low seven bits. */
static inline __attribute__((always_inline)) unsigned long long http_bytes_above(unsigned long long x,
                                                                                 unsigned char hi) {
  return ((x & ~HTTP_BYTES_HIGHS) + HTTP_BYTES_ONES * (unsigned char)(0x7f - hi)) & HTTP_BYTES_HIGHS;
}

/* Bytes from lo to hi, judged on their low seven bits. */
static inline __attribute__((always_inline)) unsigned long long http_bytes_within(unsigned long long x,
                                                                                  unsigned char lo,
                                                                                  unsigned char hi) {
  return ~(http_bytes_below(x, lo) | http_bytes_above(x, hi)) & HTTP_BYTES_HIGHS;
}

/* Bytes that are not name characters: letters, digits, '-', '_', '.'. */
static inline __attribute__((always_inline)) unsigned long long http_bytes_not_name(unsigned long long x) {
  unsigned long long lower = x | (HTTP_BYTES_ONES * 0x20); /* letters folded to lower case */
  unsigned long long name = http_bytes_within(lower, 'a', 'z') | http_bytes_within(lower, '0', '9') |
                            http_bytes_within(lower, '-', '.') | http_bytes_within(x, '_', '_');
  name &= ~http_bytes_below(x, 0x20); /* folding also maps 0x0d, 0x0e and 0x10 to 0x19 onto them */
  return (~name | x) & HTTP_BYTES_HIGHS; /* and bytes at or above 0x80 are not */
}

/* Bytes that are not text: text is HTAB, SP, visible ASCII and bytes at or above 0x80. */
static inline __attribute__((always_inline)) unsigned long long http_bytes_not_text(unsigned long long x) {
  unsigned long long control =
      (http_bytes_below(x, 0x20) & ~http_bytes_within(x, '\t', '\t')) | http_bytes_within(x, 0x7f, 0x7f);
  return control & ~x & HTTP_BYTES_HIGHS;
}

/* The position (0 to 7) of the first byte marked in a mask that is not zero. */
static inline __attribute__((always_inline)) unsigned http_bytes_first(unsigned long long mask) {
  unsigned long long lowest = mask & (~mask + 1);
  return (unsigned)(((lowest >> 7) * 0x0001020304050607ULL) >> 56);
}

#endif
