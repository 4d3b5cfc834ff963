// Reading a packet rules file (docs/xdp.md) over the strict YAML reader of src/config, with
// the same "FILE:LINE:COLUMN: path: what" errors as policies. Rules are returned only when
// every part of the file is valid.
#include <yaml-cpp/yaml.h>

#include <sys/socket.h>

#include <map>

#include "config/yaml_check.hpp"
#include "xdp/cbpf_translate.hpp"
#include "xdp/pcap_expression.hpp"
#include "xdp/rules.hpp"
#include "xdp/rules_limits.hpp"

namespace waggle {
namespace {

using yaml_check::Entry;
using yaml_check::quote;
using yaml_check::Reader;
using yaml_check::SchemaError;
using yaml_check::Value;

constexpr std::string_view kApiVersion = "waggle.dev/v1";
constexpr std::string_view kKind = "PacketRules";
constexpr std::string_view kNameExpected = "a name (1 to 63 of a-z, 0-9 and '-', starting with a letter)";
constexpr std::string_view kActionExpected = "drop, pass, count, rate_limit or sample";
constexpr std::string_view kVerdictExpected = "drop or pass";
constexpr std::string_view kNetworkExpected =
    "an IPv4 or IPv6 address or network (e.g. 10.0.0.0/8, 192.168.1.1, fd00::/8)";
constexpr std::string_view kPortExpected = "a port (0 to 65535) or a range LOW-HIGH (e.g. 8000-8080)";
constexpr std::string_view kProtocolExpected = "tcp, udp, icmp, icmpv6 or a protocol number (0 to 255)";
constexpr std::string_view kFamilyExpected = "ipv4 or ipv6";
constexpr std::string_view kFlagsExpected =
    "TCP flags: a comma-separated list of fin, syn, rst, psh, ack, urg, ece, cwr, each set or (with !) not set "
    "(e.g. \"syn,!ack\")";
constexpr std::string_view kExtensionExpected =
    "an IPv6 extension header: hop-by-hop, routing, fragment, destination-options, ah or mobility";
constexpr std::string_view kFragmentExpected = "a fragment kind: none, first or later";

struct Number {
  uint64_t max;
  std::string_view expected;
};

// A YAML integer, unquoted, decimal or 0x-hexadecimal, at most `max`.
uint64_t number(Reader& r, const Value& v, Number n) {
  if (!v.node.IsScalar() || v.node.Tag() == "!") r.fail(v, n.expected, true);
  const std::string& s = v.node.Scalar();
  bool hex = s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
  std::string_view digits = hex ? std::string_view(s).substr(2) : std::string_view(s);
  bool ok = !digits.empty() && digits.size() <= (hex ? 8u : 10u) && (hex || digits.size() == 1 || digits[0] != '0');
  uint64_t value = 0;
  for (char c : digits) {
    int d = c >= '0' && c <= '9' ? c - '0' : hex && c >= 'a' && c <= 'f' ? c - 'a' + 10
                                         : hex && c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                                       : -1;
    if (d < 0) ok = false;
    value = value * (hex ? 16 : 10) + uint64_t(d < 0 ? 0 : d);
  }
  if (!ok || value > n.max) Reader::fail_message(v, "expected " + std::string(n.expected) + ", got " + quote(s));
  return value;
}

// A number, or a range "LOW-HIGH" of them (LOW <= HIGH).
ValueRange range(Reader& r, const Value& v, Number n) {
  if (v.node.IsScalar()) {
    const std::string& s = v.node.Scalar();
    size_t dash = s.find('-', 1);
    if (dash != std::string::npos) {
      Value low{YAML::Node(s.substr(0, dash)), v.path, v.mark};
      Value high{YAML::Node(s.substr(dash + 1)), v.path, v.mark};
      auto bad = [&] { Reader::fail_message(v, "expected " + std::string(n.expected) + ", got " + quote(s)); };
      ValueRange out;
      try {
        out = {uint32_t(number(r, low, n)), uint32_t(number(r, high, n))};
      } catch (const SchemaError&) {
        bad();
      }
      if (out.low > out.high) Reader::fail_message(v, "expected a range LOW-HIGH with LOW <= HIGH, got " + quote(s));
      return out;
    }
  }
  uint32_t value = uint32_t(number(r, v, n));
  return {value, value};
}

// One value or a non-empty sequence of them.
std::vector<Value> one_or_more(Reader& r, const Value& v, std::string_view expected, size_t max) {
  if (!v.node.IsSequence()) return {v};
  std::vector<Value> items = r.sequence(v, expected);
  if (items.empty()) Reader::fail_message(v, "expected " + std::string(expected) + ", got an empty sequence");
  if (items.size() > max)
    Reader::fail_message(v, "expected at most " + std::to_string(max) + " values, got " + std::to_string(items.size()));
  return items;
}

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > 63 || name[0] < 'a' || name[0] > 'z') return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  return true;
}

PacketAction action(Reader& r, const Value& v, bool count_allowed) {
  std::string s = r.string(v, count_allowed ? kActionExpected : kVerdictExpected);
  if (s == "drop") return PacketAction::kDrop;
  if (s == "pass") return PacketAction::kPass;
  if (s == "count" && count_allowed) return PacketAction::kCount;
  if (s == "rate_limit" && count_allowed) return PacketAction::kRateLimit;
  if (s == "sample" && count_allowed) return PacketAction::kSample;
  r.fail(v, count_allowed ? kActionExpected : kVerdictExpected);
}

std::vector<Cidr> networks(Reader& r, const Value& v) {
  std::vector<Cidr> out;
  for (const Value& item : one_or_more(r, v, kNetworkExpected, kMaxNetworksPerRule)) {
    std::string s = r.string(item, kNetworkExpected);
    std::string problem;
    std::optional<Cidr> cidr = parse_cidr(s, &problem);
    if (!cidr) {
      if (problem.empty()) r.fail(item, kNetworkExpected);
      Reader::fail_message(item, problem);
    }
    out.push_back(*cidr);
  }
  return out;
}

std::vector<PortRange> ports(Reader& r, const Value& v) {
  std::vector<PortRange> out;
  for (const Value& item : one_or_more(r, v, kPortExpected, kMaxPortRanges)) {
    ValueRange p = range(r, item, {65535, kPortExpected});
    out.push_back({uint16_t(p.low), uint16_t(p.high)});
  }
  return out;
}

uint8_t protocol(Reader& r, const Value& v) {
  if (v.node.IsScalar() && v.node.Tag() != "!") {
    const std::string& s = v.node.Scalar();
    if (s == "tcp") return 6;
    if (s == "udp") return 17;
    if (s == "icmp") return 1;
    if (s == "icmpv6") return 58;
  }
  return uint8_t(number(r, v, {255, kProtocolExpected}));
}

std::pair<uint8_t, uint8_t> tcp_flags(Reader& r, const Value& v) {
  if (v.node.IsMap()) {
    uint8_t mask = 0, value = 0;
    for (const Entry& e : r.mapping(v, {"mask", "value"})) {
      uint8_t n = uint8_t(number(r, e.value, {255, "a byte (0 to 255, or 0x00 to 0xff)"}));
      (e.key == "mask" ? mask : value) = n;
    }
    if ((value & ~mask) != 0) Reader::fail_message(v, "expected value bits within mask, got bits outside it");
    return {mask, value};
  }
  static const std::map<std::string, uint8_t, std::less<>> bits = {{"fin", 0x01}, {"syn", 0x02}, {"rst", 0x04},
                                                                   {"psh", 0x08}, {"ack", 0x10}, {"urg", 0x20},
                                                                   {"ece", 0x40}, {"cwr", 0x80}};
  std::string s = r.string(v, kFlagsExpected);
  uint8_t mask = 0, value = 0;
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t comma = s.find(',', pos);
    std::string_view part = std::string_view(s).substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
    bool negated = !part.empty() && part[0] == '!';
    if (negated) part.remove_prefix(1);
    auto it = bits.find(part);
    if (it == bits.end() || (mask & it->second))
      Reader::fail_message(v, "expected " + std::string(kFlagsExpected) + ", got " + quote(s));
    mask |= it->second;
    if (!negated) value |= it->second;
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return {mask, value};
}

TcpOptionMatch tcp_option(Reader& r, const Value& v) {
  TcpOptionMatch o;
  std::map<std::string, Value> f;
  for (Entry& e : r.mapping(v, {"kind", "value", "bytes"})) f.emplace(e.key, e.value);
  if (!f.count("kind")) Reader::fail_message(v, "missing key \"kind\" (the option's kind, e.g. 2 for MSS)");
  o.kind = uint8_t(number(r, f["kind"], {255, "an option kind (2 to 255; 0 and 1 are the end and NOP)"}));
  if (o.kind < 2) Reader::fail_message(f["kind"], "expected an option kind of 2 or more: 0 and 1 have no value");
  // The widths of the options whose values are numbers.
  uint8_t width = o.kind == 2 ? 2 : o.kind == 3 ? 1 : o.kind == 8 ? 4 : 0;
  if (f.count("bytes")) {
    uint64_t b = number(r, f["bytes"], {4, "the value's width: 1, 2 or 4 bytes"});
    if (b != 1 && b != 2 && b != 4) Reader::fail_message(f["bytes"], "expected the value's width: 1, 2 or 4 bytes");
    width = uint8_t(b);
  }
  if (f.count("value")) {
    if (width == 0)
      Reader::fail_message(f["value"], "option kind " + std::to_string(o.kind) +
                                           " has no known width: give bytes (1, 2 or 4) with value");
    o.bytes = width;
    uint64_t max = width == 4 ? 0xffffffffull : (1ull << (8 * width)) - 1;
    o.value = range(r, f["value"], {max, "the option's value: a number or a range LOW-HIGH"});
  }
  return o;
}

ByteMatch byte_match(Reader& r, const Value& v) {
  ByteMatch b;
  std::map<std::string, Value> f;
  for (Entry& e : r.mapping(v, {"at", "offset", "length", "mask", "value"})) f.emplace(e.key, e.value);
  for (const char* key : {"at", "offset", "value"})
    if (!f.count(key))
      Reader::fail_message(v, std::string("missing key \"") + key + "\" (e.g. {at: l4, offset: 13, value: 2})");
  std::string at = r.string(f["at"], "l3, l4 or payload");
  if (at == "l3") b.base = ByteBase::kL3;
  else if (at == "l4") b.base = ByteBase::kL4;
  else if (at == "payload") b.base = ByteBase::kPayload;
  else r.fail(f["at"], "l3, l4 or payload");
  b.offset = uint16_t(number(r, f["offset"], {kMaxPayloadOffset, "an offset in bytes"}));
  if (f.count("length")) {
    uint64_t n = number(r, f["length"], {4, "1, 2 or 4 bytes"});
    if (n != 1 && n != 2 && n != 4) Reader::fail_message(f["length"], "expected 1, 2 or 4 bytes");
    b.length = uint8_t(n);
  }
  uint32_t limit = b.base == ByteBase::kPayload ? kMaxPayloadOffset : kMaxHeaderOffset;
  if (uint32_t(b.offset) + b.length > limit)
    Reader::fail_message(f["offset"], "offset " + std::to_string(b.offset) + " + length " + std::to_string(b.length) +
                                          " is past any " + (b.base == ByteBase::kPayload ? "packet" : "header") +
                                          " (at most " + std::to_string(limit) + " from " + at +
                                          (b.base == ByteBase::kPayload ? ")" : "; use at: payload for what follows)"));
  uint64_t max = b.length == 4 ? 0xffffffffull : (1ull << (8 * b.length)) - 1;
  b.mask = uint32_t(max);
  if (f.count("mask")) b.mask = uint32_t(number(r, f["mask"], {max, "a mask as wide as length"}));
  b.value = range(r, f["value"], {max, "a value as wide as length, or a range LOW-HIGH"});
  return b;
}

uint8_t extensions(Reader& r, const Value& v) {
  static const std::map<std::string, uint8_t, std::less<>> kinds = {
      {"hop-by-hop", 1 << 0}, {"routing", 1 << 1}, {"fragment", 1 << 2},
      {"destination-options", 1 << 3}, {"ah", 1 << 4}, {"mobility", 1 << 5}};
  uint8_t mask = 0;
  for (const Value& item : one_or_more(r, v, kExtensionExpected, kinds.size())) {
    auto it = kinds.find(r.string(item, kExtensionExpected));
    if (it == kinds.end()) r.fail(item, kExtensionExpected);
    mask |= it->second;
  }
  return mask;
}

uint8_t fragments(Reader& r, const Value& v) {
  uint8_t mask = 0;
  for (const Value& item : one_or_more(r, v, kFragmentExpected, 3)) {
    std::string s = r.string(item, kFragmentExpected);
    if (s == "none") mask |= 1 << 0;
    else if (s == "first") mask |= 1 << 1;
    else if (s == "later") mask |= 1 << 2;
    else r.fail(item, kFragmentExpected);
  }
  return mask;
}

RateLimit rate_limit(Reader& r, const Value& v) {
  RateLimit out;
  std::map<std::string, Value> f;
  for (Entry& e : r.mapping(v, {"rate", "burst", "ipv4_prefix", "ipv6_prefix"})) f.emplace(e.key, e.value);
  if (!f.count("rate")) Reader::fail_message(v, "missing key \"rate\" (packets a second, per source)");
  out.rate = uint32_t(number(r, f["rate"], {1000000000, "packets a second (1 to 1000000000)"}));
  if (out.rate == 0) Reader::fail_message(f["rate"], "expected packets a second (1 to 1000000000), got 0");
  out.burst = out.rate;
  if (f.count("burst")) {
    out.burst = uint32_t(number(r, f["burst"], {1000000000, "packets (1 to 1000000000)"}));
    if (out.burst == 0) Reader::fail_message(f["burst"], "expected packets (1 to 1000000000), got 0");
  }
  if (f.count("ipv4_prefix")) out.ipv4_prefix = uint8_t(number(r, f["ipv4_prefix"], {32, "a prefix length, 0 to 32"}));
  if (f.count("ipv6_prefix"))
    out.ipv6_prefix = uint8_t(number(r, f["ipv6_prefix"], {128, "a prefix length, 0 to 128"}));
  return out;
}

SampleSettings sample_settings(Reader& r, const Value& v) {
  SampleSettings s;
  bool burst_given = false;
  for (const Entry& e : r.mapping(v, {"bytes", "rate", "burst"})) {
    uint32_t n = uint32_t(number(r, e.value, {e.key == "bytes" ? WG_XDP_SAMPLE_MAX : 1000000u,
                                               e.key == "bytes" ? "bytes, 1 to 256" : "samples, 1 to 1000000"}));
    if (n == 0) Reader::fail_message(e.value, "expected at least 1, got 0");
    (e.key == "bytes" ? s.bytes : e.key == "rate" ? s.rate : s.burst) = n;
    burst_given |= e.key == "burst";
  }
  if (!burst_given) s.burst = s.rate;
  return s;
}

void implied_family(PacketRule& rule, const Value& at, int family, const std::string& why) {
  if (rule.family != 0 && rule.family != family)
    Reader::fail_message(at, why + " is IPv" + std::to_string(family) + ", but the rule is IPv" +
                                 std::to_string(rule.family) + " already");
  rule.family = family;
}

void read_match(Reader& r, const Value& v, PacketRule& rule) {
  std::vector<Entry> entries =
      r.mapping(v, {"family", "source", "destination", "protocol", "source_port", "destination_port", "tcp_flags",
                    "length", "payload_length", "ttl", "ipv6_extensions", "tcp_option", "icmp", "bytes", "vlan",
                    "fragment", "pcap"});
  if (entries.empty()) Reader::fail_message(v, "expected at least one match (e.g. {protocol: udp, destination_port: 53})");
  std::map<std::string, Value> f;
  for (Entry& e : entries) f.emplace(e.key, e.value);
  if (f.count("family")) {
    std::string s = r.string(f["family"], kFamilyExpected);
    if (s != "ipv4" && s != "ipv6") r.fail(f["family"], kFamilyExpected);
    rule.family = s == "ipv4" ? 4 : 6;
  }
  for (const char* key : {"source", "destination"}) {
    if (!f.count(key)) continue;
    std::vector<Cidr> nets = networks(r, f[key]);
    int family = nets[0].family == AF_INET ? 4 : 6;
    for (const Cidr& c : nets)
      if ((c.family == AF_INET ? 4 : 6) != family)
        Reader::fail_message(f[key], "expected networks of one family: IPv4 and IPv6 take one rule each");
    implied_family(rule, f[key], family, std::string(key) + " " + quote(f[key].node.IsSequence() ? "..." : f[key].node.Scalar()));
    (std::string(key) == "source" ? rule.sources : rule.destinations) = nets;
  }
  if (f.count("protocol")) {
    rule.protocol = protocol(r, f["protocol"]);
    if (*rule.protocol == 1) implied_family(rule, f["protocol"], 4, "protocol icmp");
    if (*rule.protocol == 58) implied_family(rule, f["protocol"], 6, "protocol icmpv6");
  }
  auto needs_protocol = [&](const char* key, std::initializer_list<uint8_t> allowed, const char* which) {
    if (!f.count(key)) return false;
    bool ok = rule.protocol && std::find(allowed.begin(), allowed.end(), *rule.protocol) != allowed.end();
    if (!ok) Reader::fail_message(f[key], std::string(key) + " needs protocol: " + which);
    return true;
  };
  if (needs_protocol("source_port", {6, 17}, "tcp or udp")) rule.source_ports = ports(r, f["source_port"]);
  if (needs_protocol("destination_port", {6, 17}, "tcp or udp"))
    rule.destination_ports = ports(r, f["destination_port"]);
  if (needs_protocol("tcp_flags", {6}, "tcp")) rule.tcp_flags = tcp_flags(r, f["tcp_flags"]);
  if (needs_protocol("tcp_option", {6}, "tcp")) rule.tcp_option = tcp_option(r, f["tcp_option"]);
  if (needs_protocol("icmp", {1, 58}, "icmp or icmpv6")) {
    for (const Entry& e : r.mapping(f["icmp"], {"type", "code"}))
      (e.key == "type" ? rule.icmp_type : rule.icmp_code) = uint8_t(number(r, e.value, {255, "0 to 255"}));
  }
  if (f.count("length")) rule.length = range(r, f["length"], {65535, "a length in bytes or a range LOW-HIGH"});
  if (f.count("payload_length"))
    rule.payload_length = range(r, f["payload_length"], {65535, "a length in bytes or a range LOW-HIGH"});
  if (f.count("ttl")) rule.ttl = range(r, f["ttl"], {255, "a TTL (0 to 255) or a range LOW-HIGH"});
  if (f.count("ipv6_extensions")) {
    implied_family(rule, f["ipv6_extensions"], 6, "ipv6_extensions");
    rule.ipv6_extensions = extensions(r, f["ipv6_extensions"]);
  }
  if (f.count("bytes")) {
    for (const Value& item : one_or_more(r, f["bytes"], "a byte match {at, offset, length, mask, value}",
                                         kMaxByteMatches))
      rule.bytes.push_back(byte_match(r, item));
  }
  if (f.count("vlan")) {
    const Value& vlan = f["vlan"];
    if (vlan.node.IsScalar() && vlan.node.Scalar() == "none")
      rule.vlan = kUntagged;
    else
      rule.vlan = uint16_t(number(r, vlan, {4095, "a VLAN id (0 to 4095) or none (untagged)"}));
  }
  if (f.count("fragment")) rule.fragments = fragments(r, f["fragment"]);
  if (f.count("pcap")) {
    rule.pcap = r.string(f["pcap"], "a tcpdump expression (e.g. \"tcp[tcpflags] & tcp-syn != 0\")");
    std::string why;
    if (!compile_pcap(rule.pcap, &rule.pcap_program, &why))
      Reader::fail_message(f["pcap"], "the tcpdump expression does not compile: " + why);
    if (std::string problem = check_classic(rule.pcap_program); !problem.empty())
      Reader::fail_message(f["pcap"], problem);
  }
  bool l4 = rule.protocol && (!rule.source_ports.empty() || !rule.destination_ports.empty() || rule.tcp_flags ||
                              rule.tcp_option || rule.icmp_type || rule.icmp_code || rule.payload_length);
  if (l4 && rule.fragments & (1 << 2))
    Reader::fail_message(f["fragment"], "a later fragment has no L4 header: its ports, flags, options and payload "
                                        "cannot be matched");
}

PacketRule read_rule(Reader& r, const Value& v, size_t index) {
  PacketRule rule;
  rule.line = v.mark.line + 1;
  std::map<std::string, Value> f;
  for (Entry& e : r.mapping(v, {"name", "action", "match", "rate_limit", "sample"})) f.emplace(e.key, e.value);
  rule.name = "rule-" + std::to_string(index + 1);
  if (f.count("name")) {
    rule.name = r.string(f["name"], kNameExpected);
    if (!valid_name(rule.name)) r.fail(f["name"], kNameExpected);
  }
  if (!f.count("action")) Reader::fail_message(v, "missing key \"action\" (drop, pass or count)");
  rule.action = action(r, f["action"], true);
  if (rule.action == PacketAction::kRateLimit) {
    if (!f.count("rate_limit"))
      Reader::fail_message(v, "missing key \"rate_limit\" (e.g. {rate: 1000, burst: 2000, ipv4_prefix: 24})");
    rule.rate_limit = rate_limit(r, f["rate_limit"]);
  } else if (f.count("rate_limit")) {
    Reader::fail_message(f["rate_limit"], "rate_limit is for action: rate_limit");
  }
  if (f.count("sample") && rule.action != PacketAction::kSample)
    Reader::fail_message(f["sample"], "sample is for action: sample");
  if (f.count("sample")) rule.sample = sample_settings(r, f["sample"]);
  if (!f.count("match")) Reader::fail_message(v, "missing key \"match\" (what packets the rule is for)");
  read_match(r, f["match"], rule);
  return rule;
}

PacketRules read_rules(Reader& r, const YAML::Node& node) {
  Value root = r.root(node);
  std::map<std::string, Value> f;
  for (Entry& e : r.mapping(root, {"apiVersion", "kind", "metadata", "spec"})) f.emplace(e.key, e.value);
  for (const char* key : {"apiVersion", "kind", "metadata", "spec"})
    if (!f.count(key)) Reader::fail_message(root, std::string("missing key \"") + key + "\" at the top level");
  if (r.string(f["apiVersion"]) != kApiVersion) r.fail(f["apiVersion"], kApiVersion);
  if (r.string(f["kind"]) != kKind) r.fail(f["kind"], kKind);
  PacketRules rules;
  for (const Entry& e : r.mapping(f["metadata"], {"name"})) {
    rules.name = r.string(e.value, kNameExpected);
    if (!valid_name(rules.name)) r.fail(e.value, kNameExpected);
  }
  if (rules.name.empty()) Reader::fail_message(f["metadata"], "missing key \"name\" (the rule set's name)");
  std::map<std::string, Value> spec;
  for (Entry& e : r.mapping(f["spec"], {"default", "malformed", "rules"})) spec.emplace(e.key, e.value);
  if (spec.count("default")) rules.default_action = action(r, spec["default"], false);
  if (spec.count("malformed")) rules.malformed_action = action(r, spec["malformed"], false);
  if (!spec.count("rules")) Reader::fail_message(f["spec"], "missing key \"rules\" (a non-empty sequence of rules)");
  std::vector<Value> items = r.sequence(spec["rules"], "a non-empty sequence of rules");
  if (items.empty()) Reader::fail_message(spec["rules"], "expected a non-empty sequence of rules, got an empty one");
  if (items.size() > kMaxPacketRules)
    Reader::fail_message(spec["rules"], std::to_string(items.size()) + " rules: at most " +
                                            std::to_string(kMaxPacketRules) + " per rule set");
  std::map<std::string, size_t> names;
  size_t expressions = 0;
  for (size_t i = 0; i < items.size(); i++) {
    PacketRule rule = read_rule(r, items[i], i);
    if (!rule.pcap.empty() && ++expressions > kMaxPcapRules)
      Reader::fail_message(items[i], "more than " + std::to_string(kMaxPcapRules) +
                                         " rules with a tcpdump expression (pcap) in one rule set");
    if (!names.emplace(rule.name, i).second)
      Reader::fail_message(items[i], "a second rule is named " + quote(rule.name) + " (rule names must be unique)");
    rules.rules.push_back(std::move(rule));
  }
  return rules;
}

}  // namespace

std::optional<PacketRules> parse_packet_rules(const std::string& yaml, const std::string& name, std::string* error) {
  return yaml_check::read_document<PacketRules>(
      yaml, name, "packet rules (apiVersion: waggle.dev/v1, kind: PacketRules, metadata, spec)",
      "one rule set per file", error, read_rules);
}

std::optional<PacketRules> load_packet_rules(const std::string& path, std::string* error) {
  std::string text;
  if (!yaml_check::read_file(path, &text, error)) return std::nullopt;
  return parse_packet_rules(text, path, error);
}

std::string_view packet_action_name(PacketAction action) {
  constexpr std::string_view kNames[] = {"pass", "drop", "count", "rate_limit", "sample"};
  return kNames[size_t(action)];
}

}  // namespace waggle
