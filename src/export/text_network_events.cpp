#include <fmt/format.h>

#include <string>

#include "export/append.hpp"
#include "export/network_names.hpp"
#include "export/text_events.hpp"

namespace waggle {

namespace {

void append_endpoint(std::string& out, const Endpoint& e) {
  if (e.address.find(':') != std::string::npos)
    fmt::format_to(std::back_inserter(out), "[{}]:{}", e.address, e.port);
  else
    fmt::format_to(std::back_inserter(out), "{}:{}", e.address, e.port);
}

uint32_t pid_of(const ProcessRef& p) { return p ? p->pid : 0; }

}  // namespace

void append_text_network_event(std::string& out, const TcpEvent& e) {
  append_text_head(out, e.time_ns, "tcp ", pid_of(e.process), e.process);
  out.push_back(' ');
  append_lit(out, tcp_direction_name(e.direction));
  out.push_back(' ');
  append_endpoint(out, e.local);
  append_lit(out, " -> ");
  append_endpoint(out, e.remote);
  fmt::format_to(std::back_inserter(out), " sent={} received={} {}", e.bytes_sent, e.bytes_received,
                 tcp_end_name(e.end));
  if (e.retransmits) fmt::format_to(std::back_inserter(out), " retransmits={}", e.retransmits);
  if (e.duration_ns) fmt::format_to(std::back_inserter(out), " {:.3f}s", double(e.duration_ns) / 1e9);
  out.push_back('\n');
}

void append_text_network_event(std::string& out, const HttpEvent& e) {
  append_text_head(out, e.time_ns, "http", pid_of(e.process), e.process);
  append_lit(out, e.server ? " server " : " client ");
  append_shell_word(out, e.method);
  out.push_back(' ');
  append_shell_word(out, e.route);
  fmt::format_to(std::back_inserter(out), " {} {:.6f}s\n", e.status, double(e.duration_ns) / 1e9);
}

void append_text_network_event(std::string& out, const DnsEvent& e) {
  append_text_head(out, e.time_ns, "dns ", pid_of(e.process), e.process);
  out.push_back(' ');
  append_shell_word(out, e.name);
  out.push_back(' ');
  append_lit(out, e.type);
  out.push_back(' ');
  if (e.rcode.empty()) {
    append_lit(out, "no-answer\n");
    return;
  }
  append_lit(out, e.rcode);
  fmt::format_to(std::back_inserter(out), " {:.6f}s\n", double(e.latency_ns) / 1e9);
}

}  // namespace waggle
