// DNS queries paired with their answers, from the socket data the kernel captured.
#pragma once

#include <cstdint>
#include <map>
#include <string_view>
#include <tuple>
#include <vector>

#include "core/events.hpp"
#include "protocols/dns_parser.hpp"

namespace waggle {

class DnsTracker {
 public:
  // Queries waiting for an answer; beyond, the oldest is reported unanswered.
  static constexpr size_t kMaxPending = 4096;
  // A query without an answer for this long is reported unanswered.
  static constexpr uint64_t kAnswerTimeoutNs = 10'000'000'000;

  // One DNS payload (UDP datagram or TCP stream bytes) a process sent (egress) or received.
  // `complete`: the payload was captured whole.
  void on_payload(uint64_t sk, bool egress, bool tcp, std::string_view payload, bool complete,
                  uint64_t time_ns, const ProcessRef& process, const Endpoint& server,
                  std::vector<DnsEvent>* out);
  // Socket `sk` was released: its unfinished TCP messages go.
  void on_close(uint64_t sk) {
    streams_.erase({sk, false});
    streams_.erase({sk, true});
  }
  // Reports queries that waited longer than kAnswerTimeoutNs before `now_ns`.
  void expire(uint64_t now_ns, std::vector<DnsEvent>* out);

  // Forgets the queries waiting for an answer (after lost records), counting them unanswered.
  void reset() {
    unanswered_ += pending_.size();
    pending_.clear();
    streams_.clear();
  }

  uint64_t malformed() const { return malformed_; }
  uint64_t unanswered() const { return unanswered_; }

 private:
  void on_message(uint64_t sk, bool egress, bool tcp, const dns::Message& message, uint64_t time_ns,
                  const ProcessRef& process, const Endpoint& server, std::vector<DnsEvent>* out);
  using Key = std::tuple<uint64_t, uint16_t, std::string>;  // socket, id, name
  std::map<Key, DnsEvent> pending_;
  // DNS over TCP: bytes of each socket and direction not yet a whole message (a length prefix
  // and its message often come in separate calls). At most kMaxPending streams.
  std::map<std::pair<uint64_t, bool>, std::string> streams_;
  uint64_t malformed_ = 0;
  uint64_t unanswered_ = 0;
};

}  // namespace waggle
