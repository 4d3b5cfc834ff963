// libFuzzer harness for http::Connection. The first byte picks the mode:
//
// Plan mode (bit 7 clear): bits 0-4 give n (1..32) plan entries of 3 bytes each, [flags, len,
// extra]; the rest of the input is the data. Entries are applied in turn, cyclically, each taking
// the next piece of the data as one syscall:
//   flags bit 0: direction (0 ingress, 1 egress)
//   flags bits 1-2: 0 whole (size = piece, captured as the kernel does: 512-byte head, 16-byte
//                   tail); 1 cut (head, then extra * 61 + 1 unseen bytes, then up to 16 tail
//                   bytes); 2 short head (the kernel read only the head: extra * 7 + 1 more bytes,
//                   no tail); 3 like 1 with extra << 12 unseen bytes
//   flags bit 3: close the connection after this chunk
//   flags bits 5-6: high bits of the piece length (len | bits << 8, so up to 1023)
// Checks what must hold whatever the input: byte counts within what was sent, sane statuses and
// times.
//
// Differential mode (bit 7 set): the data is the request stream, then 0xFF, then the response
// stream. Both are fed twice with different chunk boundaries (all chunks fully captured, the first
// one the same so that both sync alike); the exchanges must not depend on the boundaries.
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "protocols/http_parser.hpp"

namespace {

using waggle::http::Connection;
using waggle::http::Exchange;
using waggle::http::Role;
using waggle::protocols::Chunk;
using waggle::protocols::Direction;
using waggle::protocols::kHeadBytes;
using waggle::protocols::kTailBytes;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    __builtin_trap();
  }
}

void check_exchanges(const std::vector<Exchange>& all, Role role, const uint64_t sent[2]) {
  const auto expect = [&](bool ok, const char* what) {
    if (ok) return;
    for (const Exchange& e : all) {
      std::fprintf(stderr, "exchange: %s %s %d %llu-%llu %llu %llu\n", e.method.c_str(), e.target.c_str(),
                   e.status, static_cast<unsigned long long>(e.start_ns),
                   static_cast<unsigned long long>(e.end_ns),
                   static_cast<unsigned long long>(e.request_bytes),
                   static_cast<unsigned long long>(e.response_bytes));
    }
    check(false, what);
  };
  uint64_t request_bytes = 0, response_bytes = 0;
  for (const Exchange& e : all) {
    expect(e.role == role && role != Role::kUnknown, "exchange role");
    expect(!e.method.empty() && !e.target.empty(), "method and target");
    expect(e.status >= 100 && e.status <= 599, "status");
    expect(e.end_ns >= e.start_ns, "end before start");
    expect(e.request_bytes > 0 && e.response_bytes > 0, "empty message");
    request_bytes += e.request_bytes;
    response_bytes += e.response_bytes;
  }
  // Index 0: ingress. A server receives its requests.
  const uint64_t requests_sent = role == Role::kServer ? sent[0] : sent[1];
  const uint64_t responses_sent = role == Role::kServer ? sent[1] : sent[0];
  expect(request_bytes <= requests_sent, "more request bytes than were sent");
  expect(response_bytes <= responses_sent, "more response bytes than were received");
}

void plan_mode(const uint8_t* data, size_t size) {
  const size_t entries = (data[0] & 31) + 1;
  size_t pos = 1;
  std::vector<uint8_t> plan(data + pos, data + std::min(size, pos + entries * 3));
  pos += plan.size();
  if (plan.size() < 3) plan = {0, 0xFF, 0};
  const std::string_view input(reinterpret_cast<const char*>(data) + pos, size - pos);

  Connection conn;
  std::vector<Exchange> all;
  uint64_t sent[2] = {0, 0};
  Role role = Role::kUnknown;
  size_t offset = 0;
  for (size_t i = 0; offset < input.size() && i < 4096; ++i) {
    const uint8_t* entry = &plan[(i % (plan.size() / 3)) * 3];
    const uint8_t flags = entry[0], extra = entry[2];
    const size_t length = std::min<size_t>(entry[1] | ((flags >> 5) & 3) << 8, input.size() - offset);
    const std::string_view piece = input.substr(offset, length);
    offset += length;
    Chunk c{flags & 1 ? Direction::kEgress : Direction::kIngress,
            i,
            piece.size(),
            piece.substr(0, kHeadBytes),
            {}};
    switch ((flags >> 1) & 3) {
      case 0:
        if (piece.size() > kHeadBytes) c.tail = piece.substr(piece.size() - kTailBytes);
        break;
      case 1:
      case 3: {
        const uint64_t gap = ((flags >> 1) & 3) == 1 ? extra * 61u + 1 : uint64_t{extra} << 12;
        c.tail = piece.substr(c.head.size(), kTailBytes);
        c.size = c.head.size() + gap + c.tail.size();
        break;
      }
      case 2:
        c.size = c.head.size() + extra * 7u + 1;
        break;
    }
    if (!conn.closed()) sent[flags & 1] += c.size;
    conn.on_chunk(c);
    if (conn.role() != Role::kUnknown) role = conn.role();
    if (flags & 8) conn.on_close(i);
    for (Exchange& e : conn.take_exchanges()) all.push_back(std::move(e));
  }
  conn.on_close(1u << 20);
  for (Exchange& e : conn.take_exchanges()) all.push_back(std::move(e));
  check(conn.role() == Role::kUnknown || conn.role() == role, "role changed");
  check_exchanges(all, conn.role(), sent);
  check(!conn.gave_up() || !conn.reason().empty(), "gave up without a reason");
}

struct Outcome {
  std::vector<std::string> exchanges;
  bool gave_up;
  bool upgraded;
  std::string reason;
};

// Feeds the streams in fully captured chunks: `first` bytes of requests, then pieces of the
// sizes `next` returns.
template <typename Next>
Outcome run(std::string_view requests, std::string_view responses, size_t first, Next next) {
  Connection conn;
  uint64_t t = 0;
  const auto feed = [&](Direction d, std::string_view s, size_t size) {
    while (!s.empty()) {
      const std::string_view piece = s.substr(0, size);
      s.remove_prefix(piece.size());
      conn.on_chunk(Chunk{d, ++t, piece.size(), piece, {}});
      size = next();
    }
  };
  feed(Direction::kIngress, requests, first);
  feed(Direction::kEgress, responses, next());
  conn.on_close(++t);
  Outcome out{{}, conn.gave_up(), conn.upgraded(), conn.reason()};
  for (const Exchange& e : conn.take_exchanges()) {
    out.exchanges.push_back(e.method + " " + e.target + " " + std::to_string(e.status) + " " +
                            std::to_string(e.request_bytes) + " " + std::to_string(e.response_bytes));
  }
  return out;
}

void differential_mode(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  const size_t split = input.find('\xFF');
  const std::string_view requests = input.substr(0, split);
  const std::string_view responses = split == std::string_view::npos ? "" : input.substr(split + 1);
  // Only a first chunk holding a whole request line syncs both runs alike (otherwise where they
  // sync depends on the boundaries, by design).
  const size_t first = requests.find('\n') + 1;
  if (first == 0 || first > kHeadBytes) return;
  const waggle::http::StartLineShape shape = waggle::http::classify_start_line(requests);
  if (!shape.complete || !shape.request) return;
  const size_t fixed = (data[0] & 63) + 1;
  uint32_t state = static_cast<uint32_t>(size) * 2654435761u;
  const Outcome a = run(requests, responses, first, [&] { return fixed; });
  const Outcome b = run(requests, responses, first, [&] {
    state = state * 1103515245u + 12345u;
    return size_t{(state >> 16) % kHeadBytes + 1};
  });
  // That heuristic looks at where syscalls start: split-dependent by design.
  constexpr std::string_view kSplitDependent = "start line inside a body (bytes missing?)";
  if (a.reason == kSplitDependent || b.reason == kSplitDependent) return;
  check(a.gave_up == b.gave_up, "gave up with one split only");
  check(a.upgraded == b.upgraded, "upgraded with one split only");
  if (a.exchanges != b.exchanges) {
    for (const std::string& e : a.exchanges) std::fprintf(stderr, "a: %s\n", e.c_str());
    for (const std::string& e : b.exchanges) std::fprintf(stderr, "b: %s\n", e.c_str());
  }
  check(a.exchanges == b.exchanges, "exchanges depend on chunk boundaries");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  if (data[0] & 0x80) {
    differential_mode(data, size);
  } else {
    plan_mode(data, size);
  }
  return 0;
}
