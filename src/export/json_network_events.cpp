// Field contract of the network events (names and order are fixed):
//
//   network.tcp:  "process":{...} (the connecting or accepting process; null when none),
//                 "direction":"connected|accepted|unknown","end":"closed|reset_sent|
//                 reset_received|failed","local":{"address","port"},"remote":{...},
//                 "bytes_sent","bytes_received","retransmits","duration_ns" (null when unknown)
//   http.request: "role":"server|client","method","route","target","status","duration_ns",
//                 "request_bytes","response_bytes","local":{...},"remote":{...}
//   dns.query:    "name","query_type","rcode" (null when no answer was seen),"answers":[...],
//                 "latency_ns" (null without an answer),"server":{...},"transport":"udp|tcp"
#include <string>

#include "export/json_events.hpp"
#include "export/json_string.hpp"
#include "export/network_names.hpp"

namespace waggle {

namespace {

constexpr std::string_view kLocal = ",\"local\":{\"address\":", kRemote = ",\"remote\":{\"address\":",
                           kServer = ",\"server\":{\"address\":";

void append_endpoint(LineWriter& w, std::string_view name_and_address, const Endpoint& e) {
  w.text(name_and_address);
  append_json_string(w, e.address);
  w.lit(",\"port\":");
  w.uint(e.port);
  w.ch('}');
}

}  // namespace

std::string_view tcp_direction_name(TcpDirection d) {
  switch (d) {
    case TcpDirection::kConnected:
      return "connected";
    case TcpDirection::kAccepted:
      return "accepted";
    case TcpDirection::kUnknown:
      break;
  }
  return "unknown";
}

std::string_view tcp_end_name(TcpEnd e) {
  switch (e) {
    case TcpEnd::kResetSent:
      return "reset_sent";
    case TcpEnd::kResetReceived:
      return "reset_received";
    case TcpEnd::kFailed:
      return "failed";
    case TcpEnd::kClosed:
      break;
  }
  return "closed";
}

namespace {

uint32_t pid_of(const ProcessRef& p) { return p ? p->pid : 0; }

}  // namespace

void append_json_network_event(std::string& out, const TcpEvent& e) {
  LineWriter w(out);
  append_json_head(w, e.time_ns, "\",\"type\":\"network.tcp\",\"process\":{", pid_of(e.process), e.process);
  w.lit(",\"direction\":\"");
  w.text(tcp_direction_name(e.direction));
  w.lit("\",\"end\":\"");
  w.text(tcp_end_name(e.end));
  w.ch('"');
  append_endpoint(w, kLocal, e.local);
  append_endpoint(w, kRemote, e.remote);
  w.lit(",\"bytes_sent\":");
  w.uint(e.bytes_sent);
  w.lit(",\"bytes_received\":");
  w.uint(e.bytes_received);
  w.lit(",\"retransmits\":");
  w.uint(e.retransmits);
  w.lit(",\"duration_ns\":");
  if (e.duration_ns)
    w.uint(e.duration_ns);
  else
    w.lit("null");
  w.lit("}\n");
}

void append_json_network_event(std::string& out, const HttpEvent& e) {
  LineWriter w(out, json_head_room(e.process) + 320 + e.method.size() + e.route.size() + e.target.size() +
                        e.local.address.size() + e.remote.address.size());
  append_json_head(w, e.time_ns, "\",\"type\":\"http.request\",\"process\":{", pid_of(e.process), e.process);
  if (e.server)
    w.lit(",\"role\":\"server\",\"method\":");
  else
    w.lit(",\"role\":\"client\",\"method\":");
  append_json_string(w, e.method);
  w.lit(",\"route\":");
  append_json_string(w, e.route);
  w.lit(",\"target\":");
  append_json_string(w, e.target);
  w.lit(",\"status\":");
  w.uint(e.status);
  w.lit(",\"duration_ns\":");
  w.uint(e.duration_ns);
  w.lit(",\"request_bytes\":");
  w.uint(e.request_bytes);
  w.lit(",\"response_bytes\":");
  w.uint(e.response_bytes);
  append_endpoint(w, kLocal, e.local);
  append_endpoint(w, kRemote, e.remote);
  if (e.trace) {
    w.lit(",\"trace_id\":\"");
    w.hex(e.trace->trace_id);
    w.lit("\",\"parent_span_id\":\"");
    w.hex(e.trace->parent_id);
    w.ch('"');
  }
  w.lit("}\n");
}

void append_json_network_event(std::string& out, const DnsEvent& e) {
  LineWriter w(out);
  append_json_head(w, e.time_ns, "\",\"type\":\"dns.query\",\"process\":{", pid_of(e.process), e.process);
  w.lit(",\"name\":");
  append_json_string(w, e.name);
  w.lit(",\"query_type\":");
  append_json_string(w, e.type);
  w.lit(",\"rcode\":");
  if (e.rcode.empty())
    w.lit("null");
  else
    append_json_string(w, e.rcode);
  w.lit(",\"answers\":[");
  for (size_t i = 0; i < e.answers.size(); ++i) {
    if (i > 0) w.ch(',');
    append_json_string(w, e.answers[i]);
  }
  w.lit("],\"latency_ns\":");
  if (e.rcode.empty())
    w.lit("null");
  else
    w.uint(e.latency_ns);
  append_endpoint(w, kServer, e.server);
  w.lit(",\"transport\":");
  append_json_string(w, e.transport);
  w.lit("}\n");
}

}  // namespace waggle
