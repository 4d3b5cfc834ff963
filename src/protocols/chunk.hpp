// What the kernel side captures of one read-like or write-like syscall on a socket: the parsers'
// only input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace waggle::protocols {

// Ingress: the process received the bytes; egress: it sent them.
enum class Direction : uint8_t { kIngress, kEgress };

// The kernel copies at most this much of the start of a syscall's data, and this much of its end
// when the syscall carried more than kHeadBytes.
constexpr size_t kHeadBytes = 512;
constexpr size_t kTailBytes = 16;

// One syscall's data. Chunks of one connection arrive in order (both directions interleaved as
// they happened). `head` is the first min(size, kHeadBytes) bytes, or fewer when the kernel
// could not read them all (the rest is then unknown); `tail` is empty unless size > head.size(),
// and then holds the last bytes of the syscall (it may overlap `head`).
struct Chunk {
  Direction direction;
  uint64_t time_ns;
  uint64_t size;  // bytes the syscall carried, seen or not
  std::string_view head;
  std::string_view tail;
};

}  // namespace waggle::protocols
