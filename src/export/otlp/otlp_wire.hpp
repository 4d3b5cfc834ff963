// Protobuf's wire format written straight into a buffer, for the messages sent once per span
// (building them as protobuf objects costs several allocations per attribute). The output is
// checked by parsing it with the classes generated from the OTLP definitions (tests/unit).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "export/json_string.hpp"

namespace waggle::otlp::wire {

inline void varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(char(v | 0x80));
    v >>= 7;
  }
  out.push_back(char(v));
}

inline size_t varint_size(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    n++;
  }
  return n;
}

enum Type : uint8_t { kVarint = 0, kFixed64 = 1, kLength = 2 };

inline void tag(std::string& out, uint32_t field, Type type) { out.push_back(char(field << 3 | type)); }  // fields < 16

inline void uint_field(std::string& out, uint32_t field, uint64_t v) {
  tag(out, field, kVarint);
  varint(out, v);
}

inline void fixed64_field(std::string& out, uint32_t field, uint64_t v) {
  tag(out, field, kFixed64);
  for (int i = 0; i < 8; i++) out.push_back(char(v >> (8 * i)));
}

inline void bytes_field(std::string& out, uint32_t field, std::string_view bytes) {
  tag(out, field, kLength);
  varint(out, bytes.size());
  out.append(bytes);
}

// The head of a KeyValue (key 1, then value 2: an AnyValue of `any` bytes) as field `field`.
inline void attribute_head(std::string& out, uint32_t field, std::string_view key, size_t any) {
  size_t kv = 1 + varint_size(key.size()) + key.size() + 1 + varint_size(any) + any;
  tag(out, field, kLength);
  varint(out, kv);
  bytes_field(out, 1, key);
  tag(out, 2, kLength);
  varint(out, any);
}

// A protobuf string: UTF-8, bytes that are not replaced by U+FFFD (targets and routes are what
// clients sent; a strict decoder rejects a whole request for one bad string).
inline void string_field(std::string& out, uint32_t field, std::string_view text) {
  thread_local std::string scratch;
  bytes_field(out, field, valid_utf8(text, &scratch));
}

// A KeyValue whose AnyValue is a string_value (1) or an int_value (3).
inline void string_attribute(std::string& out, uint32_t field, std::string_view key, std::string_view value) {
  thread_local std::string scratch;
  value = valid_utf8(value, &scratch);
  attribute_head(out, field, key, 1 + varint_size(value.size()) + value.size());
  bytes_field(out, 1, value);
}

inline void int_attribute(std::string& out, uint32_t field, std::string_view key, int64_t value) {
  attribute_head(out, field, key, 1 + varint_size(uint64_t(value)));
  uint_field(out, 3, uint64_t(value));
}

}  // namespace waggle::otlp::wire
