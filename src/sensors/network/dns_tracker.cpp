#include "sensors/network/dns_tracker.hpp"

#include <span>

namespace waggle {

void DnsTracker::on_payload(uint64_t sk, bool egress, bool tcp, std::string_view payload, bool complete,
                            uint64_t time_ns, const ProcessRef& process, const Endpoint& server,
                            std::vector<DnsEvent>* out) {
  if (!tcp) {
    std::string error;
    auto bytes = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(payload.data()), payload.size());
    if (auto m = dns::parse(bytes, &error, !complete))
      on_message(sk, egress, tcp, *m, time_ns, process, server, out);
    else
      malformed_++;
    return;
  }
  // TCP: each message is preceded by its 2-byte length; a message may span calls.
  auto key = std::make_pair(sk, egress);
  std::string& stream = streams_[key];
  if (stream.size() + payload.size() > 2 + 65535 || streams_.size() > kMaxPending) {
    malformed_++;
    streams_.erase(key);
    return;
  }
  stream.append(payload);
  std::string error;
  auto bytes = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(stream.data()), stream.size());
  size_t consumed = 0;
  auto messages = dns::parse_tcp(bytes, &error, &consumed);
  if (!messages) {
    malformed_++;
    streams_.erase(key);
    return;
  }
  for (const dns::Message& m : *messages) on_message(sk, egress, tcp, m, time_ns, process, server, out);
  stream.erase(0, consumed);
  // What follows a cut call is unknown: the stream starts over at the next call.
  if (stream.empty() || !complete) streams_.erase(key);
}

void DnsTracker::on_message(uint64_t sk, bool egress, bool tcp, const dns::Message& message, uint64_t time_ns,
                            const ProcessRef& process, const Endpoint& server, std::vector<DnsEvent>* out) {
  const dns::Message* m = &message;
  if (m->is_response == egress) {  // a client sends queries and receives responses
    malformed_++;
    return;
  }
  Key key{sk, m->id, m->name};
  if (egress) {
    if (pending_.size() >= kMaxPending) {
      auto oldest = pending_.begin();
      for (auto it = pending_.begin(); it != pending_.end(); ++it)
        if (it->second.time_ns < oldest->second.time_ns) oldest = it;
      unanswered_++;
      out->push_back(std::move(oldest->second));
      pending_.erase(oldest);
    }
    DnsEvent e;
    e.time_ns = time_ns;
    e.process = process;
    e.name = m->name;
    e.type = dns::type_name(m->qtype);
    e.server = server;
    e.transport = tcp ? "tcp" : "udp";
    pending_[key] = std::move(e);
    return;
  }
  auto it = pending_.find(key);
  DnsEvent e;
  if (it != pending_.end()) {
    e = std::move(it->second);
    pending_.erase(it);
    e.latency_ns = time_ns > e.time_ns ? time_ns - e.time_ns : 0;
  } else {  // the query was not seen (sent before the agent started)
    e.process = process;
    e.name = m->name;
    e.type = dns::type_name(m->qtype);
    e.server = server;
    e.transport = tcp ? "tcp" : "udp";
  }
  e.time_ns = time_ns;
  e.rcode = dns::rcode_name(m->rcode);
  for (const dns::Answer& a : m->answers) e.answers.push_back(dns::type_name(a.type) + " " + a.data);
  out->push_back(std::move(e));
}

void DnsTracker::expire(uint64_t now_ns, std::vector<DnsEvent>* out) {
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (now_ns - it->second.time_ns > kAnswerTimeoutNs && now_ns > it->second.time_ns) {
      unanswered_++;
      out->push_back(std::move(it->second));
      it = pending_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace waggle
