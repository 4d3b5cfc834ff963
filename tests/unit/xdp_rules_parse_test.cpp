// Reading packet rules files: what each key becomes, and errors that name the file, line,
// column and what was expected.
#include <gtest/gtest.h>

#include <linux/types.h>

#include "xdp/compile.hpp"
#include "xdp/rules.hpp"

namespace waggle {
namespace {

std::string doc(const std::string& rules, const std::string& extra = "") {
  return "apiVersion: waggle.dev/v1\nkind: PacketRules\nmetadata: {name: edge}\nspec:\n" + extra + "  rules:\n" + rules;
}

std::string error_of(const std::string& yaml) {
  std::string error;
  auto rules = parse_packet_rules(yaml, "rules.yaml", &error);
  EXPECT_FALSE(rules.has_value());
  return error;
}

TEST(XdpRulesParse, ReadsEveryMatch) {
  std::string error;
  auto rules = parse_packet_rules(doc(R"(    - name: sack-panic
      action: drop
      match:
        protocol: tcp
        tcp_flags: "syn,!ack"
        tcp_option: {kind: 2, value: 0-499}
        source: [10.0.0.0/8, 192.168.1.1]
        destination_port: [22, 8000-8080]
        length: 40-60
        ttl: 64
        bytes: [{at: l4, offset: 12, length: 1, mask: 0xf0, value: 0x50}]
        vlan: none
    - action: count
      match: {protocol: icmpv6, icmp: {type: 128, code: 0}, ipv6_extensions: [hop-by-hop, fragment],
              fragment: [none, first]}
)",
                                          "  default: drop\n  malformed: drop\n"),
                                      "rules.yaml", &error);
  ASSERT_TRUE(rules) << error;
  EXPECT_EQ(rules->name, "edge");
  EXPECT_EQ(rules->default_action, PacketAction::kDrop);
  EXPECT_EQ(rules->malformed_action, PacketAction::kDrop);
  ASSERT_EQ(rules->rules.size(), 2u);
  const PacketRule& a = rules->rules[0];
  EXPECT_EQ(a.name, "sack-panic");
  EXPECT_EQ(a.line, 8);
  EXPECT_EQ(a.family, 4);  // from the sources
  EXPECT_EQ(a.protocol, 6);
  EXPECT_EQ(a.tcp_flags, (std::pair<uint8_t, uint8_t>{0x12, 0x02}));
  ASSERT_TRUE(a.tcp_option);
  EXPECT_EQ(a.tcp_option->kind, 2);
  EXPECT_EQ(a.tcp_option->bytes, 2);
  EXPECT_EQ(a.tcp_option->value.low, 0u);
  EXPECT_EQ(a.tcp_option->value.high, 499u);
  ASSERT_EQ(a.sources.size(), 2u);
  EXPECT_EQ(a.sources[1].prefix_len, 32);
  ASSERT_EQ(a.destination_ports.size(), 2u);
  EXPECT_EQ(a.destination_ports[1].low, 8000);
  EXPECT_EQ(a.destination_ports[1].high, 8080);
  EXPECT_EQ(a.length->low, 40u);
  EXPECT_EQ(a.ttl->high, 64u);
  ASSERT_EQ(a.bytes.size(), 1u);
  EXPECT_EQ(a.bytes[0].mask, 0xf0u);
  EXPECT_EQ(a.bytes[0].value.low, 0x50u);
  EXPECT_EQ(a.vlan, kUntagged);
  const PacketRule& b = rules->rules[1];
  EXPECT_EQ(b.name, "rule-2");
  EXPECT_EQ(b.action, PacketAction::kCount);
  EXPECT_EQ(b.family, 6);
  EXPECT_EQ(b.icmp_type, 128);
  EXPECT_EQ(b.icmp_code, 0);
  EXPECT_EQ(b.ipv6_extensions, WG_XDP_EXT_HOP | WG_XDP_EXT_FRAGMENT);
  EXPECT_EQ(b.fragments, WG_XDP_FRAG_NONE | WG_XDP_FRAG_FIRST);

  CompiledRules compiled;
  ASSERT_TRUE(compile_rules(*rules, &compiled, &error)) << error;
  ASSERT_EQ(compiled.rules.size(), 2u);
  EXPECT_EQ(compiled.settings.n_rules, 2u);
  EXPECT_EQ(compiled.settings.default_action, WG_XDP_ACT_DROP);
  ASSERT_EQ(compiled.networks.size(), 1u);  // 10.0.0.0/8 in the trie
  ASSERT_EQ(compiled.hosts4.size(), 1u);    // 192.168.1.1 in the IPv4 hash
  EXPECT_EQ(compiled.hosts4[0].addr[0], 192);
  EXPECT_EQ(compiled.rules[0].src_kinds, WG_XDP_SET_HOSTS | WG_XDP_SET_NETWORKS);
  EXPECT_EQ(compiled.networks[0].prefixlen, 32u + 96 + 8);  // 10.0.0.0/8, IPv4-mapped, after the set id
  EXPECT_EQ(compiled.networks[0].addr[10], 0xff);
  EXPECT_EQ(compiled.networks[0].addr[12], 10);
  EXPECT_EQ(compiled.rules[0].match & WG_XDP_M_SRC, uint32_t(WG_XDP_M_SRC));
  EXPECT_NE(compiled.settings.needs & WG_XDP_M_TCP_OPTION, 0u);
}

TEST(XdpRulesParse, ErrorsNameFileLineColumnAndWhatWasExpected) {
  EXPECT_EQ(error_of(doc("    - {action: drop, match: {source: 10.0.0.300/8}}\n")),
            "rules.yaml:6:38: spec.rules[0].match.source: expected an IPv4 or IPv6 address or network (e.g. "
            "10.0.0.0/8, 192.168.1.1, fd00::/8), got \"10.0.0.300/8\"");
  EXPECT_EQ(error_of(doc("    - {action: drop, match: {source: 10.0.0.1/8}}\n")),
            "rules.yaml:6:38: spec.rules[0].match.source: 10.0.0.1/8: host bits set; did you mean 10.0.0.0/8?");
  EXPECT_EQ(error_of(doc("    - {action: drop, match: {bytes: [{at: l4, offset: 70, value: 1}]}}\n")),
            "rules.yaml:6:55: spec.rules[0].match.bytes[0].offset: offset 70 + length 1 is past any header (at "
            "most 60 from l4; use at: payload for what follows)");
  EXPECT_EQ(error_of(doc("    - {action: drop, match: {destination_port: 53}}\n")),
            "rules.yaml:6:48: spec.rules[0].match.destination_port: destination_port needs protocol: tcp or udp");
  EXPECT_EQ(error_of(doc("    - {action: reject, match: {protocol: udp}}\n")),
            "rules.yaml:6:16: spec.rules[0].action: expected drop, pass, count, rate_limit or sample, got "
            "\"reject\"");
  EXPECT_EQ(error_of(doc("    - {action: drop, match: {protocol: udp, colour: red}}\n")).substr(0, 42),
            "rules.yaml:6:45: unknown key \"colour\" in s");
  EXPECT_EQ(error_of(doc("    - {action: drop, match: {protocol: tcp, tcp_flags: \"syn,!syn\"}}\n")).substr(0, 63),
            "rules.yaml:6:56: spec.rules[0].match.tcp_flags: expected TCP fl");
  EXPECT_EQ(error_of(doc("    - {action: drop, match: {protocol: tcp, tcp_option: {kind: 30, value: 1}}}\n")),
            "rules.yaml:6:75: spec.rules[0].match.tcp_option.value: option kind 30 has no known width: give "
            "bytes (1, 2 or 4) with value");
  EXPECT_EQ(error_of(doc("    - {action: drop, match: {family: ipv6, source: 10.0.0.0/8}}\n")),
            "rules.yaml:6:52: spec.rules[0].match.source: source \"10.0.0.0/8\" is IPv4, but the rule is IPv6 "
            "already");
  EXPECT_EQ(error_of(doc("    - {name: a, action: drop, match: {ttl: 1}}\n    - {name: a, action: drop, match: {ttl: 2}}\n")),
            "rules.yaml:7:7: spec.rules[1]: a second rule is named \"a\" (rule names must be unique)");
  EXPECT_EQ(error_of(doc("    - {action: drop, match: {pcap: \"tcp[tcpflags] &&& 2\"}}\n")),
            "rules.yaml:6:36: spec.rules[0].match.pcap: the tcpdump expression does not compile: can't parse filter "
            "expression: syntax error");
  EXPECT_EQ(error_of(doc("    - {action: drop, match: {pcap: \"ip6 protochain 6\"}}\n")).substr(0, 108),
            "rules.yaml:6:36: spec.rules[0].match.pcap: the expression compiles to a loop (a backward jump, as "
            "protochain");
  EXPECT_EQ(error_of(doc("    - {action: rate_limit, match: {protocol: udp}}\n")),
            "rules.yaml:6:7: spec.rules[0]: missing key \"rate_limit\" (e.g. {rate: 1000, burst: 2000, "
            "ipv4_prefix: 24})");
  EXPECT_EQ(error_of(doc("    - {action: drop, rate_limit: {rate: 5}, match: {protocol: udp}}\n")),
            "rules.yaml:6:34: spec.rules[0].rate_limit: rate_limit is for action: rate_limit");
  EXPECT_EQ(error_of(doc("    - {action: rate_limit, rate_limit: {rate: 5, ipv4_prefix: 33}, match: {ttl: 1}}\n")),
            "rules.yaml:6:63: spec.rules[0].rate_limit.ipv4_prefix: expected a prefix length, 0 to 32, got \"33\"");
  EXPECT_EQ(error_of(doc("    - {action: count, sample: {bytes: 64}, match: {ttl: 1}}\n")),
            "rules.yaml:6:31: spec.rules[0].sample: sample is for action: sample");
  EXPECT_EQ(error_of(doc("    - {action: sample, sample: {bytes: 300}, match: {ttl: 1}}\n")),
            "rules.yaml:6:40: spec.rules[0].sample.bytes: expected bytes, 1 to 256, got \"300\"");
  std::string many;
  for (int i = 0; i < 257; i++) many += "    - {action: drop, match: {ttl: 1}}\n";
  EXPECT_EQ(error_of(doc(many)), "rules.yaml:6:5: spec.rules: 257 rules: at most 256 per rule set");
  EXPECT_EQ(error_of("apiVersion: waggle.dev/v1\nkind: Policy\nmetadata: {name: a}\nspec: {}\n"),
            "rules.yaml:2:7: kind: expected PacketRules, got \"Policy\"");
}

}  // namespace
}  // namespace waggle
