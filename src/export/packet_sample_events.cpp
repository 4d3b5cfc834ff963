// packet.sample lines. Field contract (names and order fixed; a layer that was not captured
// is left out):
//
//   packet.sample: "interface","rule","length","captured",
//                  "eth":{"src","dst","vlan" (when tagged),"type":"0x0800"},
//                  "ip":{"version","src","dst","protocol","ttl","length","fragment" (when one)},
//                  "tcp"|"udp":{"sport","dport","flags" (tcp)} or "icmp":{"type","code"}
#include <fmt/format.h>

#include <iterator>
#include <string>

#include "export/append.hpp"
#include "export/json_events.hpp"
#include "export/json_string.hpp"
#include "export/text_events.hpp"

namespace waggle {

void append_json_network_event(std::string& out, const PacketSampleEvent& e) {
  append_lit(out, "{\"time\":\"");
  append_rfc3339(out, e.time_ns);
  append_lit(out, "\",\"type\":\"packet.sample\",\"interface\":");
  append_json_string(out, e.interface);
  append_lit(out, ",\"rule\":");
  append_json_string(out, e.rule);
  append_lit(out, ",\"length\":");
  append_uint(out, e.length);
  append_lit(out, ",\"captured\":");
  append_uint(out, e.captured);
  if (!e.eth_src.empty()) {
    append_lit(out, ",\"eth\":{\"src\":");
    append_json_string(out, e.eth_src);
    append_lit(out, ",\"dst\":");
    append_json_string(out, e.eth_dst);
    if (e.vlan >= 0) fmt::format_to(std::back_inserter(out), ",\"vlan\":{}", e.vlan);
    fmt::format_to(std::back_inserter(out), ",\"type\":\"0x{:04x}\"}}", e.eth_type);
  }
  if (e.ip_version) {
    fmt::format_to(std::back_inserter(out), ",\"ip\":{{\"version\":{},\"src\":", e.ip_version);
    append_json_string(out, e.ip_src);
    append_lit(out, ",\"dst\":");
    append_json_string(out, e.ip_dst);
    fmt::format_to(std::back_inserter(out), ",\"protocol\":{},\"ttl\":{},\"length\":{}", e.protocol, e.ttl,
                   e.ip_length);
    if (!e.fragment.empty()) {
      append_lit(out, ",\"fragment\":");
      append_json_string(out, e.fragment);
    }
    out.push_back('}');
  }
  if (e.l4 == "tcp" || e.l4 == "udp") {
    fmt::format_to(std::back_inserter(out), ",\"{}\":{{\"sport\":{},\"dport\":{}", e.l4, e.sport, e.dport);
    if (e.l4 == "tcp") {
      append_lit(out, ",\"flags\":");
      append_json_string(out, e.tcp_flags);
    }
    out.push_back('}');
  } else if (e.l4 == "icmp") {
    fmt::format_to(std::back_inserter(out), ",\"icmp\":{{\"type\":{},\"code\":{}}}", e.icmp_type, e.icmp_code);
  }
  append_lit(out, "}\n");
}

void append_text_network_event(std::string& out, const PacketSampleEvent& e) {
  append_text_time(out, e.time_ns);
  append_lit(out, " packet ");
  append_shell_word(out, e.interface);
  out.push_back(' ');
  append_shell_word(out, e.rule);
  if (e.ip_version) {
    bool ports = e.l4 == "tcp" || e.l4 == "udp";
    auto end = [&](const std::string& ip, uint16_t port) {
      return ports ? (e.ip_version == 6 ? fmt::format("[{}]:{}", ip, port) : fmt::format("{}:{}", ip, port)) : ip;
    };
    fmt::format_to(std::back_inserter(out), " {} > {} {}", end(e.ip_src, e.sport), end(e.ip_dst, e.dport),
                   e.l4.empty() ? fmt::format("proto={}", e.protocol) : e.l4);
    if (!e.tcp_flags.empty()) fmt::format_to(std::back_inserter(out), " [{}]", e.tcp_flags);
  } else if (!e.eth_src.empty()) {
    fmt::format_to(std::back_inserter(out), " {} > {} type=0x{:04x}", e.eth_src, e.eth_dst, e.eth_type);
  }
  fmt::format_to(std::back_inserter(out), " len={}\n", e.length);
}

}  // namespace waggle
