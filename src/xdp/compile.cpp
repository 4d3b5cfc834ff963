#include "xdp/compile.hpp"

#include <fmt/format.h>
#include <sys/socket.h>

#include <cstring>

#include "xdp/rules_limits.hpp"

namespace waggle {

namespace {

uint8_t action_code(PacketAction a) {
  return a == PacketAction::kDrop        ? WG_XDP_ACT_DROP
         : a == PacketAction::kCount     ? WG_XDP_ACT_COUNT
         : a == PacketAction::kRateLimit ? WG_XDP_ACT_RATE_LIMIT
         : a == PacketAction::kSample    ? WG_XDP_ACT_SAMPLE
                                         : WG_XDP_ACT_PASS;
}

// Trie keys of a network in a set: IPv4 as ::ffff:a.b.c.d, prefix lengths counting the set id.
wg_xdp_net_key net_key(uint32_t set, const Cidr& c) {
  wg_xdp_net_key k{};
  k.set = set;
  if (c.family == AF_INET) {
    k.addr[10] = 0xff;
    k.addr[11] = 0xff;
    memcpy(k.addr + 12, c.addr.data(), 4);
    k.prefixlen = 32 + 96 + c.prefix_len;
  } else {
    memcpy(k.addr, c.addr.data(), 16);
    k.prefixlen = 32 + c.prefix_len;
  }
  return k;
}

void set_ports(const std::vector<PortRange>& in, wg_xdp_range16* out, uint8_t* n) {
  *n = uint8_t(in.size());
  for (size_t i = 0; i < in.size() && i < WG_XDP_PORT_RANGES; i++) out[i] = {in[i].low, in[i].high};
}

}  // namespace

bool compile_rules(const PacketRules& set, CompiledRules* out, std::string* error) {
  *out = CompiledRules{};
  out->settings.default_action = action_code(set.default_action);
  out->settings.malformed_action = action_code(set.malformed_action);
  out->settings.n_rules = uint32_t(set.rules.size());
  uint32_t next_set = 1;
  for (const PacketRule& rule : set.rules) {
    wg_xdp_rule r{};
    r.action = action_code(rule.action);
    if (rule.family) {
      r.match |= WG_XDP_M_FAMILY;
      r.family = uint8_t(rule.family);
    }
    for (auto [nets, bit, id, kinds] : {std::tuple{&rule.sources, WG_XDP_M_SRC, &r.src_set, &r.src_kinds},
                                        std::tuple{&rule.destinations, WG_XDP_M_DST, &r.dst_set, &r.dst_kinds}}) {
      if (nets->empty()) continue;
      r.match |= bit;
      *id = next_set++;
      for (const Cidr& c : *nets) {
        bool host = c.prefix_len == (c.family == AF_INET ? 32 : 128);
        if (host && c.family == AF_INET) {
          wg_xdp_host4_key k{*id, {}};
          memcpy(k.addr, c.addr.data(), 4);
          out->hosts4.push_back(k);
        } else {
          (host ? out->hosts : out->networks).push_back(net_key(*id, c));
        }
        *kinds |= host ? WG_XDP_SET_HOSTS : WG_XDP_SET_NETWORKS;
      }
    }
    if (rule.protocol) {
      r.match |= WG_XDP_M_PROTO;
      r.proto = *rule.protocol;
    }
    if (!rule.source_ports.empty()) {
      r.match |= WG_XDP_M_SPORT;
      set_ports(rule.source_ports, r.sport, &r.n_sport);
    }
    if (!rule.destination_ports.empty()) {
      r.match |= WG_XDP_M_DPORT;
      set_ports(rule.destination_ports, r.dport, &r.n_dport);
    }
    if (rule.tcp_flags) {
      r.match |= WG_XDP_M_TCP_FLAGS;
      r.tcp_flags_mask = rule.tcp_flags->first;
      r.tcp_flags_value = rule.tcp_flags->second;
    }
    if (rule.length) {
      r.match |= WG_XDP_M_LENGTH;
      r.length = {uint16_t(rule.length->low), uint16_t(rule.length->high)};
    }
    if (rule.payload_length) {
      r.match |= WG_XDP_M_PAYLOAD;
      r.payload = {uint16_t(rule.payload_length->low), uint16_t(rule.payload_length->high)};
    }
    if (rule.ttl) {
      r.match |= WG_XDP_M_TTL;
      r.ttl_lo = uint8_t(rule.ttl->low);
      r.ttl_hi = uint8_t(rule.ttl->high);
    }
    if (rule.ipv6_extensions) {
      r.match |= WG_XDP_M_IPV6_EXT;
      r.ext_mask = rule.ipv6_extensions;
    }
    if (rule.tcp_option) {
      r.match |= WG_XDP_M_TCP_OPTION;
      r.opt_kind = rule.tcp_option->kind;
      r.opt_len = rule.tcp_option->bytes;
      r.opt_lo = rule.tcp_option->value.low;
      r.opt_hi = rule.tcp_option->value.high;
    }
    if (rule.icmp_type) {
      r.match |= WG_XDP_M_ICMP_TYPE;
      r.icmp_type = *rule.icmp_type;
    }
    if (rule.icmp_code) {
      r.match |= WG_XDP_M_ICMP_CODE;
      r.icmp_code = *rule.icmp_code;
    }
    if (!rule.bytes.empty()) {
      r.match |= WG_XDP_M_BYTES;
      r.n_bytes = uint8_t(rule.bytes.size());
      for (size_t i = 0; i < rule.bytes.size() && i < WG_XDP_BYTE_MATCHES; i++) {
        const ByteMatch& b = rule.bytes[i];
        r.bytes[i] = {uint8_t(b.base == ByteBase::kL3   ? WG_XDP_BASE_L3
                              : b.base == ByteBase::kL4 ? WG_XDP_BASE_L4
                                                        : WG_XDP_BASE_PAYLOAD),
                      b.length, b.offset, b.mask, b.value.low, b.value.high};
      }
    }
    if (rule.vlan) {
      r.match |= WG_XDP_M_VLAN;
      r.vlan = *rule.vlan;
    }
    if (rule.fragments) {
      r.match |= WG_XDP_M_FRAGMENT;
      r.fragment_mask = rule.fragments;
    }
    if (!rule.pcap_program.empty()) {
      r.match |= WG_XDP_M_PCAP;
      r.pcap_index = uint8_t(out->pcap_programs.size());
      out->pcap_programs.push_back(rule.pcap_program);
    }
    if (rule.action == PacketAction::kRateLimit) {
      r.rl_interval_ns = 1000000000ull / rule.rate_limit.rate;
      r.rl_capacity_ns = r.rl_interval_ns * rule.rate_limit.burst;
      r.rl_prefix4 = rule.rate_limit.ipv4_prefix;
      r.rl_prefix6 = rule.rate_limit.ipv6_prefix;
    }
    if (rule.action == PacketAction::kSample) {
      r.rl_interval_ns = 1000000000ull / rule.sample.rate;
      r.rl_capacity_ns = r.rl_interval_ns * rule.sample.burst;
      r.sample_bytes = uint16_t(rule.sample.bytes);
    }
    out->settings.needs |= r.match;
    out->settings.actions |= uint8_t(1u << r.action);
    out->rules.push_back(r);
    out->names.push_back(rule.name);
  }
  out->settings.n_pcap = uint8_t(out->pcap_programs.size());
  const size_t networks = out->networks.size() + out->hosts.size() + out->hosts4.size();
  if (networks > kMaxNetworks) {
    *error = fmt::format("{}: {} networks in all rules, at most {}", set.source, networks, kMaxNetworks);
    return false;
  }
  return true;
}

}  // namespace waggle
