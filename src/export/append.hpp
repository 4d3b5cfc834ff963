// Small appenders shared by the line formatters: numbers and literals into a std::string,
// without iostreams or temporary strings (they run once per event).
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace waggle {

inline constexpr uint64_t kNsPerSec = 1'000'000'000;

inline void append_uint(std::string& out, uint64_t v) {
  fmt::format_int f(v);
  out.append(f.data(), f.size());
}

inline void append_int(std::string& out, int64_t v) {
  fmt::format_int f(v);
  out.append(f.data(), f.size());
}

inline void append_lit(std::string& out, std::string_view s) { out.append(s.data(), s.size()); }

// Bytes as lowercase hex digits, two per byte (trace and span ids).
template <typename Bytes>
inline void append_hex(std::string& out, const Bytes& bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
}

}  // namespace waggle
