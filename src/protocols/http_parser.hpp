// HTTP/1.x exchanges (a request and its response) from the chunks the kernel captures of one
// TCP connection. Strict: on anything it cannot delimit exactly it gives up on the connection
// rather than report a wrong method, status or byte count.
//
// Limits and heuristics (see also http_message.hpp):
// - A connection seen mid-stream is ignored until a chunk (or a few chunks, when the first line
//   is split) begins with a complete, valid request line. A status line seen first only sets
//   the role; responses are parsed from the first request on. A request that was pipelined
//   behind one sent before the agent started would get that one's response: not detectable.
// - Header sections running into bytes the kernel did not capture (a syscall over kHeadBytes
//   cut before the blank line): the start line must have been captured (else the connection
//   gives up); the body's length is then unknown. Such a request lasts until its final
//   (non-1xx) response starts; a new chunk that begins with a request line before that is
//   ambiguous and makes the connection give up. Such a response lasts until the next request
//   starts, or the connection closes; if requests were already pipelined behind it, the
//   connection gives up.
// - Chunked bodies are parsed while their bytes are visible, and counted through uncaptured
//   bytes inside chunk data. When a chunk-size line falls in uncaptured bytes, the body is taken
//   to end with the first syscall whose last captured bytes are "\n0\r\n\r\n" (or that is
//   exactly "0\r\n\r\n"): a heuristic; trailer fields defeat it (the connection then waits for
//   close and reports nothing more).
// - A response without Content-Length or chunked coding is delimited by the close (RFC 9112
//   6.3), whatever its version or Connection header. HEAD, 1xx, 204 and 304 responses have no
//   body. Interim (1xx) responses count in the exchange's response_bytes; status is the final
//   one's. 101 and a 2xx answer to CONNECT end HTTP on the connection (upgraded()).
// - A syscall that begins with a whole start line (of the kind its direction carries) while a body
//   is still expected makes the connection give up: bytes are missing (written with sendfile or
//   splice, or lost on the way), or the message is ambiguous, and counts would be wrong.
// - Transfer-Encoding wins over Content-Length. A request whose final transfer coding is not
//   chunked, conflicting Content-Length fields, a Content-Length or chunk size over 1 TiB, a
//   header section over 16 KiB, obsolete line folding, control characters in header values or
//   a message starting in uncaptured bytes (after a body that ended in them) make it give up.
// - At most kMaxPending requests awaiting a response; completed exchanges wait in a list capped
//   at kMaxReady (beyond it they are counted in dropped()): call take_exchanges() after each
//   chunk. Buffered bytes per connection: one header line (<= 16 KiB), plus, before the first
//   request, a split first line (<= 16 KiB).
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "protocols/chunk.hpp"
#include "protocols/http_message.hpp"

namespace waggle::http {

// kServer: this process received the requests; kClient: it sent them.
enum class Role : uint8_t { kUnknown, kServer, kClient };

struct Exchange {
  Role role = Role::kUnknown;
  std::string method;           // GET, HEAD, POST, PUT, DELETE, CONNECT, OPTIONS, TRACE, PATCH or _OTHER
  std::string target;           // as on the request line
  int status = 0;               // of the final response
  uint64_t start_ns = 0;        // time of the chunk holding the first request byte
  uint64_t end_ns = 0;          // time of the chunk holding the last response byte
  uint64_t request_bytes = 0;   // start line, headers and body, as sent
  uint64_t response_bytes = 0;  // the same, interim responses included
  std::optional<TraceContext> trace;  // the request's traceparent
};

// True when `head`, the first bytes of a message, start with a standard method and a space
// ("GET ", ..., "PATCH ") or with "HTTP/1.". The kernel side applies the same test.
bool looks_like_http(std::string_view head);

// The nine standard methods, in a fixed order (the kernel's enum wg_http_method follows it).
const std::array<std::string_view, 9>& standard_methods();

// `method` if it is a standard method (case-sensitive), else "_OTHER" (OpenTelemetry's name for
// methods it does not know).
std::string_view method_name(std::string_view method);

class Connection {
 public:
  static constexpr size_t kMaxPending = 64;
  static constexpr size_t kMaxReady = 1024;
  static constexpr size_t kMaxSyncChunks = 64;

  void on_chunk(const protocols::Chunk& chunk);
  // A request parsed elsewhere (in the kernel), complete, as the connection's first or after
  // the connection was idle(): its response is parsed from the chunks that follow. `request` has the role, method, target,
  // start, request bytes, trace, and the bytes of interim responses already seen.
  void expect_response(Exchange request);
  // Completes a response delimited by the close; requests still waiting are dropped.
  void on_close(uint64_t time_ns);

  // Completed exchanges, in request order, since the last call.
  std::vector<Exchange> take_exchanges();
  // The same into `out` (cleared first), whose storage the connection keeps for the next ones:
  // no allocation per exchange.
  void take_exchanges(std::vector<Exchange>* out) {
    out->clear();
    out->swap(ready_);
  }

  // Known once a request or status line was seen.
  Role role() const { return role_; }
  bool gave_up() const { return state_ == State::kGaveUp; }
  const std::string& reason() const { return reason_; }  // why it gave up
  bool upgraded() const { return state_ == State::kUpgraded; }
  // Between exchanges: a request was seen, every one had its response, and no message is under
  // way (the next bytes can only begin a request).
  bool idle() const {
    return state_ == State::kActive && synced_ && !closed_ && inflight_.empty() && requests_.idle() &&
           responses_.idle() && !response_until_close_;
  }
  bool closed() const { return closed_; }
  uint64_t dropped() const { return dropped_; }

 private:
  enum class State { kActive, kUpgraded, kGaveUp };
  struct Pending {
    Exchange exchange;
    bool request_done = false;
    bool response_done = false;
    bool head = false;     // HEAD: the response has no body
    bool connect = false;  // CONNECT: a 2xx response starts a tunnel
  };
  struct OwnedChunk {
    protocols::Direction direction;
    uint64_t time_ns;
    uint64_t size;
    std::string head;
    std::string tail;
  };

  void sync(const protocols::Chunk& chunk);
  bool accepts(const StartLineShape& shape, protocols::Direction direction) const;
  void feed(const protocols::Chunk& chunk);
  void consume(bool request, std::string_view visible, uint64_t gap, uint64_t time_ns);
  bool begin_message(bool request, uint64_t time_ns);
  void on_request_event(MessageParser::Event event);
  void on_response_event(MessageParser::Event event);
  void on_response_head(Pending& p, bool cut);
  void request_done();
  void response_done(Pending& p);
  Pending* response_target();
  void flush(bool closing);
  void give_up(std::string reason);
  void release();

  State state_ = State::kActive;
  std::string reason_;
  bool closed_ = false;
  Role role_ = Role::kUnknown;
  bool synced_ = false;  // a request was seen: both directions are parsed
  protocols::Direction request_direction_ = protocols::Direction::kIngress;
  MessageParser requests_{true};
  MessageParser responses_{false};
  bool response_until_close_ = false;  // responses_ is until_end() for a close-delimited body
  std::deque<Pending> inflight_;
  std::vector<Exchange> ready_;
  uint64_t dropped_ = 0;
  std::vector<OwnedChunk> candidate_;  // before sync: chunks holding a split first line
  std::string candidate_line_;
  std::string joined_;  // head and tail of a chunk when they overlap
};

}  // namespace waggle::http
