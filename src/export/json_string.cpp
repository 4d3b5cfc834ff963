#include "export/json_string.hpp"

#include <array>
#include <cstdint>
#include <cstring>

namespace waggle {

namespace {

// Byte classes: 0 copied as is, 1 escaped (ASCII), 2 start or part of a multibyte sequence.
constexpr std::array<uint8_t, 256> make_classes() {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    if (c < 0x20 || c == '"' || c == '\\') {
      t[c] = 1;
    } else if (c >= 0x80) {
      t[c] = 2;
    }
  }
  return t;
}
constexpr std::array<uint8_t, 256> kClass = make_classes();

constexpr uint64_t kOnes = 0x0101010101010101ull;
constexpr uint64_t kHighs = 0x8080808080808080ull;

// Nonzero when some byte of v is zero.
constexpr uint64_t has_zero(uint64_t v) { return (v - kOnes) & ~v & kHighs; }

// Marks (with the top bit of the byte) the bytes of w that are not class 0. A borrow can mark a
// plain byte, but only above a truly special one, so the lowest marked byte is always the first
// special byte (little-endian).
inline uint64_t special_bytes(uint64_t w) {
  uint64_t bad = w & kHighs;                      // >= 0x80
  bad |= (w - 0x20 * kOnes) & ~w & kHighs;        // < 0x20
  bad |= has_zero(w ^ (uint64_t{'"'} * kOnes));   // '"'
  bad |= has_zero(w ^ (uint64_t{'\\'} * kOnes));  // '\\'
  return bad;
}

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "special_bytes assumes little-endian");

inline uint64_t load8(const unsigned char* p) {
  uint64_t w;
  std::memcpy(&w, p, 8);
  return w;
}

// Index of the first byte at or after i that is not class 0, or n. Eight bytes at a time.
inline size_t skip_plain(const unsigned char* p, size_t i, size_t n) {
  while (i + 8 <= n) {
    if (const uint64_t bad = special_bytes(load8(p + i))) {
      return i + static_cast<size_t>(__builtin_ctzll(bad) >> 3);
    }
    i += 8;
  }
  if (i == n) return n;
  if (n >= 8) {
    // The last 1 to 7 bytes: load the final 8, shift out those before i (they may be special
    // and would disturb the test) and fill the top with plain 'A's.
    const unsigned shift = static_cast<unsigned>(i - (n - 8)) * 8;  // 8 to 56
    const uint64_t w = (load8(p + n - 8) >> shift) | (uint64_t{'A'} * kOnes << (64 - shift));
    const uint64_t bad = special_bytes(w);
    return bad ? i + static_cast<size_t>(__builtin_ctzll(bad) >> 3) : n;
  }
  while (i < n && kClass[p[i]] == 0) ++i;
  return i;
}

inline bool is_cont(unsigned char c) { return (c & 0xC0) == 0x80; }

// Writes the escape of c (an ASCII byte that needs one) at o; returns the end.
char* put_escape(char* o, unsigned char c) {
  char second;
  switch (c) {
    case '"':
      second = '"';
      break;
    case '\\':
      second = '\\';
      break;
    case '\n':
      second = 'n';
      break;
    case '\t':
      second = 't';
      break;
    case '\r':
      second = 'r';
      break;
    case '\b':
      second = 'b';
      break;
    case '\f':
      second = 'f';
      break;
    default: {
      static constexpr char kHex[] = "0123456789abcdef";
      const char u[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
      std::memcpy(o, u, 6);
      return o + 6;
    }
  }
  o[0] = '\\';
  o[1] = second;
  return o + 2;
}

char* put(char* o, const char* s, size_t n) {
  std::memcpy(o, s, n);
  return o + n;
}

constexpr char kReplacement[] = "\xEF\xBF\xBD";  // U+FFFD

}  // namespace

size_t utf8_sequence_length(const unsigned char* p, size_t n) {
  unsigned char c = p[0];
  if (c < 0x80) return 1;
  if (c < 0xC2) return 0;  // continuation byte, or overlong 2-byte lead
  if (c < 0xE0) return (n >= 2 && is_cont(p[1])) ? 2 : 0;
  if (c < 0xF0) {
    if (n < 3 || !is_cont(p[2])) return 0;
    unsigned char c1 = p[1];
    if (c == 0xE0) return (c1 >= 0xA0 && c1 <= 0xBF) ? 3 : 0;  // overlong below
    if (c == 0xED) return (c1 >= 0x80 && c1 <= 0x9F) ? 3 : 0;  // surrogates above
    return is_cont(c1) ? 3 : 0;
  }
  if (c < 0xF5) {
    if (n < 4 || !is_cont(p[2]) || !is_cont(p[3])) return 0;
    unsigned char c1 = p[1];
    if (c == 0xF0) return (c1 >= 0x90 && c1 <= 0xBF) ? 4 : 0;  // overlong below
    if (c == 0xF4) return (c1 >= 0x80 && c1 <= 0x8F) ? 4 : 0;  // > U+10FFFF above
    return is_cont(c1) ? 4 : 0;
  }
  return 0;
}

bool append_json_string(LineWriter& w, std::string_view raw) {
  const auto* p = reinterpret_cast<const unsigned char*>(raw.data());
  const size_t n = raw.size();
  char* o = w.room(6 * n + 2);  // a byte becomes at most six (\u00XX)
  bool invalid = false;
  *o++ = '"';
  size_t run = 0;  // start of the bytes not yet written
  size_t i = 0;
  while (true) {
    i = skip_plain(p, i, n);
    if (i == n) break;
    unsigned char c = p[i];
    if (c < 0x80) {
      o = put_escape(put(o, raw.data() + run, i - run), c);
      run = ++i;
      continue;
    }
    if (size_t len = utf8_sequence_length(p + i, n - i)) {
      i += len;  // valid: part of the run
      continue;
    }
    o = put(put(o, raw.data() + run, i - run), kReplacement, 3);
    invalid = true;
    run = ++i;
  }
  o = put(o, raw.data() + run, n - run);
  *o++ = '"';
  w.advance(o);
  return invalid;
}

bool append_json_string(std::string& out, std::string_view raw) {
  LineWriter w(out, 6 * raw.size() + 2);
  return append_json_string(w, raw);
}

bool is_valid_utf8(std::string_view raw) {
  const auto* p = reinterpret_cast<const unsigned char*>(raw.data());
  const size_t n = raw.size();
  size_t i = 0;
  while (i < n) {
    while (i + 8 <= n) {
      uint64_t w;
      std::memcpy(&w, p + i, 8);
      if (w & kHighs) break;
      i += 8;
    }
    if (i == n) break;
    size_t len = utf8_sequence_length(p + i, n - i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

std::string_view valid_utf8(std::string_view raw, std::string* scratch) {
  if (is_valid_utf8(raw)) return raw;
  const auto* p = reinterpret_cast<const unsigned char*>(raw.data());
  scratch->clear();
  for (size_t i = 0; i < raw.size();) {
    if (size_t len = utf8_sequence_length(p + i, raw.size() - i)) {
      scratch->append(raw.data() + i, len);
      i += len;
    } else {
      scratch->append("\xEF\xBF\xBD");  // U+FFFD
      i++;
    }
  }
  return *scratch;
}

void append_base64(LineWriter& w, std::string_view raw) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const auto* p = reinterpret_cast<const unsigned char*>(raw.data());
  const size_t n = raw.size();
  char* o = w.room((n + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8) | p[i + 2];
    *o++ = kAlphabet[v >> 18];
    *o++ = kAlphabet[(v >> 12) & 63];
    *o++ = kAlphabet[(v >> 6) & 63];
    *o++ = kAlphabet[v & 63];
  }
  if (n - i == 1) {
    uint32_t v = uint32_t{p[i]} << 16;
    *o++ = kAlphabet[v >> 18];
    *o++ = kAlphabet[(v >> 12) & 63];
    *o++ = '=';
    *o++ = '=';
  } else if (n - i == 2) {
    uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8);
    *o++ = kAlphabet[v >> 18];
    *o++ = kAlphabet[(v >> 12) & 63];
    *o++ = kAlphabet[(v >> 6) & 63];
    *o++ = '=';
  }
  w.advance(o);
}

void append_base64(std::string& out, std::string_view raw) {
  LineWriter w(out, (raw.size() + 2) / 3 * 4);
  append_base64(w, raw);
}

}  // namespace waggle
