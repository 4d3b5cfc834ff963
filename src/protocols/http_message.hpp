// HTTP/1.x message framing for one direction of a connection: start line, header lines and body
// (Content-Length, chunked, or delimited by the caller), over bytes of which some were never
// captured (see protocols::Chunk). It knows nothing of exchanges: http::Connection pairs the
// messages of the two directions and decides what a response's body is.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "protocols/trace_context.hpp"

namespace waggle::http {

// A start line plus header lines (or the trailer lines of a chunked body) longer than this is
// treated as garbage. It also caps what a parser buffers: one incomplete line.
inline constexpr size_t kMaxHeaderBytes = 16 * 1024;
// Larger Content-Length values or chunk sizes are treated as garbage.
inline constexpr uint64_t kMaxBodyLength = uint64_t{1} << 40;  // 1 TiB
// A chunk-size line (size and extensions) longer than this is treated as garbage.
inline constexpr size_t kMaxChunkLineBytes = 1024;

// What the bytes at the start of a message can still be: the first line (up to '\n') is
// checked, or all of `bytes` when it holds no '\n'. `complete` means the line is complete and
// valid: "METHOD SP target SP HTTP/1.x" or "HTTP/1.x SP 3DIGIT [SP reason]", CR optional.
struct StartLineShape {
  bool request = false;   // a request line, or a valid prefix of one
  bool response = false;  // a status line, or a valid prefix of one
  bool complete = false;
};
StartLineShape classify_start_line(std::string_view bytes);

// True when `c` may appear in a token (a method, a header name): RFC 9110 tchar.
bool is_token_char(unsigned char c);

// What a message's start line and headers said about it.
struct MessageHead {
  std::string method;  // requests: as sent
  std::string target;  // requests: as sent
  int status = 0;      // responses
  int minor_version = 0;
  std::optional<uint64_t> content_length;
  bool has_transfer_encoding = false;
  bool chunked = false;  // "chunked" is the final transfer coding
  std::optional<TraceContext> trace;  // requests: a valid traceparent header (the first one)
};

class MessageParser {
 public:
  enum class Event {
    kNeedMore,    // nothing to report: call again with the rest of the input
    kStartLine,   // the start line was parsed (head() has it)
    kHeaders,     // the header section ended (the blank line was consumed): call set_body()
    kHeadersCut,  // the header section runs into bytes that were not captured; the start line
                  // is known but not the body's length: call set_body() (the gap is consumed)
    kComplete,    // the message ended; the parser is idle
    kError,       // malformed: see error(); the parser stays in error
  };
  struct Step {
    Event event;
    uint64_t consumed;
  };
  enum class Body {
    kLength,    // `length` bytes (0: the message is complete at once)
    kChunked,   // chunked transfer coding
    kUntilEnd,  // everything until the caller calls end_message()
  };

  // `requests`: this direction carries requests, else responses.
  explicit MessageParser(bool requests) : requests_(requests) {}

  // Consumes the front of the input up to the next event: `visible` when it is not empty,
  // otherwise `gap` bytes that were not captured. An idle parser starts a message; an idle
  // parser given a gap fails (the start of a message is unknown).
  Step step(std::string_view visible, uint64_t gap);

  // After kHeaders or kHeadersCut. Returns true when the message is complete at once (a length
  // of 0): the parser is idle again.
  bool set_body(Body body, uint64_t length = 0);

  // Inside a chunked body whose framing was lost in uncaptured bytes: the caller calls
  // end_of_chunk() at the end of every chunk with its last captured bytes (empty when its end
  // was not captured). Heuristic: the body ends with that chunk when they end with the last
  // chunk, "0\r\n\r\n" (preceded by '\n' or at the start of the syscall: `at_start`). It returns
  // true then, and the parser is idle. Trailer fields after the zero chunk defeat it.
  bool blind() const { return state_ == State::kBlind; }
  bool end_of_chunk(std::string_view last_bytes, bool at_start);

  // Ends a kUntilEnd (or any) message: the parser is idle again.
  void end_message();

  bool idle() const { return state_ == State::kIdle; }
  bool failed() const { return state_ == State::kError; }
  bool until_end() const { return state_ == State::kUntilEnd; }
  // Past the header section, before the end of the message.
  bool in_body() const { return state_ != State::kIdle && state_ != State::kHead && state_ != State::kError; }
  const MessageHead& head() const { return head_; }
  const std::string& error() const { return error_; }

 private:
  enum class State {
    kIdle,
    kHead,       // start line and header lines
    kLength,     // remaining_ bytes of body
    kChunkSize,  // a chunk-size line
    kChunkData,  // remaining_ bytes of chunk data
    kChunkEnd,   // the CRLF after chunk data
    kTrailers,   // trailer lines up to a blank line
    kBlind,      // chunked, framing lost
    kUntilEnd,
    kError,
  };

  Step fail(std::string reason);
  Step step_head(std::string_view in);
  Step step_chunked(std::string_view in);
  // Takes one line from `in` (joined with what earlier calls buffered), without its "\r\n".
  // Returns false when `in` holds no '\n': then all of it is buffered (consumed = in.size()).
  bool take_line(std::string_view in, size_t* consumed, std::string_view* line);
  bool parse_start_line(std::string_view line);
  bool parse_header_line(std::string_view line);

  bool requests_;
  State state_ = State::kIdle;
  MessageHead head_;
  std::string line_;          // the current incomplete line
  size_t section_bytes_ = 0;  // of the header or trailer section so far
  bool start_line_done_ = false;
  uint64_t remaining_ = 0;
  std::string error_;
};

}  // namespace waggle::http
