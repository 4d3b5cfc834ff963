// Packet rules in the real kernel, through BPF_PROG_RUN: crafted frames for every match and
// action, IPv4 and IPv6, with the verdict and the counters checked exactly; the edges that
// parsers get wrong (truncated headers, ihl/doff < 5, options cut off, non-first fragments,
// long extension chains).
#include <bpf/bpf.h>
#include <gtest/gtest.h>

#include <memory>

#include "packets.hpp"
#include "xdp/compile.hpp"
#include "xdp/pcap_expression.hpp"
#include "xdp/rules.hpp"
#include "xdp/xdp_filter.hpp"

namespace waggle::test {
namespace {

constexpr int kDrop = 1, kPass = 2;

// Loads the rules of a spec (YAML below `spec:`); fails the test when they do not load.
class Rules {
 public:
  explicit Rules(const std::string& spec) {
    std::string yaml = "apiVersion: waggle.dev/v1\nkind: PacketRules\nmetadata: {name: test}\nspec:\n" + spec;
    std::string error;
    auto rules = parse_packet_rules(yaml, "rules.yaml", &error);
    if (!rules) {
      ADD_FAILURE() << error;
      return;
    }
    CompiledRules compiled;
    if (!compile_rules(*rules, &compiled, &error)) {
      ADD_FAILURE() << error;
      return;
    }
    filter_ = XdpFilter::load(compiled, &error);
    if (!filter_) ADD_FAILURE() << error;
  }
  // The program's verdict for the frame.
  int run(const Bytes& frame) const { return filter_ ? filter_->run(frame) : -1; }
  uint64_t packets(size_t slot) const { return filter_->counters()[slot].packets; }
  uint64_t bytes(size_t slot) const { return filter_->counters()[slot].bytes; }
  bool loaded() const { return filter_ != nullptr; }
  // Instructions of the rule evaluation as the verifier left them.
  uint32_t evaluation_insns() const {
    bpf_prog_info info{};
    uint32_t len = sizeof(info);
    if (!filter_) return 0;
    const int eval_fd = filter_->program_fd();
    if (bpf_obj_get_info_by_fd(eval_fd, &info, &len) != 0) return 0;
    return info.xlated_prog_len / 8;
  }

 private:
  std::unique_ptr<XdpFilter> filter_;
};

Bytes syn4(const Bytes& options, uint8_t flags = 0x02) { return frame4({}, tcp({.flags = flags, .options = options})); }
Bytes syn6(const Bytes& options) { return frame6({}, tcp({.options = options})); }

const char* kSackPanic = R"(  rules:
    - name: small-mss
      action: drop
      match:
        protocol: tcp
        tcp_flags: syn
        tcp_option: {kind: 2, value: 0-499}
)";

TEST(XdpRules, MssRuleDropsEveryShapeOfSmallMssSynAndPassesTheRest) {
  Rules r(kSackPanic);
  ASSERT_TRUE(r.loaded());
  const std::vector<std::pair<std::string, Bytes>> dropped = {
      {"MSS 48 alone", syn4(mss(48))},
      {"after NOP NOP", syn4(cat({nop(), nop(), mss(48)}))},
      {"after SACK-permitted and timestamps", syn4(cat({sack_permitted(), timestamps(), mss(48)}))},
      {"ECN SYN (0xC2)", syn4(mss(48), 0xc2)},
      {"SYN-ACK", syn4(mss(48), 0x12)},
      {"IPv6", syn6(mss(48))},
      {"MSS 499", syn4(mss(499))},
      {"MSS 0", syn4(mss(0))},
      {"after 36 NOPs (the longest walk)", syn4(cat({Bytes(36, 1), mss(48)}))}};
  uint64_t bytes = 0;
  for (const auto& [what, frame] : dropped) {
    EXPECT_EQ(r.run(frame), kDrop) << what;
    bytes += frame.size();
  }
  const std::vector<std::pair<std::string, Bytes>> passed = {
      {"MSS 536", syn4(mss(536))},
      {"MSS 500", syn4(mss(500))},
      {"no MSS", syn4(cat({sack_permitted(), timestamps()}))},
      {"MSS 48 but not a SYN (ACK)", syn4(mss(48), 0x10)},
      {"MSS cut off at the last byte", frame4({}, tcp({.options = {1, 1, 1, 2}}))},
      {"MSS after a zero-length option", frame4({}, tcp({.options = cat({{5, 0}, mss(48), {1, 1}})}))},
      {"MSS value cut off by the end of options", frame4({}, tcp({.options = {1, 2, 4, 0}}))},
      {"MSS after the end of options", syn4(cat({{0, 1, 1, 1}, mss(48)}))},
      {"UDP", frame4({.proto = 17}, udp(1, 2))}};
  for (const auto& [what, frame] : passed) EXPECT_EQ(r.run(frame), kPass) << what;
  EXPECT_EQ(r.packets(0), dropped.size());
  EXPECT_EQ(r.bytes(0), bytes);
  EXPECT_EQ(r.packets(WG_XDP_SLOT_DEFAULT), passed.size());
  EXPECT_EQ(r.packets(WG_XDP_SLOT_MALFORMED), 0u);
}

TEST(XdpRules, CountRulesCountAndEvaluationGoesOnInOrder) {
  Rules r(R"(  default: pass
  rules:
    - {name: watch-net, action: count, match: {source: 192.0.2.0/24}}
    - {name: watch-net6, action: count, match: {source: "2001:db8::/32"}}
    - {name: dns, action: drop, match: {protocol: udp, destination_port: [53, 5353-5355]}}
    - {name: any-udp, action: pass, match: {protocol: udp}}
    - {name: never, action: drop, match: {protocol: udp}}
)");
  ASSERT_TRUE(r.loaded());
  EXPECT_EQ(r.run(frame4({.proto = 17}, udp(1000, 53))), kDrop);                    // counted, dropped
  EXPECT_EQ(r.run(frame4({.src = "192.0.2.200", .proto = 17}, udp(1000, 5354))), kDrop);
  EXPECT_EQ(r.run(frame4({.src = "203.0.113.9", .proto = 17}, udp(1000, 53))), kDrop);  // not counted
  EXPECT_EQ(r.run(frame4({.proto = 17}, udp(1000, 5356))), kPass);                   // any-udp
  EXPECT_EQ(r.run(frame6({.proto = 17}, udp(1000, 53))), kDrop);
  EXPECT_EQ(r.run(frame6({.src = "2001:db9::1", .proto = 17}, udp(1000, 54))), kPass);
  EXPECT_EQ(r.run(frame4({}, tcp({}))), kPass);  // default
  EXPECT_EQ(r.packets(0), 4u);  // the frames' default source is 192.0.2.1
  EXPECT_EQ(r.packets(1), 1u);
  EXPECT_EQ(r.packets(2), 4u);
  EXPECT_EQ(r.packets(3), 2u);
  EXPECT_EQ(r.packets(4), 0u);
  EXPECT_EQ(r.packets(WG_XDP_SLOT_DEFAULT), 1u);
}

// Whole addresses (hashes) and networks (the trie) in one set, of both families, by source
// and by destination. IPv6 addresses are matched whole, also those that look like IPv4 ones
// (mapped, or with 0xffff where a mapped address has it).
TEST(XdpRules, AddressSetsMatchWholeAddressesAndNetworksOfBothFamilies) {
  Rules r(R"(  default: pass
  rules:
    - {name: blocked4, action: drop, match: {source: [203.0.113.7, 198.18.0.0/15]}}
    - {name: blocked6, action: drop, match: {source: ["2001:db8::bad", "2001:db8:ff::/48", "::ffff:192.0.2.77", "2001:db8::ffff:1:2"]}}
    - {name: to-host4, action: count, match: {destination: 198.51.100.9}}
    - {name: to-host6, action: count, match: {destination: "2001:db8::9"}}
    - {name: to-net-tcp, action: drop, match: {protocol: tcp, destination: 10.1.0.0/16}}
)");
  ASSERT_TRUE(r.loaded());
  const Bytes u = udp(1000, 2000);
  EXPECT_EQ(r.run(frame4({.src = "203.0.113.7", .proto = 17}, u)), kDrop);
  EXPECT_EQ(r.run(frame4({.src = "203.0.113.8", .proto = 17}, u)), kPass);
  EXPECT_EQ(r.run(frame4({.src = "198.19.255.1", .proto = 17}, u)), kDrop);
  EXPECT_EQ(r.run(frame4({.src = "198.20.0.1", .proto = 17}, u)), kPass);
  EXPECT_EQ(r.run(frame4({.src = "192.0.2.77", .proto = 17}, u)), kPass);         // an IPv6 rule's
  EXPECT_EQ(r.run(frame6({.src = "::ffff:203.0.113.7", .proto = 17}, u)), kPass);  // an IPv4 rule's
  EXPECT_EQ(r.packets(0), 2u);
  EXPECT_EQ(r.run(frame6({.src = "2001:db8::bad", .proto = 17}, u)), kDrop);
  EXPECT_EQ(r.run(frame6({.src = "2001:db8::bae", .proto = 17}, u)), kPass);
  EXPECT_EQ(r.run(frame6({.src = "2001:db8:ff:1::1", .proto = 17}, u)), kDrop);
  EXPECT_EQ(r.run(frame6({.src = "2001:db8:fe::1", .proto = 17}, u)), kPass);
  EXPECT_EQ(r.run(frame6({.src = "::ffff:192.0.2.77", .proto = 17}, u)), kDrop);
  EXPECT_EQ(r.run(frame6({.src = "2001:db8::ffff:1:2", .proto = 17}, u)), kDrop);
  EXPECT_EQ(r.run(frame6({.src = "2001:db8::ffff:1:3", .proto = 17}, u)), kPass);
  EXPECT_EQ(r.packets(1), 4u);
  EXPECT_EQ(r.run(frame4({.dst = "198.51.100.9", .proto = 17}, u)), kPass);
  EXPECT_EQ(r.run(frame6({.dst = "2001:db8::9", .proto = 17}, u)), kPass);
  EXPECT_EQ(r.run(frame6({.dst = "2001:db8::8", .proto = 17}, u)), kPass);
  EXPECT_EQ(r.packets(2), 1u);
  EXPECT_EQ(r.packets(3), 1u);
  EXPECT_EQ(r.run(frame4({.dst = "10.1.2.3"}, tcp({}))), kDrop);
  EXPECT_EQ(r.run(frame4({.dst = "10.1.2.3", .proto = 17}, u)), kPass);
  EXPECT_EQ(r.run(frame4({.dst = "10.2.0.1"}, tcp({}))), kPass);
  EXPECT_EQ(r.packets(4), 1u);
  EXPECT_EQ(r.packets(WG_XDP_SLOT_DEFAULT), 12u);
}

// The program is specialized to its rule set: the verifier leaves out the tests and actions
// that no rule uses, so address rules run fewer instructions than a set using every match.
TEST(XdpRules, TheProgramKeepsOnlyTheCodeItsRulesUse) {
  Rules addresses(R"(  rules:
    - {name: blocked, action: drop, match: {source: [203.0.113.7, 198.18.0.0/15]}}
)");
  Rules everything(R"(  rules:
    - {name: a, action: count, match: {vlan: 7, ttl: 0-2, length: 0-100, ipv6_extensions: hop-by-hop}}
    - {name: b, action: rate_limit, rate_limit: {rate: 10, burst: 5}, match: {protocol: tcp, source_port: 1-2, destination_port: 3, tcp_flags: syn, payload_length: 0}}
    - {name: c, action: sample, match: {protocol: tcp, tcp_option: {kind: 2, value: 0-499}}}
    - {name: d, action: drop, match: {protocol: icmp, icmp: {type: 8, code: 0}, fragment: [first]}}
    - {name: e, action: drop, match: {source: 203.0.113.7, bytes: [{at: l3, offset: 1, value: 1}]}}
)");
  ASSERT_TRUE(addresses.loaded() && everything.loaded());
  EXPECT_GT(addresses.evaluation_insns(), 0u);
  EXPECT_LT(addresses.evaluation_insns() * 2, everything.evaluation_insns())
      << addresses.evaluation_insns() << " vs " << everything.evaluation_insns();
  EXPECT_EQ(addresses.run(frame4({.src = "203.0.113.7", .proto = 17}, udp(1, 2))), kDrop);
}

TEST(XdpRules, NonFirstFragmentsAreNeverReadAsPorts) {
  Rules r(R"(  rules:
    - {name: dns, action: drop, match: {protocol: udp, destination_port: 53}}
    - {name: later, action: count, match: {fragment: later}}
)");
  ASSERT_TRUE(r.loaded());
  // Payload bytes where the ports would be: 0x0035 at the destination port's place.
  Bytes fake_ports = {0x12, 0x34, 0x00, 0x35, 0, 8, 0, 0};
  EXPECT_EQ(r.run(frame4({.proto = 17, .frag = 185}, fake_ports)), kPass);  // offset 185 * 8
  EXPECT_EQ(r.run(frame6({.proto = 17, .extensions = {fragment_header(100, false)}}, fake_ports)), kPass);
  // The first fragment has the UDP header.
  EXPECT_EQ(r.run(frame4({.proto = 17, .frag = 0x2000}, udp(1, 53))), kDrop);
  EXPECT_EQ(r.run(frame6({.proto = 17, .extensions = {fragment_header(0, true)}}, udp(1, 53))), kDrop);
  EXPECT_EQ(r.packets(0), 2u);
  EXPECT_EQ(r.packets(1), 2u);
}

TEST(XdpRules, Ipv6ExtensionChainsAreFollowedAndTooLongOnesAreMalformed) {
  Rules r(R"(  malformed: drop
  rules:
    - {name: http, action: drop, match: {protocol: tcp, destination_port: 80}}
    - {name: routed, action: count, match: {ipv6_extensions: [routing, destination-options]}}
)");
  ASSERT_TRUE(r.loaded());
  Extension hop{0, Bytes(6, 0)}, routing{43, Bytes(14, 0)}, dest{60, Bytes(6, 1)};
  EXPECT_EQ(r.run(frame6({.extensions = {hop, routing, dest}}, tcp({}))), kDrop);
  EXPECT_EQ(r.packets(0), 1u);
  EXPECT_EQ(r.run(frame6({.extensions = {hop, dest}}, tcp({.dport = 81}))), kPass);
  EXPECT_EQ(r.run(frame6({.extensions = {routing, dest}}, tcp({.dport = 81}))), kPass);
  EXPECT_EQ(r.packets(1), 1u);  // only the chain with both (the first was dropped before)
  // 16 extension headers are followed; a 17th makes the chain malformed (malformed: drop).
  std::vector<Extension> chain(WG_XDP_MAX_EXT, dest);
  EXPECT_EQ(r.run(frame6({.extensions = chain}, tcp({}))), kDrop);
  EXPECT_EQ(r.packets(0), 2u);
  chain.push_back(dest);
  EXPECT_EQ(r.run(frame6({.extensions = chain}, tcp({.dport = 81}))), kDrop);
  EXPECT_EQ(r.packets(WG_XDP_SLOT_MALFORMED), 1u);
  // An extension header cut off by the end of the packet.
  Bytes cut = frame6({.extensions = {hop}}, {});
  cut.resize(cut.size() - 4);
  cut[14 + 5] -= 4;  // payload length
  EXPECT_EQ(r.run(cut), kDrop);
  EXPECT_EQ(r.packets(WG_XDP_SLOT_MALFORMED), 2u);
}

TEST(XdpRules, TruncatedAndImpossibleHeadersAreMalformed) {
  Rules r(R"(  rules:
    - {name: any-tcp, action: count, match: {protocol: tcp}}
)");
  ASSERT_TRUE(r.loaded());
  Bytes ok = frame4({}, tcp({}));
  Bytes ok6 = frame6({}, tcp({}));
  Bytes ip_cut(ok.begin(), ok.begin() + 14 + 12);
  Bytes tcp_cut = frame4({}, tcp({}));
  tcp_cut.resize(14 + 20 + 12);
  tcp_cut[14 + 3] = 20 + 12;  // total length says so too
  Bytes options_past_end = frame4({}, tcp({.doff = 15}));  // doff says 60 bytes, 20 are there
  const std::vector<std::pair<std::string, Bytes>> malformed = {
      // (BPF_PROG_RUN refuses frames shorter than an Ethernet header.)
      {"VLAN tag cut", Bytes({0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x81, 0x00, 0, 7})},
      {"IPv4 header cut", ip_cut},
      {"ihl 4", frame4({.ihl = 4}, tcp({}))},
      {"ihl 0", frame4({.ihl = 0}, tcp({}))},
      {"total length past the frame", frame4({.total_length = 200}, tcp({}))},
      {"TCP header cut", tcp_cut},
      {"doff 4", frame4({}, tcp({.doff = 4}))},
      {"doff 0", frame4({}, tcp({.doff = 0}))},
      {"doff past the packet", options_past_end},
      {"IPv6 header cut", Bytes(ok6.begin(), ok6.begin() + 14 + 30)}};
  for (const auto& [what, frame] : malformed) EXPECT_EQ(r.run(frame), kPass) << what;
  EXPECT_EQ(r.packets(WG_XDP_SLOT_MALFORMED), malformed.size());
  EXPECT_EQ(r.packets(0), 0u);
  EXPECT_EQ(r.run(ok), kPass);
  EXPECT_EQ(r.run(frame4({.ihl = 6}, tcp({}))), kPass);  // with IP options
  EXPECT_EQ(r.packets(0), 2u);
}

TEST(XdpRules, EveryOtherMatch) {
  Rules r(R"(  default: pass
  rules:
    - {name: low-ttl, action: drop, match: {ttl: 0-2}}
    - {name: big, action: drop, match: {family: ipv4, length: 1000-65535}}
    - {name: empty-udp, action: drop, match: {protocol: udp, payload_length: 0}}
    - {name: ping, action: drop, match: {protocol: icmp, icmp: {type: 8, code: 0}}}
    - {name: ping6, action: drop, match: {protocol: icmpv6, icmp: {type: 128}}}
    - {name: vlan-7, action: drop, match: {vlan: 7}}
    - {name: payload-magic, action: drop, match: {protocol: udp, bytes: [{at: payload, offset: 2, length: 2, value: 0xbeef}]}}
    - {name: tos, action: drop, match: {bytes: [{at: l3, offset: 1, mask: 0xfc, value: 0xb8}]}}
    - {name: urg-port, action: drop, match: {protocol: tcp, source_port: 1-1023, tcp_flags: {mask: 0x20, value: 0x20}}}
    - {name: hop-by-hop, action: drop, match: {ipv6_extensions: hop-by-hop}}
)");
  ASSERT_TRUE(r.loaded());
  struct Case {
    std::string what;
    Bytes frame;
    int verdict;
    int rule;  // counted, or -1
  };
  std::vector<Case> cases = {
      {"ttl 1", frame4({.ttl = 1}, tcp({})), kDrop, 0},
      {"hop limit 2", frame6({.hop_limit = 2}, tcp({})), kDrop, 0},
      {"ttl 3", frame4({.ttl = 3}, tcp({})), kPass, -1},
      {"IPv4 of 1000 bytes", frame4({}, tcp({.payload = Bytes(960, 0)})), kDrop, 1},
      {"IPv4 of 999 bytes", frame4({}, tcp({.payload = Bytes(959, 0)})), kPass, -1},
      {"IPv6 of 1040 bytes", frame6({}, tcp({.payload = Bytes(980, 0)})), kPass, -1},
      {"UDP without payload", frame4({.proto = 17}, udp(1, 2)), kDrop, 2},
      {"UDP with payload", frame4({.proto = 17}, udp(1, 2, {1})), kPass, -1},
      {"echo request", frame4({.proto = 1}, icmp(8, 0)), kDrop, 3},
      {"echo reply", frame4({.proto = 1}, icmp(0, 0)), kPass, -1},
      {"ICMPv6 echo request", frame6({.proto = 58}, icmp(128, 0)), kDrop, 4},
      {"ICMP type 128 over IPv4", frame4({.proto = 1}, icmp(128, 0)), kPass, -1},
      {"VLAN 7", frame4({}, tcp({}), {7}), kDrop, 5},
      {"VLAN 8 in 7 (outer 8)", frame4({}, tcp({}), {8, 7}), kPass, -1},
      {"payload 0xbeef at 2", frame4({.proto = 17}, udp(1, 2, {0, 0, 0xbe, 0xef})), kDrop, 6},
      {"payload 0xbeee at 2", frame4({.proto = 17}, udp(1, 2, {0, 0, 0xbe, 0xee})), kPass, -1},
      {"payload too short", frame4({.proto = 17}, udp(1, 2, {0, 0, 0xbe})), kPass, -1},
      {"urgent from port 80", frame4({}, tcp({.sport = 80, .flags = 0x20})), kDrop, 8},
      {"urgent from port 1024", frame4({}, tcp({.sport = 1024, .flags = 0x20})), kPass, -1},
      {"hop-by-hop", frame6({.extensions = {{0, Bytes(6, 0)}}}, tcp({})), kDrop, 9},
  };
  // DSCP 46 (EF) in the TOS byte, ECN bits masked off.
  Bytes ef = frame4({}, tcp({}));
  ef[15] = 0xb9;
  cases.push_back({"DSCP EF", ef, kDrop, 7});
  std::vector<uint64_t> expected(WG_XDP_SLOTS, 0);
  for (const Case& c : cases) {
    EXPECT_EQ(r.run(c.frame), c.verdict) << c.what;
    expected[c.rule >= 0 ? size_t(c.rule) : WG_XDP_SLOT_DEFAULT]++;
  }
  for (size_t slot = 0; slot <= 9; slot++) EXPECT_EQ(r.packets(slot), expected[slot]) << "rule " << slot;
  EXPECT_EQ(r.packets(WG_XDP_SLOT_DEFAULT), expected[WG_XDP_SLOT_DEFAULT]);
}

// Every tcpdump-expression rule gives libpcap's own verdict (pcap_offline_filter) on the same
// frames: the classic program translated to eBPF runs in the kernel.
TEST(XdpRules, TcpdumpExpressionsAgreeWithLibpcapOnEveryFrame) {
  const std::vector<std::string> expressions = {
      "tcp[tcpflags] & tcp-syn != 0 and tcp[20:2] = 0x0204 and tcp[22:2] < 500",
      "udp port 53",
      "vlan and udp port 53",
      "ip6 and tcp dst port 80",
      "icmp[icmptype] = icmp-echo",
      "ip[6:2] & 0x1fff != 0",
      "tcp[tcpflags] & (tcp-syn|tcp-ack) = tcp-syn",
      "src net 192.0.2.0/24 and not dst host 198.51.100.3",
      "greater 200",
      "arp",
      "ip and ip[8] < 5",
      "udp[8:4] = 0xdeadbeef",
      "tcp[((tcp[12] & 0xf0) >> 2):4] = 0x47455420",  // "GET " at the payload's start
  };
  std::vector<std::pair<std::string, Bytes>> frames = {
      {"SYN MSS 48", syn4(mss(48))},
      {"SYN NOP NOP MSS 48", syn4(cat({nop(), nop(), mss(48)}))},
      {"SYN MSS 536", syn4(mss(536))},
      {"SYN-ACK MSS 48", syn4(mss(48), 0x12)},
      {"IPv6 SYN to 80", syn6(mss(1440))},
      {"IPv6 with a hop-by-hop header", frame6({.extensions = {{0, Bytes(6, 0)}}}, tcp({}))},
      {"UDP to 53", frame4({.proto = 17}, udp(5000, 53))},
      {"UDP to 53 in VLAN 7", frame4({.proto = 17}, udp(5000, 53), {7})},
      {"UDP with 0xdeadbeef", frame4({.proto = 17}, udp(1, 2, {0xde, 0xad, 0xbe, 0xef}))},
      {"a later fragment", frame4({.proto = 17, .frag = 100}, Bytes(16, 0))},
      {"echo request", frame4({.proto = 1}, icmp(8, 0))},
      {"echo reply", frame4({.proto = 1}, icmp(0, 0))},
      {"TTL 3", frame4({.ttl = 3}, tcp({}))},
      {"from 192.0.2.9 to .3", frame4({.src = "192.0.2.9", .dst = "198.51.100.3"}, tcp({.flags = 0x10}))},
      {"a 300-byte packet", frame4({}, tcp({.flags = 0x18, .payload = Bytes(246, 'a')}))},
      {"HTTP GET", frame4({}, tcp({.flags = 0x18, .payload = {'G', 'E', 'T', ' ', '/'}}))},
      {"HTTP GET, IP options", frame4({.ihl = 7}, tcp({.flags = 0x18, .payload = {'G', 'E', 'T', ' ', '/'}}))},
      {"ARP", ethernet(0x0806, Bytes(28, 0))},
  };
  for (const std::string& expression : expressions) {
    Rules r("  rules:\n    - {name: expr, action: drop, match: {pcap: \"" + expression + "\"}}\n");
    ASSERT_TRUE(r.loaded()) << expression;
    std::vector<sock_filter> program;
    std::string error;
    ASSERT_TRUE(compile_pcap(expression, &program, &error)) << error;
    uint64_t accepted = 0;
    for (const auto& [what, frame] : frames) {
      bool pcap = pcap_accepts(program, frame);
      accepted += pcap;
      EXPECT_EQ(r.run(frame), pcap ? kDrop : kPass) << expression << " on " << what;
    }
    EXPECT_EQ(r.packets(0), accepted) << expression;
    EXPECT_GT(accepted, 0u) << expression << " matches none of the frames: a weak case";
    EXPECT_LT(accepted, frames.size()) << expression << " matches every frame: a weak case";
  }
}

// A token bucket per source prefix: a burst of 10 passes, the rest of a flood is dropped and
// counted, another source has its own bucket. (At 1 packet a second the bucket refills by
// less than one packet while the test runs.)
TEST(XdpRules, RateLimitKeepsOneBucketPerSourcePrefix) {
  Rules r(R"(  rules:
    - name: per-24
      action: rate_limit
      rate_limit: {rate: 1, burst: 10, ipv4_prefix: 24, ipv6_prefix: 64}
      match: {protocol: udp}
)");
  ASSERT_TRUE(r.loaded());
  auto from = [](const std::string& src) { return frame4({.src = src, .proto = 17}, udp(1000, 2000)); };
  auto from6 = [](const std::string& src) { return frame6({.src = src, .proto = 17}, udp(1000, 2000)); };
  int passed_a = 0, passed_b = 0, passed_6 = 0;
  for (int i = 0; i < 25; i++) {
    passed_a += r.run(from("192.0.2.1")) == kPass;
    passed_a += r.run(from("192.0.2.77")) == kPass;  // the same /24: the same bucket
    passed_b += r.run(from("203.0.113.5")) == kPass;
    passed_6 += r.run(from6(i % 2 ? "2001:db8:0:1::1" : "2001:db8:0:1:ffff::9")) == kPass;  // one /64
  }
  EXPECT_EQ(passed_a, 10);
  EXPECT_EQ(passed_b, 10);
  EXPECT_EQ(passed_6, 10);
  EXPECT_EQ(r.packets(0), uint64_t(50 - 10 + 25 - 10 + 25 - 10));  // the rule counts what it dropped
  EXPECT_EQ(r.packets(WG_XDP_SLOT_DEFAULT), 30u);                   // the others went on: the default passed them
  EXPECT_EQ(r.run(frame4({.src = "192.0.2.1"}, tcp({}))), kPass);   // not UDP: not limited
}

// Several expressions in one rule set, between ordinary rules: each sets its own bit along
// the chain, and the rules decide in order. The expected verdict is worked out from
// libpcap's verdict for each expression.
TEST(XdpRules, SeveralExpressionsChainAmongOrdinaryRules) {
  Rules r(R"(  rules:
    - {name: watch-udp, action: count, match: {protocol: udp}}
    - {name: syn, action: drop, match: {pcap: "tcp[tcpflags] & tcp-syn != 0"}}
    - {name: telnet, action: drop, match: {protocol: tcp, destination_port: 23}}
    - {name: dns, action: count, match: {pcap: "udp port 53"}}
    - {name: big-dns, action: drop, match: {pcap: "udp port 53 and greater 100", ttl: 0-63}}
    - {name: v6, action: pass, match: {pcap: "ip6"}}
    - {name: rest-udp, action: drop, match: {protocol: udp}}
)");
  ASSERT_TRUE(r.loaded());
  std::vector<sock_filter> syn, dns, big, v6;
  std::string error;
  ASSERT_TRUE(compile_pcap("tcp[tcpflags] & tcp-syn != 0", &syn, &error) && compile_pcap("udp port 53", &dns, &error) &&
              compile_pcap("udp port 53 and greater 100", &big, &error) && compile_pcap("ip6", &v6, &error));
  struct Frame {
    Bytes bytes;
    bool udp, tcp23;
    int ttl;
  };
  std::vector<Frame> frames = {
      {syn4(mss(1460)), false, false, 64},
      {frame4({}, tcp({.dport = 23, .flags = 0x10})), false, true, 64},
      {frame4({}, tcp({.dport = 80, .flags = 0x10})), false, false, 64},
      {frame4({.proto = 17}, udp(1, 53)), true, false, 64},
      {frame4({.proto = 17, .ttl = 64}, udp(1, 53, Bytes(80, 0))), true, false, 64},
      {frame4({.proto = 17, .ttl = 63}, udp(1, 53, Bytes(80, 0))), true, false, 63},
      {frame4({.proto = 17}, udp(1, 99)), true, false, 64},
      {frame6({.proto = 17}, udp(1, 99)), true, false, 64},
      {syn6(mss(1460)), false, false, 64},
  };
  std::vector<uint64_t> counts(7, 0);
  uint64_t defaults = 0;
  for (const Frame& f : frames) {
    int expected = kPass;
    bool decided = false;
    auto decide = [&](size_t rule, bool matches, int verdict) {
      if (decided || !matches) return;
      counts[rule]++;
      if (verdict) {
        expected = verdict;
        decided = true;
      }
    };
    decide(0, f.udp, 0);
    decide(1, pcap_accepts(syn, f.bytes), kDrop);
    decide(2, f.tcp23, kDrop);
    decide(3, pcap_accepts(dns, f.bytes), 0);
    decide(4, pcap_accepts(big, f.bytes) && f.ttl <= 63, kDrop);
    decide(5, pcap_accepts(v6, f.bytes), kPass);
    decide(6, f.udp, kDrop);
    if (!decided) defaults++;
    EXPECT_EQ(r.run(f.bytes), expected) << "frame " << (&f - frames.data());
  }
  for (size_t i = 0; i < counts.size(); i++) EXPECT_EQ(r.packets(i), counts[i]) << "rule " << i;
  EXPECT_EQ(r.packets(WG_XDP_SLOT_DEFAULT), defaults);
  EXPECT_EQ(r.packets(WG_XDP_SLOT_CHAIN_BROKEN), 0u);
  EXPECT_GT(counts[4], 0u);
  EXPECT_GT(counts[5], 0u);
}

TEST(XdpRules, DefaultDropAndMalformedDrop) {
  Rules r(R"(  default: drop
  malformed: drop
  rules:
    - {name: ssh, action: pass, match: {protocol: tcp, destination_port: 22}}
)");
  ASSERT_TRUE(r.loaded());
  EXPECT_EQ(r.run(frame4({}, tcp({.dport = 22}))), kPass);
  EXPECT_EQ(r.run(frame4({}, tcp({.dport = 23}))), kDrop);
  EXPECT_EQ(r.run(frame4({}, tcp({.doff = 3}))), kDrop);
  Bytes arp = ethernet(0x0806, Bytes(28, 0));
  EXPECT_EQ(r.run(arp), kDrop);  // not IP: no rule matches it, the default drops it
  EXPECT_EQ(r.packets(0), 1u);
  EXPECT_EQ(r.packets(WG_XDP_SLOT_DEFAULT), 2u);
  EXPECT_EQ(r.packets(WG_XDP_SLOT_MALFORMED), 1u);
}

}  // namespace
}  // namespace waggle::test
