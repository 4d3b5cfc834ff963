#include "protocols/http_message.hpp"

#include <algorithm>
#include <array>

namespace waggle::http {

namespace {

// How far a line matches a grammar: not at all, as a prefix that may still become valid, fully.
enum class Match { kNo, kPrefix, kFull };

constexpr std::string_view kVersion10 = "HTTP/1.0";
constexpr std::string_view kVersion11 = "HTTP/1.1";

bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

// Request targets: visible ASCII, plus bytes >= 0x80 (sent by some clients, unescaped UTF-8).
bool is_target_char(unsigned char c) { return (c > 0x20 && c < 0x7F) || c >= 0x80; }

// Reason phrases and field values: HTAB, SP, visible ASCII, obs-text.
bool is_text_char(unsigned char c) { return c == '\t' || (c >= 0x20 && c != 0x7F); }

// Matches "HTTP/1.0" or "HTTP/1.1" at the start of `s`; *used is its length when kFull.
Match match_version(std::string_view s, size_t* used) {
  if (s.size() < kVersion10.size()) {
    return kVersion10.starts_with(s) || kVersion11.starts_with(s) ? Match::kPrefix : Match::kNo;
  }
  *used = kVersion10.size();
  return s.starts_with(kVersion10) || s.starts_with(kVersion11) ? Match::kFull : Match::kNo;
}

// `line` has no '\n' nor final '\r'; `ended`: the line is complete.
Match match_request(std::string_view line, bool ended) {
  const Match more = ended ? Match::kNo : Match::kPrefix;
  size_t i = 0;
  while (i < line.size() && is_token_char(line[i])) ++i;
  if (i == line.size()) return more;
  if (i == 0 || line[i] != ' ') return Match::kNo;
  const size_t target = ++i;
  while (i < line.size() && is_target_char(line[i])) ++i;
  if (i == line.size()) return more;
  if (i == target || line[i] != ' ') return Match::kNo;
  size_t used = 0;
  const Match version = match_version(line.substr(i + 1), &used);
  if (version != Match::kFull) return version == Match::kNo ? Match::kNo : more;
  if (i + 1 + used != line.size()) return Match::kNo;
  return ended ? Match::kFull : Match::kPrefix;
}

Match match_status(std::string_view line, bool ended) {
  const Match more = ended ? Match::kNo : Match::kPrefix;
  size_t used = 0;
  const Match version = match_version(line, &used);
  if (version != Match::kFull) return version == Match::kNo ? Match::kNo : more;
  std::string_view rest = line.substr(used);
  if (rest.empty()) return more;
  if (rest[0] != ' ') return Match::kNo;
  rest.remove_prefix(1);
  for (size_t i = 0; i < 3; ++i) {
    if (i == rest.size()) return more;
    if (!is_digit(rest[i]) || (i == 0 && (rest[0] < '1' || rest[0] > '5'))) return Match::kNo;
  }
  rest.remove_prefix(3);
  if (!rest.empty() && rest[0] != ' ') return Match::kNo;
  if (!std::all_of(rest.begin(), rest.end(), [](unsigned char c) { return is_text_char(c); })) {
    return Match::kNo;
  }
  return ended ? Match::kFull : Match::kPrefix;
}

char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return ascii_lower(x) == ascii_lower(y); });
}

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

int hex_value(unsigned char c) {
  if (is_digit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

namespace {

// tchar (RFC 9110 5.6.2), one table lookup per byte: header names are checked on every message.
constexpr std::array<bool, 256> kTokenChars = [] {
  std::array<bool, 256> table{};
  for (int c = '0'; c <= '9'; ++c) table[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) table[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) table[c] = true;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) table[static_cast<unsigned char>(c)] = true;
  return table;
}();

}  // namespace

bool is_token_char(unsigned char c) { return kTokenChars[c]; }

namespace {

// `line` without its "\r\n" (or, when not `ended`, without a final '\r' that may start it).
StartLineShape classify_line(std::string_view line, bool ended) {
  const Match request = match_request(line, ended);
  const Match response = match_status(line, ended);
  return {request != Match::kNo, response != Match::kNo, request == Match::kFull || response == Match::kFull};
}

}  // namespace

StartLineShape classify_start_line(std::string_view bytes) {
  const size_t nl = bytes.find('\n');
  std::string_view line = bytes.substr(0, nl);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return classify_line(line, nl != std::string_view::npos);
}

MessageParser::Step MessageParser::fail(std::string reason) {
  state_ = State::kError;
  error_ = std::move(reason);
  line_.clear();
  line_.shrink_to_fit();
  return {Event::kError, 0};
}

bool MessageParser::take_line(std::string_view in, size_t* consumed, std::string_view* line) {
  const size_t nl = in.find('\n');
  if (nl == std::string_view::npos) {
    line_.append(in);
    *consumed = in.size();
    return false;
  }
  *consumed = nl + 1;
  if (line_.empty()) {
    *line = in.substr(0, nl);
  } else {
    line_.append(in.substr(0, nl));
    *line = line_;
  }
  if (!line->empty() && line->back() == '\r') line->remove_suffix(1);
  return true;
}

bool MessageParser::parse_start_line(std::string_view line) {
  const StartLineShape shape = classify_line(line, true);
  if (requests_) {
    if (!shape.complete || !shape.request) return false;
    const size_t sp1 = line.find(' ');
    const size_t sp2 = line.find(' ', sp1 + 1);
    head_.method = line.substr(0, sp1);
    head_.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    head_.minor_version = line.back() - '0';
  } else {
    if (!shape.complete || !shape.response) return false;
    head_.minor_version = line[7] - '0';
    head_.status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
  }
  return true;
}

bool MessageParser::parse_header_line(std::string_view line) {
  if (line.front() == ' ' || line.front() == '\t') {
    error_ = "obsolete header line folding";
    return false;
  }
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0 ||
      !std::all_of(line.begin(), line.begin() + colon, [](unsigned char c) { return is_token_char(c); })) {
    error_ = "malformed header line";
    return false;
  }
  const std::string_view name = line.substr(0, colon);
  const std::string_view value = trim_ows(line.substr(colon + 1));
  if (!std::all_of(value.begin(), value.end(), [](unsigned char c) { return is_text_char(c); })) {
    error_ = "control character in a header value";
    return false;
  }
  if (iequals(name, "Content-Length")) {
    // Digits only, and several Content-Length fields must agree (RFC 9112 6.3): anything else
    // is how requests get smuggled, and we could not know which length the peer used.
    if (value.empty() || value.size() > 13 ||
        !std::all_of(value.begin(), value.end(), [](unsigned char c) { return is_digit(c); })) {
      error_ = "invalid Content-Length";
      return false;
    }
    uint64_t n = 0;
    for (char c : value) n = n * 10 + static_cast<uint64_t>(c - '0');
    if (n > kMaxBodyLength) {
      error_ = "Content-Length too large";
      return false;
    }
    if (head_.content_length && *head_.content_length != n) {
      error_ = "conflicting Content-Length fields";
      return false;
    }
    head_.content_length = n;
  } else if (requests_ && iequals(name, "traceparent")) {
    if (!head_.trace) head_.trace = parse_traceparent(value);
  } else if (iequals(name, "Transfer-Encoding")) {
    // The final coding decides: "gzip, chunked" is chunked; several fields form one list (empty
    // list elements are allowed and skipped).
    head_.has_transfer_encoding = true;
    std::string_view rest = value;
    while (!rest.empty()) {
      const size_t comma = rest.find(',');
      const std::string_view coding = trim_ows(rest.substr(0, comma));
      if (!coding.empty()) head_.chunked = iequals(coding, "chunked");
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
  }
  return true;
}

MessageParser::Step MessageParser::step(std::string_view in, uint64_t gap) {
  switch (state_) {
    case State::kError:
      return {Event::kError, 0};
    case State::kIdle:
      if (in.empty()) return fail("the start of a message was not captured");
      head_ = MessageHead{};
      line_.clear();
      section_bytes_ = 0;
      start_line_done_ = false;
      state_ = State::kHead;
      [[fallthrough]];
    case State::kHead:
      if (!in.empty()) return step_head(in);
      if (!start_line_done_) return fail("the start line was not captured");
      line_.clear();
      return {Event::kHeadersCut, gap};
    case State::kLength: {
      const uint64_t n = std::min<uint64_t>(remaining_, in.empty() ? gap : in.size());
      remaining_ -= n;
      if (remaining_ > 0) return {Event::kNeedMore, n};
      state_ = State::kIdle;
      return {Event::kComplete, n};
    }
    case State::kChunkData:
      if (in.empty()) {
        const uint64_t n = std::min(remaining_, gap);
        remaining_ -= n;
        if (remaining_ == 0) state_ = State::kChunkEnd;
        return {Event::kNeedMore, n};
      }
      return step_chunked(in);
    case State::kChunkSize:
    case State::kChunkEnd:
    case State::kTrailers:
      if (in.empty()) {
        // The framing is somewhere in bytes we did not see.
        state_ = State::kBlind;
        line_.clear();
        return {Event::kNeedMore, gap};
      }
      return step_chunked(in);
    case State::kBlind:
    case State::kUntilEnd:
      return {Event::kNeedMore, in.empty() ? gap : in.size()};
  }
  return fail("bad state");
}

MessageParser::Step MessageParser::step_head(std::string_view in) {
  size_t used = 0;
  while (used < in.size()) {
    size_t n = 0;
    std::string_view line;
    const bool complete = take_line(in.substr(used), &n, &line);
    used += n;
    section_bytes_ += n;
    if (section_bytes_ > kMaxHeaderBytes) return fail("header section longer than 16 KiB");
    if (!complete) {
      // Refuse garbage early rather than after 16 KiB of it: its first 32 bytes are enough to
      // tell (always those, so that where chunks split the line does not change the verdict).
      constexpr size_t kEarlyCheck = 32;
      if (!start_line_done_ && line_.size() - n < kEarlyCheck) {
        const StartLineShape shape = classify_start_line(std::string_view(line_).substr(0, kEarlyCheck));
        if (!(requests_ ? shape.request : shape.response)) {
          return fail(requests_ ? "not a request line" : "not a status line");
        }
      }
      return {Event::kNeedMore, used};
    }
    if (!start_line_done_) {
      if (!parse_start_line(line)) return fail(requests_ ? "not a request line" : "not a status line");
      start_line_done_ = true;
      line_.clear();
      return {Event::kStartLine, used};
    } else if (line.empty()) {
      line_.clear();
      return {Event::kHeaders, used};
    } else if (!parse_header_line(line)) {
      std::string reason = std::move(error_);
      return fail(std::move(reason));
    }
    line_.clear();
  }
  return {Event::kNeedMore, used};
}

MessageParser::Step MessageParser::step_chunked(std::string_view in) {
  size_t n = 0;
  std::string_view line;
  switch (state_) {
    case State::kChunkData: {
      const uint64_t take = std::min<uint64_t>(remaining_, in.size());
      remaining_ -= take;
      if (remaining_ == 0) state_ = State::kChunkEnd;
      return {Event::kNeedMore, take};
    }
    case State::kChunkSize: {
      if (!take_line(in, &n, &line)) {
        if (line_.size() > kMaxChunkLineBytes) return fail("chunk size line too long");
        return {Event::kNeedMore, n};
      }
      if (line.size() > kMaxChunkLineBytes) return fail("chunk size line too long");
      uint64_t size = 0;
      size_t i = 0;
      for (; i < line.size() && hex_value(line[i]) >= 0; ++i) {
        size = size * 16 + static_cast<uint64_t>(hex_value(line[i]));
        if (size > kMaxBodyLength) return fail("chunk size too large");
      }
      // After the digits: nothing, or chunk extensions (";name=value", BWS allowed before ';').
      const std::string_view rest = trim_ows(line.substr(i));
      if (i == 0 || (!rest.empty() && rest[0] != ';')) return fail("invalid chunk size");
      line_.clear();
      remaining_ = size;
      section_bytes_ = 0;
      state_ = size == 0 ? State::kTrailers : State::kChunkData;
      return {Event::kNeedMore, n};
    }
    case State::kChunkEnd:
      if (!take_line(in, &n, &line)) {
        if (line_.size() > 1 || (line_.size() == 1 && line_[0] != '\r')) {
          return fail("chunk data not followed by CRLF");
        }
        return {Event::kNeedMore, n};
      }
      if (!line.empty()) return fail("chunk data not followed by CRLF");
      line_.clear();
      state_ = State::kChunkSize;
      return {Event::kNeedMore, n};
    case State::kTrailers: {
      const bool complete = take_line(in, &n, &line);
      section_bytes_ += n;
      if (section_bytes_ > kMaxHeaderBytes) return fail("trailer section longer than 16 KiB");
      if (!complete) return {Event::kNeedMore, n};
      if (line.empty()) {
        line_.clear();
        state_ = State::kIdle;
        return {Event::kComplete, n};
      }
      // Trailer fields are checked like header fields but frame nothing.
      MessageHead saved = head_;
      const bool ok = parse_header_line(line);
      head_ = std::move(saved);
      if (!ok) {
        std::string reason = std::move(error_);
        return fail(std::move(reason));
      }
      line_.clear();
      return {Event::kNeedMore, n};
    }
    default:
      return fail("bad state");
  }
}

bool MessageParser::set_body(Body body, uint64_t length) {
  line_.clear();
  switch (body) {
    case Body::kLength:
      remaining_ = length;
      state_ = length == 0 ? State::kIdle : State::kLength;
      return length == 0;
    case Body::kChunked:
      state_ = State::kChunkSize;
      return false;
    case Body::kUntilEnd:
      state_ = State::kUntilEnd;
      return false;
  }
  return false;
}

bool MessageParser::end_of_chunk(std::string_view last, bool at_start) {
  if (state_ != State::kBlind) return false;
  constexpr std::string_view kLastChunk = "0\r\n\r\n";
  if (!last.ends_with(kLastChunk)) return false;
  const size_t before = last.size() - kLastChunk.size();
  if (before == 0 ? !at_start : last[before - 1] != '\n') return false;
  state_ = State::kIdle;
  return true;
}

void MessageParser::end_message() {
  if (state_ == State::kError) return;
  state_ = State::kIdle;
  line_.clear();
}

}  // namespace waggle::http
