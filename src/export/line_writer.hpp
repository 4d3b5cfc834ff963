// A line written at the end of a std::string through a cursor. Room is made in the string up
// front and grown only when a piece would not fit, so a piece costs a compare and a copy, where
// std::string::append costs a call into the library (and one into memcpy) per piece: a JSON
// line has thirty of them. When the writer goes, the string is cut to what was written.
#pragma once

#include <fmt/compile.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <string>
#include <string_view>

// Inlined even at -O2: each is a compare and a copy, and a call would cost more than the piece.
#define WG_INLINE [[gnu::always_inline]] inline

namespace waggle {

class LineWriter {
 public:
  // `expected`: room made at once (more is made when needed).
  explicit LineWriter(std::string& out, size_t expected = 1024) : out_(out), start_(out.size()) {
    resize(out, start_ + expected);
    p_ = out.data() + start_;
    end_ = out.data() + out.size();
  }
  ~LineWriter() { out_.resize(static_cast<size_t>(p_ - out_.data())); }
  LineWriter(const LineWriter&) = delete;
  LineWriter& operator=(const LineWriter&) = delete;

  // The cursor, with room for n more bytes after it; advance(p) moves it to p (at most n on).
  WG_INLINE char* room(size_t n) {
    if (static_cast<size_t>(end_ - p_) < n) grow(n);
    return p_;
  }
  WG_INLINE void advance(char* p) { p_ = p; }

  template <size_t N>
  WG_INLINE void lit(const char (&s)[N]) {  // a literal, its length known when compiled
    put(s, N - 1);
  }
  WG_INLINE void text(std::string_view s) { put(s.data(), s.size()); }
  WG_INLINE void ch(char c) { *room(1) = c, ++p_; }
  WG_INLINE void uint(uint64_t v) { p_ = fmt::format_to(room(20), FMT_COMPILE("{}"), v); }
  WG_INLINE void sint(int64_t v) { p_ = fmt::format_to(room(20), FMT_COMPILE("{}"), v); }
  // Bytes as lowercase hex digits, two per byte (trace and span ids).
  template <typename Bytes>
  void hex(const Bytes& bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    char* p = room(2 * std::size(bytes));
    for (uint8_t b : bytes) {
      *p++ = kDigits[b >> 4];
      *p++ = kDigits[b & 15];
    }
    p_ = p;
  }

 private:
  WG_INLINE void put(const char* s, size_t n) {
    std::memcpy(room(n), s, n);
    p_ += n;
  }
  [[gnu::noinline]] void grow(size_t n) {  // the line's room at least doubles: amortized O(1) per byte
    const size_t used = static_cast<size_t>(p_ - out_.data());
    resize(out_, used + n + std::max<size_t>(256, used - start_));
    p_ = out_.data() + used;
    end_ = out_.data() + out_.size();
  }

  // Makes s at least n long (libstdc++ 12's resize_and_overwrite may give it its whole new
  // capacity), without zeroing the bytes it adds (line_room.cpp); or cuts it to n.
  static void resize(std::string& s, size_t n);

  std::string& out_;
  size_t start_;  // where the line starts in out_
  char* p_;
  char* end_;
};

}  // namespace waggle

#undef WG_INLINE
