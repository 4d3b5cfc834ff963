// The kernel parser's eight-bytes-at-a-time byte classes against the byte-by-byte rules they
// replace, for every byte value at every position and next to every other byte value.
#include "sensors/network/http_bytes.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>

namespace {

bool name_char(uint8_t c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '.';
}

bool text_char(uint8_t c) { return (c >= 0x20 || c == '\t') && c != 0x7f; }

uint64_t word(const uint8_t (&bytes)[8]) {
  uint64_t w;
  std::memcpy(&w, bytes, 8);  // as the kernel loads it: the first byte is the lowest
  return w;
}

// The mask the byte rule gives: bit 7 of every byte that fails it.
template <typename Rule>
uint64_t expected(const uint8_t (&bytes)[8], Rule rule) {
  uint64_t mask = 0;
  for (int i = 0; i < 8; i++)
    if (!rule(bytes[i])) mask |= 0x80ULL << (8 * i);
  return mask;
}

TEST(HttpBytes, EveryByteValueAtEveryPositionIsClassedAsByteByByte) {
  for (int pos = 0; pos < 8; pos++)
    for (int b = 0; b < 256; b++) {
      uint8_t bytes[8];
      std::memset(bytes, 'k', 8);
      bytes[pos] = uint8_t(b);
      ASSERT_EQ(http_bytes_not_name(word(bytes)), expected(bytes, name_char)) << "byte " << b << " at " << pos;
      ASSERT_EQ(http_bytes_not_text(word(bytes)), expected(bytes, text_char)) << "byte " << b << " at " << pos;
    }
}

TEST(HttpBytes, NoByteChangesTheAnswerForItsNeighbours) {
  // Every pair of byte values side by side, at every pair of adjacent positions, the rest
  // name and text characters: a carry or borrow between bytes would show here.
  for (int pos = 0; pos < 7; pos++)
    for (int a = 0; a < 256; a++)
      for (int b = 0; b < 256; b++) {
        uint8_t bytes[8];
        std::memset(bytes, '0', 8);
        bytes[pos] = uint8_t(a);
        bytes[pos + 1] = uint8_t(b);
        uint64_t w = word(bytes);
        ASSERT_EQ(http_bytes_not_name(w), expected(bytes, name_char)) << a << "," << b << " at " << pos;
        ASSERT_EQ(http_bytes_not_text(w), expected(bytes, text_char)) << a << "," << b << " at " << pos;
      }
}

TEST(HttpBytes, TheFirstMarkedByteIsTheLowestInMemory) {
  for (int first = 0; first < 8; first++)
    for (int later = first; later < 8; later++) {
      uint64_t mask = (0x80ULL << (8 * first)) | (0x80ULL << (8 * later));
      EXPECT_EQ(http_bytes_first(mask), unsigned(first)) << first << "," << later;
    }
  uint8_t line[8] = {'H', 'o', 's', 't', ':', ' ', 'a', '\r'};
  EXPECT_EQ(http_bytes_first(http_bytes_not_name(word(line))), 4u);  // the colon
  EXPECT_EQ(http_bytes_first(http_bytes_not_text(word(line))), 7u);  // the CR
}

}  // namespace
