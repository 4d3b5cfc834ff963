#include "protocols/http_parser.hpp"

#include <array>
#include <utility>

namespace waggle::http {

using protocols::Chunk;
using protocols::Direction;

namespace {

constexpr std::array<std::string_view, 9> kMethods = {"GET",     "HEAD",    "POST",  "PUT",  "DELETE",
                                                      "CONNECT", "OPTIONS", "TRACE", "PATCH"};

}  // namespace

bool looks_like_http(std::string_view head) {
  if (head.starts_with("HTTP/1.")) return true;
  for (std::string_view method : kMethods) {
    if (head.size() > method.size() && head.starts_with(method) && head[method.size()] == ' ') return true;
  }
  return false;
}

const std::array<std::string_view, 9>& standard_methods() { return kMethods; }

std::string_view method_name(std::string_view method) {
  for (std::string_view known : kMethods) {
    if (method == known) return known;
  }
  return "_OTHER";
}

void Connection::on_chunk(const Chunk& chunk) {
  if (state_ != State::kActive || closed_ || chunk.size == 0) return;
  if (chunk.head.size() > chunk.size) return give_up("chunk head longer than the chunk");
  if (synced_) return feed(chunk);
  sync(chunk);
}

void Connection::expect_response(Exchange request) {
  if (state_ != State::kActive || closed_) return;
  if ((synced_ && (!idle() || request.role != role_)) || !candidate_.empty() || request.role == Role::kUnknown)
    return give_up("a request handed over to a connection in the middle of an exchange");
  synced_ = true;
  role_ = request.role;
  request_direction_ = role_ == Role::kServer ? Direction::kIngress : Direction::kEgress;
  Pending p;
  p.head = request.method == "HEAD";
  p.connect = request.method == "CONNECT";
  p.request_done = true;
  p.exchange = std::move(request);
  inflight_.push_back(std::move(p));
}

bool Connection::accepts(const StartLineShape& shape, Direction direction) const {
  // Once a status line gave the role, only requests in the request direction start the parse.
  if (role_ == Role::kUnknown) return shape.request || shape.response;
  return shape.request && direction == request_direction_;
}

// Before the first request: looks for a chunk (or a run of fully captured chunks of one
// direction) that begins with a complete, valid start line.
void Connection::sync(const Chunk& chunk) {
  if (!candidate_.empty()) {
    const bool continues = chunk.direction == candidate_.front().direction;
    if (continues) {
      candidate_line_.append(chunk.head);
      const StartLineShape shape = classify_start_line(candidate_line_);
      if (!accepts(shape, chunk.direction)) {
        // Not a start line after all; the chunk may begin one itself.
      } else if (!shape.complete) {
        const bool whole = chunk.head.size() == chunk.size;
        if (whole && candidate_.size() < kMaxSyncChunks && candidate_line_.size() <= kMaxHeaderBytes) {
          candidate_.push_back(
              {chunk.direction, chunk.time_ns, chunk.size, std::string(chunk.head), std::string(chunk.tail)});
          return;
        }
      } else if (shape.request) {
        std::vector<OwnedChunk> replay = std::move(candidate_);
        candidate_.clear();
        candidate_line_.clear();
        synced_ = true;
        request_direction_ = chunk.direction;
        role_ = chunk.direction == Direction::kIngress ? Role::kServer : Role::kClient;
        for (const OwnedChunk& c : replay) {
          feed({c.direction, c.time_ns, c.size, c.head, c.tail});
        }
        return feed(chunk);
      } else {
        // A status line split across chunks: it gives the role, and its response is ignored.
        candidate_.clear();
        candidate_line_.clear();
        role_ = chunk.direction == Direction::kEgress ? Role::kServer : Role::kClient;
        request_direction_ = chunk.direction == Direction::kEgress ? Direction::kIngress : Direction::kEgress;
        return;
      }
    }
    candidate_.clear();
    candidate_line_.clear();
  }

  const StartLineShape shape = classify_start_line(chunk.head);
  if (!accepts(shape, chunk.direction)) return;
  if (!shape.complete) {
    if (chunk.head.size() == chunk.size) {
      candidate_.push_back(
          {chunk.direction, chunk.time_ns, chunk.size, std::string(chunk.head), std::string(chunk.tail)});
      candidate_line_.assign(chunk.head);
    }
    return;
  }
  if (shape.response) {
    role_ = chunk.direction == Direction::kEgress ? Role::kServer : Role::kClient;
    request_direction_ = chunk.direction == Direction::kEgress ? Direction::kIngress : Direction::kEgress;
    return;
  }
  synced_ = true;
  request_direction_ = chunk.direction;
  role_ = chunk.direction == Direction::kIngress ? Role::kServer : Role::kClient;
  feed(chunk);
}

// Splits the chunk into what was captured and what was not: head, gap, tail.
void Connection::feed(const Chunk& chunk) {
  if (state_ != State::kActive) return;  // gave up while replaying the chunks before it
  const bool request = chunk.direction == request_direction_;
  const uint64_t head_size = chunk.head.size();
  std::string_view first = chunk.head;
  uint64_t gap = chunk.size - head_size;
  std::string_view last;
  if (!chunk.tail.empty() && chunk.tail.size() <= chunk.size && chunk.size > head_size) {
    const uint64_t tail_start = chunk.size - chunk.tail.size();
    if (tail_start <= head_size) {
      // Head and tail overlap or touch: the whole syscall was captured.
      joined_.assign(chunk.head);
      joined_.append(chunk.tail.substr(head_size - tail_start));
      first = joined_;
      gap = 0;
    } else {
      gap = tail_start - head_size;
      last = chunk.tail;
    }
  }

  MessageParser& parser = request ? requests_ : responses_;
  if (parser.in_body()) {
    // A syscall inside a body that begins with a whole start line: for a request of unknown
    // length, the next request or its body, no telling; otherwise most likely bytes we never got
    // (sent with sendfile or splice, or lost) and what follows would be mis-measured.
    const StartLineShape shape = classify_start_line(first);
    if (shape.complete && (request ? shape.request : shape.response)) {
      return give_up(request && requests_.until_end() ? "request line after a request of unknown length"
                                                      : "start line inside a body (bytes missing?)");
    }
  }
  consume(request, first, 0, chunk.time_ns);
  consume(request, {}, gap, chunk.time_ns);
  consume(request, last, 0, chunk.time_ns);
  if (state_ != State::kActive || !parser.blind()) return;
  const std::string_view end = !last.empty() ? last : gap == 0 ? first : std::string_view();
  if (!parser.end_of_chunk(end, last.empty())) return;
  if (request) return request_done();
  if (Pending* p = response_target()) response_done(*p);
}

void Connection::consume(bool request, std::string_view visible, uint64_t gap, uint64_t time_ns) {
  MessageParser& parser = request ? requests_ : responses_;
  while ((!visible.empty() || gap > 0) && state_ == State::kActive) {
    if (parser.idle() && !begin_message(request, time_ns)) return;
    const MessageParser::Step step = parser.step(visible, gap);
    if (request) {
      inflight_.back().exchange.request_bytes += step.consumed;
    } else if (Pending* p = response_target(); p && step.consumed > 0) {
      p->exchange.response_bytes += step.consumed;
      p->exchange.end_ns = time_ns;
    }
    if (!visible.empty()) {
      visible.remove_prefix(step.consumed);
    } else {
      gap -= step.consumed;
    }
    if (request) {
      on_request_event(step.event);
    } else {
      on_response_event(step.event);
    }
  }
}

bool Connection::begin_message(bool request, uint64_t time_ns) {
  if (request) {
    if (inflight_.size() >= kMaxPending) {
      give_up("more than 64 requests awaiting a response");
      return false;
    }
    // A response of unknown length ends where the next request starts (the client waited for
    // it); requests pipelined behind it were refused in on_response_head.
    if (responses_.until_end() && !response_until_close_) {
      responses_.end_message();
      if (Pending* p = response_target()) response_done(*p);
    }
    Pending p;
    p.exchange.role = role_;
    p.exchange.start_ns = time_ns;
    inflight_.push_back(std::move(p));
    return true;
  }
  if (response_target() == nullptr) {
    give_up("a response without a request");
    return false;
  }
  return true;
}

void Connection::on_request_event(MessageParser::Event event) {
  Pending& p = inflight_.back();
  switch (event) {
    case MessageParser::Event::kNeedMore:
      return;
    case MessageParser::Event::kError:
      return give_up(requests_.error());
    case MessageParser::Event::kComplete:
      return request_done();
    case MessageParser::Event::kStartLine:
      p.exchange.method = method_name(requests_.head().method);
      p.exchange.target = requests_.head().target;
      p.head = requests_.head().method == "HEAD";
      p.connect = requests_.head().method == "CONNECT";
      return;
    case MessageParser::Event::kHeaders:
    case MessageParser::Event::kHeadersCut:
      break;
  }
  const MessageHead& head = requests_.head();
  p.exchange.trace = head.trace;  // as far as the headers were captured
  if (event == MessageParser::Event::kHeadersCut) {
    requests_.set_body(MessageParser::Body::kUntilEnd);
  } else if (head.has_transfer_encoding) {
    if (!head.chunked) return give_up("request transfer coding is not chunked");
    requests_.set_body(MessageParser::Body::kChunked);
  } else if (requests_.set_body(MessageParser::Body::kLength, head.content_length.value_or(0))) {
    request_done();
  }
}

void Connection::on_response_event(MessageParser::Event event) {
  Pending* p = response_target();
  switch (event) {
    case MessageParser::Event::kNeedMore:
    case MessageParser::Event::kStartLine:
      return;
    case MessageParser::Event::kError:
      return give_up(responses_.error());
    case MessageParser::Event::kComplete:
      if (p) response_done(*p);
      return;
    case MessageParser::Event::kHeaders:
    case MessageParser::Event::kHeadersCut:
      if (p) on_response_head(*p, event == MessageParser::Event::kHeadersCut);
      return;
  }
}

void Connection::on_response_head(Pending& p, bool cut) {
  using Body = MessageParser::Body;
  const MessageHead& head = responses_.head();
  const int status = head.status;
  // A server may answer a request line it could not take (414) before it has all of it; the
  // exchange would have no method or target.
  if (p.exchange.method.empty()) return give_up("response before its request line");
  if (status == 101 || (p.connect && status / 100 == 2)) {
    // The connection now carries another protocol (or a tunnel): nothing more to parse.
    p.exchange.status = status;
    p.request_done = true;
    p.response_done = true;
    flush(true);
    state_ = State::kUpgraded;
    return release();
  }
  if (status < 200) {
    if (cut) return give_up("interim response headers not captured");
    responses_.set_body(Body::kLength, 0);  // the final response follows
    return;
  }
  p.exchange.status = status;
  // A request of unknown length ends where its final response starts.
  if (&p == &inflight_.back() && !p.request_done && requests_.until_end()) {
    requests_.end_message();
    request_done();
  }
  response_until_close_ = false;
  if (cut) {
    if (&p != &inflight_.back())
      return give_up("response of unknown length with requests pipelined behind it");
    responses_.set_body(Body::kUntilEnd);
    return;
  }
  if (p.head || status == 204 || status == 304) {
    responses_.set_body(Body::kLength, 0);
    return response_done(p);
  }
  if (head.has_transfer_encoding && head.chunked) {
    responses_.set_body(Body::kChunked);
  } else if (!head.has_transfer_encoding && head.content_length) {
    if (responses_.set_body(Body::kLength, *head.content_length)) response_done(p);
  } else {
    response_until_close_ = true;
    responses_.set_body(Body::kUntilEnd);
  }
}

void Connection::request_done() {
  inflight_.back().request_done = true;
  flush(false);
}

void Connection::response_done(Pending& p) {
  p.response_done = true;
  flush(false);
}

Connection::Pending* Connection::response_target() {
  for (Pending& p : inflight_) {
    if (!p.response_done) return &p;
  }
  return nullptr;
}

void Connection::flush(bool closing) {
  while (!inflight_.empty() && inflight_.front().response_done &&
         (inflight_.front().request_done || closing)) {
    if (ready_.size() < kMaxReady) {
      ready_.push_back(std::move(inflight_.front().exchange));
    } else {
      ++dropped_;
    }
    inflight_.pop_front();
  }
}

void Connection::on_close(uint64_t /*time_ns: exchanges end with their last byte*/) {
  if (closed_) return;
  closed_ = true;
  if (state_ != State::kActive) return;
  if (synced_ && responses_.until_end()) {
    responses_.end_message();
    if (Pending* p = response_target()) p->response_done = true;
  }
  // A request cut short by the close still gets its response reported.
  flush(true);
  release();
}

std::vector<Exchange> Connection::take_exchanges() {
  std::vector<Exchange> out;
  out.swap(ready_);
  return out;
}

void Connection::give_up(std::string reason) {
  state_ = State::kGaveUp;
  reason_ = std::move(reason);
  release();
}

void Connection::release() {
  std::deque<Pending>().swap(inflight_);
  std::vector<OwnedChunk>().swap(candidate_);
  std::string().swap(candidate_line_);
  std::string().swap(joined_);
  requests_ = MessageParser(true);
  responses_ = MessageParser(false);
}

}  // namespace waggle::http
