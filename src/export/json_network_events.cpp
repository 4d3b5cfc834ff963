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

#include "export/append.hpp"
#include "export/json_events.hpp"
#include "export/json_string.hpp"
#include "export/network_names.hpp"

namespace waggle {

namespace {

void append_endpoint(std::string& out, std::string_view name, const Endpoint& e) {
  append_lit(out, ",\"");
  append_lit(out, name);
  append_lit(out, "\":{\"address\":");
  append_json_string(out, e.address);
  append_lit(out, ",\"port\":");
  append_uint(out, e.port);
  out.push_back('}');
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
  append_json_head(out, e.time_ns, "\",\"type\":\"network.tcp\",\"process\":{", pid_of(e.process), e.process);
  append_lit(out, ",\"direction\":\"");
  append_lit(out, tcp_direction_name(e.direction));
  append_lit(out, "\",\"end\":\"");
  append_lit(out, tcp_end_name(e.end));
  out.push_back('"');
  append_endpoint(out, "local", e.local);
  append_endpoint(out, "remote", e.remote);
  append_lit(out, ",\"bytes_sent\":");
  append_uint(out, e.bytes_sent);
  append_lit(out, ",\"bytes_received\":");
  append_uint(out, e.bytes_received);
  append_lit(out, ",\"retransmits\":");
  append_uint(out, e.retransmits);
  append_lit(out, ",\"duration_ns\":");
  if (e.duration_ns)
    append_uint(out, e.duration_ns);
  else
    append_lit(out, "null");
  append_lit(out, "}\n");
}

void append_json_network_event(std::string& out, const HttpEvent& e) {
  append_json_head(out, e.time_ns, "\",\"type\":\"http.request\",\"process\":{", pid_of(e.process),
                   e.process);
  append_lit(out, e.server ? ",\"role\":\"server\",\"method\":" : ",\"role\":\"client\",\"method\":");
  append_json_string(out, e.method);
  append_lit(out, ",\"route\":");
  append_json_string(out, e.route);
  append_lit(out, ",\"target\":");
  append_json_string(out, e.target);
  append_lit(out, ",\"status\":");
  append_uint(out, e.status);
  append_lit(out, ",\"duration_ns\":");
  append_uint(out, e.duration_ns);
  append_lit(out, ",\"request_bytes\":");
  append_uint(out, e.request_bytes);
  append_lit(out, ",\"response_bytes\":");
  append_uint(out, e.response_bytes);
  append_endpoint(out, "local", e.local);
  append_endpoint(out, "remote", e.remote);
  if (e.trace) {
    append_lit(out, ",\"trace_id\":\"");
    append_hex(out, e.trace->trace_id);
    append_lit(out, "\",\"parent_span_id\":\"");
    append_hex(out, e.trace->parent_id);
    out.push_back('"');
  }
  append_lit(out, "}\n");
}

void append_json_network_event(std::string& out, const DnsEvent& e) {
  append_json_head(out, e.time_ns, "\",\"type\":\"dns.query\",\"process\":{", pid_of(e.process), e.process);
  append_lit(out, ",\"name\":");
  append_json_string(out, e.name);
  append_lit(out, ",\"query_type\":");
  append_json_string(out, e.type);
  append_lit(out, ",\"rcode\":");
  if (e.rcode.empty())
    append_lit(out, "null");
  else
    append_json_string(out, e.rcode);
  append_lit(out, ",\"answers\":[");
  for (size_t i = 0; i < e.answers.size(); ++i) {
    if (i > 0) out.push_back(',');
    append_json_string(out, e.answers[i]);
  }
  append_lit(out, "],\"latency_ns\":");
  if (e.rcode.empty())
    append_lit(out, "null");
  else
    append_uint(out, e.latency_ns);
  append_endpoint(out, "server", e.server);
  append_lit(out, ",\"transport\":");
  append_json_string(out, e.transport);
  append_lit(out, "}\n");
}

}  // namespace waggle
