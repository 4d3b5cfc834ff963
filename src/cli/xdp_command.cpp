#include "cli/xdp_command.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <sys/socket.h>

#include <vector>

#include "xdp/compile.hpp"
#include "xdp/rules.hpp"
#include "xdp/xdp_filter.hpp"

namespace waggle {

namespace {

std::string range_text(const ValueRange& r) {
  return r.low == r.high ? std::to_string(r.low) : fmt::format("{}-{}", r.low, r.high);
}

std::string networks_text(const std::vector<Cidr>& nets) {
  std::vector<std::string> parts;
  for (size_t i = 0; i < nets.size() && i < 3; i++) {
    char buf[INET6_ADDRSTRLEN] = {};
    inet_ntop(nets[i].family, nets[i].addr.data(), buf, sizeof(buf));
    parts.push_back(fmt::format("{}/{}", buf, nets[i].prefix_len));
  }
  if (nets.size() > 3) parts.push_back(fmt::format("and {} more", nets.size() - 3));
  return fmt::format("{}", fmt::join(parts, ", "));
}

std::string ports_text(const std::vector<PortRange>& ports) {
  std::vector<std::string> parts;
  for (const PortRange& p : ports) parts.push_back(range_text({p.low, p.high}));
  return fmt::format("{}", fmt::join(parts, ","));
}

std::string describe(const PacketRule& r) {
  std::vector<std::string> m;
  if (r.family) m.push_back(fmt::format("ipv{}", r.family));
  if (!r.sources.empty()) m.push_back("from " + networks_text(r.sources));
  if (!r.destinations.empty()) m.push_back("to " + networks_text(r.destinations));
  if (r.protocol) {
    int p = *r.protocol;
    m.push_back(p == 6 ? "tcp" : p == 17 ? "udp" : p == 1 ? "icmp" : p == 58 ? "icmpv6" : fmt::format("proto {}", p));
  }
  if (!r.source_ports.empty()) m.push_back("sport " + ports_text(r.source_ports));
  if (!r.destination_ports.empty()) m.push_back("dport " + ports_text(r.destination_ports));
  if (r.tcp_flags) m.push_back(fmt::format("flags & 0x{:02x} == 0x{:02x}", r.tcp_flags->first, r.tcp_flags->second));
  if (r.tcp_option)
    m.push_back(r.tcp_option->bytes ? fmt::format("option {} value {}", r.tcp_option->kind, range_text(r.tcp_option->value))
                                    : fmt::format("option {}", r.tcp_option->kind));
  if (r.icmp_type) m.push_back(fmt::format("icmp type {}", *r.icmp_type));
  if (r.icmp_code) m.push_back(fmt::format("icmp code {}", *r.icmp_code));
  if (r.length) m.push_back("length " + range_text(*r.length));
  if (r.payload_length) m.push_back("payload " + range_text(*r.payload_length));
  if (r.ttl) m.push_back("ttl " + range_text(*r.ttl));
  if (r.ipv6_extensions) m.push_back(fmt::format("ipv6 extensions 0x{:02x}", r.ipv6_extensions));
  for (const ByteMatch& b : r.bytes)
    m.push_back(fmt::format("{}[{}:{}] & 0x{:x} = {}",
                            b.base == ByteBase::kL3 ? "l3" : b.base == ByteBase::kL4 ? "l4" : "payload", b.offset,
                            b.length, b.mask, range_text(b.value)));
  if (r.vlan) m.push_back(*r.vlan == kUntagged ? "untagged" : fmt::format("vlan {}", *r.vlan));
  if (r.fragments) m.push_back(fmt::format("fragments 0x{:x}", r.fragments));
  return fmt::format("{}", fmt::join(m, ", "));
}

}  // namespace

std::string describe_packet_rules(const PacketRules& set) {
  const PacketRules* rules = &set;
  std::string out = fmt::format("{}: {} ({} rules; no rule: {}; malformed: {})\n", set.source, rules->name,
                                rules->rules.size(), packet_action_name(rules->default_action),
                                packet_action_name(rules->malformed_action));
  for (size_t i = 0; i < rules->rules.size(); i++) {
    const PacketRule& r = rules->rules[i];
    out += fmt::format("  {:>3}  line {:<4} {:<24} {:<5}  {}\n", i + 1, r.line, r.name,
                       packet_action_name(r.action), describe(r));
  }
  return out;
}

int run_xdp_check(const XdpCommand& c) {
  std::string error;
  auto rules = load_packet_rules(c.rules_file, &error);
  CompiledRules compiled;
  if (!rules || !compile_rules(*rules, &compiled, &error)) {
    fmt::print(stderr, "waggle: {}\n", error);
    return 2;
  }
  // Loaded, not attached: the verifier has the last word on the program.
  auto filter = XdpFilter::load(compiled, &error);
  if (!filter) {
    fmt::print(stderr, "waggle: {}\n", error);
    return 1;
  }
  fmt::print("{}", describe_packet_rules(*rules));
  fmt::print("valid: loaded into the kernel and checked by its verifier; nothing attached\n");
  return 0;
}

}  // namespace waggle
