// W3C Trace Context: the `traceparent` header a request carries, which a span made of that
// request joins (https://www.w3.org/TR/trace-context/).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace waggle {

struct TraceContext {
  std::array<uint8_t, 16> trace_id{};
  std::array<uint8_t, 8> parent_id{};  // the caller's span: the request as the caller knows it
  uint8_t flags = 0;                   // bit 0: sampled

  bool operator==(const TraceContext&) const = default;
};

// "00-<32 hex>-<16 hex>-<2 hex>", lowercase hex, neither id all zeros. A later version
// (01..fe) is read the same way and may carry more after a '-'; version ff is invalid.
std::optional<TraceContext> parse_traceparent(std::string_view value);

}  // namespace waggle
