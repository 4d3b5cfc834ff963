#include "protocols/trace_context.hpp"

#include <algorithm>

namespace waggle {
namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;  // uppercase is not allowed
}

// The 2 * n lowercase hex digits at the start of `text` into out[0..n).
bool read_hex(std::string_view text, uint8_t* out, size_t n) {
  for (size_t i = 0; i < n; i++) {
    int hi = hex_digit(text[2 * i]), lo = hex_digit(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return true;
}

bool all_zero(const auto& bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](uint8_t b) { return b == 0; });
}

}  // namespace

std::optional<TraceContext> parse_traceparent(std::string_view value) {
  // version "-" trace-id "-" parent-id "-" flags
  constexpr size_t kLength = 2 + 1 + 32 + 1 + 16 + 1 + 2;
  if (value.size() < kLength || value[2] != '-' || value[35] != '-' || value[52] != '-') return std::nullopt;
  uint8_t version = 0;
  if (!read_hex(value, &version, 1) || version == 0xff) return std::nullopt;
  // Version 00 is exactly this long; a later one may go on after a '-'.
  if (version == 0 ? value.size() != kLength : value.size() > kLength && value[kLength] != '-')
    return std::nullopt;
  TraceContext ctx;
  if (!read_hex(value.substr(3), ctx.trace_id.data(), ctx.trace_id.size()) ||
      !read_hex(value.substr(36), ctx.parent_id.data(), ctx.parent_id.size()) ||
      !read_hex(value.substr(53), &ctx.flags, 1) || all_zero(ctx.trace_id) || all_zero(ctx.parent_id))
    return std::nullopt;
  return ctx;
}

}  // namespace waggle
