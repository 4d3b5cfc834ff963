// Reading a policy file: the schema walk of docs/policies.md over the strict YAML reader of
// src/config (yaml_check), with the same "FILE:LINE:COLUMN: path: what" errors as the
// configuration. A policy is returned only when every part of it is valid.
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/types.h>
#include <sys/socket.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <map>
#include <system_error>

#include "config/limits.hpp"
#include "config/net_values.hpp"
#include "config/yaml_check.hpp"
#include "policy/policy.hpp"
#include "records.h"

namespace waggle {
namespace {

using yaml_check::Entry;
using yaml_check::quote;
using yaml_check::Reader;
using yaml_check::SchemaError;
using yaml_check::Value;

constexpr size_t kBinaryMax = 255;      // bytes of a binary value, as stored (without the '*')
constexpr int64_t kIdMax = 4294967294;  // (uid_t)-1 means "no id"
constexpr int kRateDigitsMax = 9;

constexpr std::string_view kApiVersion = "waggle.dev/v1";
constexpr std::string_view kKind = "Policy";

constexpr std::string_view kPolicyNameExpected =
    "a policy name (1 to 63 of a-z, 0-9 and '-', starting with a letter)";
constexpr std::string_view kRuleNameExpected =
    "a rule name (1 to 63 of a-z, 0-9 and '-', starting with a letter)";
constexpr std::string_view kModeExpected = "enforce or monitor";
constexpr std::string_view kEventExpected = "file.open, process.exec, network.connect or network.accept";
constexpr std::string_view kActionExpected = "log, kill, deny or count";
constexpr std::string_view kRateExpected = "a rate: N/s or N/m, N a positive integer (e.g. 10/s)";
constexpr std::string_view kRulesExpected = "a non-empty sequence of rules";
constexpr std::string_view kBinariesExpected =
    "a non-empty sequence of executable paths (e.g. [/usr/bin/curl, /opt/tools/*])";
constexpr std::string_view kArgsExpected =
    "a non-empty sequence of argument values (e.g. [--privileged, -e])";
constexpr size_t kArgMax = WG_ARG_MAX - 2;  // bytes of an argument value
constexpr std::string_view kCgroupsExpected =
    "a non-empty sequence of cgroup paths (e.g. [/system.slice/sshd.service])";
constexpr std::string_view kContainersExpected =
    "a non-empty sequence of container ids or prefixes of them (e.g. [3f2a9c1b7d04])";
constexpr std::string_view kUidsExpected = "a non-empty sequence of uids (e.g. [0, 1000])";
constexpr std::string_view kGidsExpected = "a non-empty sequence of gids (e.g. [0, 1000])";
constexpr std::string_view kUidExpected = "a uid (an integer between 0 and 4294967294)";
constexpr std::string_view kGidExpected = "a gid (an integer between 0 and 4294967294)";
constexpr std::string_view kPrefixesExpected = "a non-empty sequence of path prefixes (e.g. [/etc/])";
constexpr std::string_view kExactsExpected = "a non-empty sequence of paths (e.g. [/etc/shadow])";
constexpr std::string_view kSuffixesExpected = "a non-empty sequence of suffixes (e.g. [.pem])";
constexpr std::string_view kNetworksExpected =
    "a non-empty sequence of networks (e.g. [10.0.0.0/8, \"fd00::/8\"])";
constexpr std::string_view kNetworkExpected =
    "an IPv4 or IPv6 address or network (e.g. 10.0.0.0/8, 192.168.1.1, fd00::/8)";
constexpr std::string_view kPortsExpected = "a non-empty sequence of ports or ranges (e.g. [443, 8000-8080])";
constexpr std::string_view kPortExpected = "a port (an integer between 1 and 65535) or a range LOW-HIGH";
constexpr std::string_view kProtocolsExpected = "a non-empty sequence of protocols (tcp, udp)";
constexpr std::string_view kProtocolExpected = "tcp or udp";

// Reports a problem found with `value` at its node.
void check(const Value& value, const std::string& problem) {
  if (!problem.empty()) Reader::fail_message(value, problem);
}

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxPolicyName || name[0] < 'a' || name[0] > 'z') return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

// The entries of a mapping by key (each key is given once: the reader checked), so that
// they can be read in the order their meaning needs rather than the order of the file.
using Fields = std::map<std::string, Value, std::less<>>;

Fields by_key(std::vector<Entry> entries) {
  Fields fields;
  for (Entry& e : entries) fields.emplace(std::move(e.key), std::move(e.value));
  return fields;
}

const Value* field(const Fields& fields, std::string_view key) {
  auto it = fields.find(key);
  return it == fields.end() ? nullptr : &it->second;
}

const Value& required(const Fields& fields, const Value& parent, std::string_view key,
                      std::string_view what) {
  const Value* value = field(fields, key);
  if (!value) {
    std::string message = "missing key " + quote(key);
    if (parent.path.empty()) message += " at the top level";
    Reader::fail_message(parent, message + " (" + std::string(what) + ")");
  }
  return *value;
}

// The position of `key` in the mapping `map`, for errors about the key rather than its value.
YAML::Mark key_mark(const Value& map, std::string_view key) {
  for (auto it = map.node.begin(); it != map.node.end(); ++it) {
    const YAML::Node k = it->first;
    if (k.IsScalar() && k.Scalar() == key) return k.Mark();
  }
  return map.mark;
}

// The items of a list that must hold between 1 and kMaxValuesPerSelector values.
std::vector<Value> read_list(Reader& r, const Value& list, std::string_view expected) {
  std::vector<Value> items = r.sequence(list, expected);
  if (items.empty()) {
    Reader::fail_message(list, "expected " + std::string(expected) + ", got an empty sequence");
  }
  if (items.size() > kMaxValuesPerSelector) {
    Reader::fail_message(list, "expected at most " + std::to_string(kMaxValuesPerSelector) + " values, got " +
                                   std::to_string(items.size()));
  }
  return items;
}

// "got ..." for a selector mapping without any entry.
std::string describe_empty(const Reader& r, const Value& value) {
  return value.node.IsMap() ? "an empty mapping" : r.describe(value.node);
}

// `{in: [...]}` or `{notIn: [...]}`: whether it is notIn, and the list.
std::pair<bool, Value> read_in_or_not_in(Reader& r, const Value& value, std::string_view example) {
  std::vector<Entry> entries = r.mapping(value, {"in", "notIn"});
  if (entries.empty()) {
    Reader::fail_message(value, "expected {in: [...]} or {notIn: [...]} (e.g. " + std::string(example) +
                                    "), got " + describe_empty(r, value));
  }
  if (entries.size() > 1) {
    Reader::fail_message(Value{value.node, value.path, key_mark(value, entries[1].key)},
                         "expected either in or notIn, got both");
  }
  return {entries[0].key == "notIn", entries[0].value};
}

// A value quoted with its size in bytes, for "too long" errors.
std::string quote_with_size(const std::string& s) {
  std::string got = quote(s);
  if (!got.ends_with(" bytes)")) got += " (" + std::to_string(s.size()) + " bytes)";
  return got;
}

// Exact argument values: a rule with `in` holds when any argument of the exec equals one of
// them, with `notIn` when none does.
StringSetSelector read_args(Reader& r, const Value& value) {
  auto [negate, list] = read_in_or_not_in(r, value, "{in: [--privileged, -e]}");
  StringSetSelector selector;
  selector.negate = negate;
  for (const Value& item : read_list(r, list, kArgsExpected)) {
    std::string s = r.string(item, "an argument value");
    if (s.size() > kArgMax || s.find('\0') != std::string::npos) {
      Reader::fail_message(item, "expected an argument of at most " + std::to_string(kArgMax) +
                                     " bytes without NUL, got " + quote_with_size(s));
    }
    selector.exact.push_back(std::move(s));
  }
  return selector;
}

// An executable path, exact or (with a trailing '*') a prefix.
StringSetSelector read_binaries(Reader& r, const Value& value) {
  auto [negate, list] = read_in_or_not_in(r, value, "{notIn: [/usr/sbin/sshd, /usr/lib/openssh/*]}");
  StringSetSelector selector;
  selector.negate = negate;
  for (const Value& item : read_list(r, list, kBinariesExpected)) {
    std::string s = r.string(item, "an executable path");
    if (s.empty() || s[0] != '/') {
      r.fail(item, "an absolute path (starting with '/', optionally ending with '*' for a prefix)");
    }
    size_t star = s.find('*');
    bool is_prefix = star == s.size() - 1;
    if (star != std::string::npos && !is_prefix) {
      Reader::fail_message(
          item, "expected '*' only at the end of a path (a prefix, e.g. /usr/lib/*), got " + quote(s));
    }
    if (is_prefix) s.pop_back();
    if (s.size() > kBinaryMax) {
      Reader::fail_message(item, "expected a path of at most " + std::to_string(kBinaryMax) + " bytes, got " +
                                     quote_with_size(s));
    }
    if (s.find('\0') != std::string::npos) {
      Reader::fail_message(item, "expected a path without NUL bytes, got " + quote(s));
    }
    (is_prefix ? selector.prefix : selector.exact).push_back(std::move(s));
  }
  return selector;
}

StringSetSelector read_cgroups(Reader& r, const Value& value) {
  auto [negate, list] = read_in_or_not_in(r, value, "{in: [/system.slice/nginx.service]}");
  StringSetSelector selector;
  selector.negate = negate;
  for (const Value& item : read_list(r, list, kCgroupsExpected)) {
    std::string s = r.string(item, "a cgroup path");
    if (s.empty() || s[0] != '/') {
      r.fail(item, "a cgroup v2 path (starting with '/', relative to the cgroup2 mount)");
    }
    if (s.find('\0') != std::string::npos) {
      Reader::fail_message(item, "expected a cgroup path without NUL bytes, got " + quote(s));
    }
    selector.exact.push_back(std::move(s));
  }
  return selector;
}

// Container ids, or prefixes of them (as `docker ps` shows them): lowercase hex.
StringSetSelector read_containers(Reader& r, const Value& value) {
  auto [negate, list] = read_in_or_not_in(r, value, "{in: [3f2a9c1b7d04]}");
  StringSetSelector selector;
  selector.negate = negate;
  for (const Value& item : read_list(r, list, kContainersExpected)) {
    std::string s = r.string(item, "a container id");
    check(item, limits::check_container_id(s));
    selector.exact.push_back(std::move(s));
  }
  return selector;
}

IdSetSelector read_ids(Reader& r, const Value& value, std::string_view list_expected,
                       std::string_view expected) {
  auto [negate, list] = read_in_or_not_in(r, value, "{in: [0]}");
  IdSetSelector selector;
  selector.negate = negate;
  for (const Value& item : read_list(r, list, list_expected)) {
    int64_t id = r.integer(item, expected);
    if (id < 0 || id > kIdMax) {
      Reader::fail_message(item, "expected " + std::string(expected) + ", got " + std::to_string(id));
    }
    selector.ids.push_back(static_cast<uint32_t>(id));
  }
  return selector;
}

PathSelector read_paths(Reader& r, const Value& value) {
  std::vector<Entry> entries = r.mapping(value, {"prefix", "exact", "suffix"});
  if (entries.empty()) {
    Reader::fail_message(value,
                         "expected at least one of prefix, exact or suffix (e.g. {prefix: [/etc/]}), got " +
                             describe_empty(r, value));
  }
  PathSelector selector;
  for (const Entry& e : entries) {
    std::vector<std::string>* values = &selector.prefix;
    std::string_view expected = kPrefixesExpected;
    std::string (*check_one)(std::string_view) = limits::check_prefix;
    if (e.key == "exact") {
      values = &selector.exact;
      expected = kExactsExpected;
      check_one = limits::check_exact;
    } else if (e.key == "suffix") {
      values = &selector.suffix;
      expected = kSuffixesExpected;
      check_one = limits::check_suffix;
    }
    for (const Value& item : read_list(r, e.value, expected)) {
      std::string s = r.string(item);
      check(item, check_one(s));
      values->push_back(std::move(s));
    }
  }
  return selector;
}

DestinationSelector read_destination(Reader& r, const Value& value) {
  std::vector<Entry> entries = r.mapping(value, {"cidr", "notCidr"});
  if (entries.empty()) {
    Reader::fail_message(value,
                         "expected {cidr: [...]} or {notCidr: [...]} (e.g. {notCidr: [10.0.0.0/8]}), got " +
                             describe_empty(r, value));
  }
  if (entries.size() > 1) {
    Reader::fail_message(Value{value.node, value.path, key_mark(value, entries[1].key)},
                         "expected either cidr or notCidr, got both");
  }
  DestinationSelector selector;
  selector.negate = entries[0].key == "notCidr";
  for (const Value& item : read_list(r, entries[0].value, kNetworksExpected)) {
    std::string s = r.string(item, kNetworkExpected);
    std::string problem;
    std::optional<Cidr> cidr = parse_cidr(s, &problem);
    if (!cidr) {
      if (problem.empty()) r.fail(item, kNetworkExpected);
      Reader::fail_message(item, problem);
    }
    selector.cidrs.push_back(*cidr);
  }
  return selector;
}

std::vector<PortRange> read_ports(Reader& r, const Value& value) {
  std::vector<PortRange> ports;
  for (const Value& item : read_list(r, value, kPortsExpected)) {
    if (item.node.IsScalar() && item.node.Scalar().find('-', 1) != std::string::npos) {
      std::string s = r.string(item, kPortExpected);
      size_t dash = s.find('-', 1);
      auto low = parse_port(std::string_view(s).substr(0, dash));
      auto high = parse_port(std::string_view(s).substr(dash + 1));
      if (!low || !high) r.fail(item, kPortExpected);
      if (*low > *high) {
        Reader::fail_message(item, "expected a range LOW-HIGH with LOW <= HIGH, got " + quote(s));
      }
      ports.push_back(PortRange{*low, *high});
      continue;
    }
    int64_t port = r.integer(item, kPortExpected);
    if (port < 1 || port > 65535) {
      Reader::fail_message(item, "expected " + std::string(kPortExpected) + ", got " + std::to_string(port));
    }
    ports.push_back(PortRange{static_cast<uint16_t>(port), static_cast<uint16_t>(port)});
  }
  return ports;
}

void read_protocols(Reader& r, const Value& value, Rule& rule) {
  rule.tcp = rule.udp = false;
  for (const Value& item : read_list(r, value, kProtocolsExpected)) {
    std::string s = r.string(item, kProtocolExpected);
    if (s == "tcp") {
      rule.tcp = true;
    } else if (s == "udp") {
      rule.udp = true;
    } else {
      r.fail(item, kProtocolExpected);
    }
  }
}

void read_match(Reader& r, const Value& value, Rule& rule) {
  std::vector<Entry> entries =
      r.mapping(value, {"path", "binary", "parentBinary", "args", "uid", "gid", "cgroup", "container",
                        "destination", "source", "port", "protocol"});
  bool network = rule.on == RuleEvent::kNetworkConnect || rule.on == RuleEvent::kNetworkAccept;
  // Deny on network.accept refuses a connection's first packet, before any process accepts it:
  // only what the packet and its socket say can select it.
  bool on_arrival = rule.on == RuleEvent::kNetworkAccept && rule.action == RuleAction::kDeny;
  bool protocol_given = false;
  for (const Entry& e : entries) {
    Value at{e.value.node, e.value.path, key_mark(value, e.key)};
    std::string_view only;
    if (e.key == "path") only = "file.open";
    if (e.key == "args") only = "process.exec";
    if (e.key == "destination") only = "network.connect";
    if (e.key == "source") only = "network.accept";
    if ((e.key == "port" || e.key == "protocol") && !network) only = "network.connect and network.accept";
    if (!only.empty() && only.find(event_name(rule.on)) == std::string_view::npos) {
      Reader::fail_message(at, "only possible on " + std::string(only) + ", and this rule is on " +
                                   std::string(event_name(rule.on)));
    }
    if (on_arrival && e.key != "source" && e.key != "port" && e.key != "protocol" && e.key != "cgroup") {
      Reader::fail_message(at,
                           "not possible with deny on network.accept, which refuses a connection when its "
                           "first packet arrives, before any process accepts it (expected source, port, "
                           "protocol or cgroup)");
    }
    if (e.key == "path") {
      rule.path = read_paths(r, e.value);
    } else if (e.key == "binary") {
      rule.binary = read_binaries(r, e.value);
    } else if (e.key == "parentBinary") {
      rule.parent_binary = read_binaries(r, e.value);
    } else if (e.key == "args") {
      rule.args = read_args(r, e.value);
    } else if (e.key == "uid") {
      rule.uid = read_ids(r, e.value, kUidsExpected, kUidExpected);
    } else if (e.key == "gid") {
      rule.gid = read_ids(r, e.value, kGidsExpected, kGidExpected);
    } else if (e.key == "cgroup") {
      rule.cgroup = read_cgroups(r, e.value);
    } else if (e.key == "container") {
      rule.container = read_containers(r, e.value);
    } else if (e.key == "destination" || e.key == "source") {
      rule.destination = read_destination(r, e.value);
    } else if (e.key == "port") {
      rule.ports = read_ports(r, e.value);
    } else {
      read_protocols(r, e.value, rule);
      protocol_given = true;
      if (rule.on == RuleEvent::kNetworkAccept && rule.udp && rule.action != RuleAction::kDeny) {
        Reader::fail_message(at,
                             "udp on network.accept is only possible with action deny (a UDP socket "
                             "accepts nothing: its datagrams can only be refused as they arrive)");
      }
    }
  }
  // Without a protocol selector, network.accept means TCP connections: UDP datagrams are judged
  // only when a deny rule asks for them.
  if (rule.on == RuleEvent::kNetworkAccept && !protocol_given) rule.udp = false;
}

// "N/s" or "N/m", as events per second.
std::optional<double> parse_rate(std::string_view s) {
  size_t slash = s.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash > static_cast<size_t>(kRateDigitsMax) ||
      s[0] == '0') {
    return std::nullopt;
  }
  int64_t n = 0;
  for (char c : s.substr(0, slash)) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  std::string_view unit = s.substr(slash + 1);
  if (unit == "s") return static_cast<double>(n);
  if (unit == "m") return static_cast<double>(n) / 60.0;
  return std::nullopt;
}

Rule read_rule(Reader& r, const Value& value, size_t index) {
  const Fields fields = by_key(r.mapping(value, {"name", "on", "match", "action", "rateLimit"}));
  Rule rule;
  if (const Value* name = field(fields, "name")) {
    rule.name = r.string(*name, kRuleNameExpected);
    if (!valid_name(rule.name)) r.fail(*name, kRuleNameExpected);
  } else {
    rule.name = "rule-" + std::to_string(index + 1);
  }

  const Value& on = required(fields, value, "on", "the event: " + std::string(kEventExpected));
  std::string event = r.string(on, kEventExpected);
  if (event == "file.open") {
    rule.on = RuleEvent::kFileOpen;
  } else if (event == "process.exec") {
    rule.on = RuleEvent::kProcessExec;
  } else if (event == "network.connect") {
    rule.on = RuleEvent::kNetworkConnect;
  } else if (event == "network.accept") {
    rule.on = RuleEvent::kNetworkAccept;
  } else {
    r.fail(on, kEventExpected);
  }

  const Value& action_value = required(fields, value, "action", std::string(kActionExpected));
  std::string action = r.string(action_value, kActionExpected);
  if (action == "log") {
    rule.action = RuleAction::kLog;
  } else if (action == "kill") {
    rule.action = RuleAction::kKill;
  } else if (action == "deny") {
    rule.action = RuleAction::kDeny;
    if (rule.on != RuleEvent::kNetworkConnect && rule.on != RuleEvent::kNetworkAccept) {
      Reader::fail_message(action_value,
                           "deny is only possible for network.connect and network.accept (a cgroup hook "
                           "can refuse a connection); use kill");
    }
  } else if (action == "count") {
    rule.action = RuleAction::kCount;
  } else {
    r.fail(action_value, kActionExpected);
  }

  if (const Value* rate = field(fields, "rateLimit")) {
    if (rule.action == RuleAction::kCount) {
      Reader::fail_message(
          Value{rate->node, rate->path, key_mark(value, "rateLimit")},
          "only possible with an action that posts events (log, kill, deny), and this rule's "
          "action is count");
    }
    std::string text = r.string(*rate, kRateExpected);
    auto per_s = parse_rate(text);
    if (!per_s) r.fail(*rate, kRateExpected);
    rule.rate_limit_per_s = *per_s;
    rule.rate_window_s = text.ends_with("/m") ? 60 : 1;
  }

  if (const Value* match = field(fields, "match")) read_match(r, *match, rule);
  return rule;
}

Policy read_policy(Reader& r, const YAML::Node& root) {
  const Value top = r.root(root);
  const Fields fields = by_key(r.mapping(top, {"apiVersion", "kind", "metadata", "spec"}));
  Policy policy;

  const Value& api_version = required(fields, top, "apiVersion", std::string(kApiVersion));
  if (r.string(api_version, kApiVersion) != kApiVersion) r.fail(api_version, kApiVersion);
  const Value& kind = required(fields, top, "kind", std::string(kKind));
  if (r.string(kind, kKind) != kKind) r.fail(kind, kKind);

  const Value& metadata = required(fields, top, "metadata", "a mapping with the policy's name");
  const Fields meta = by_key(r.mapping(metadata, {"name", "labels", "annotations"}));
  const Value& name = required(meta, metadata, "name", std::string(kPolicyNameExpected));
  policy.name = r.string(name, kPolicyNameExpected);
  if (!valid_name(policy.name)) r.fail(name, kPolicyNameExpected);
  // labels and annotations: any names, string values; accepted for tools, ignored here.
  for (std::string_view section : {"labels", "annotations"}) {
    const Value* map = field(meta, section);
    if (!map || map->node.IsNull()) continue;
    if (!map->node.IsMap()) r.fail(*map, "a mapping of names to strings");
    std::map<std::string, YAML::Mark> seen;
    for (auto it = map->node.begin(); it != map->node.end(); ++it) {
      const YAML::Node key = it->first;
      const YAML::Node child = it->second;
      if (!key.IsScalar()) {
        throw SchemaError{key.Mark(), "expected a key name in " + map->path + ", got " + r.describe(key)};
      }
      auto [first, inserted] = seen.emplace(key.Scalar(), key.Mark());
      if (!inserted) {
        throw SchemaError{key.Mark(), "duplicate key " + quote(key.Scalar()) + " in " + map->path +
                                          " (first given at line " + std::to_string(first->second.line + 1) +
                                          ", column " + std::to_string(first->second.column + 1) + ")"};
      }
      // An empty value has no position of its own: point at its key.
      YAML::Mark mark = child.IsNull() && r.describe(child) != "null" ? key.Mark() : child.Mark();
      r.string(Value{child, map->path + "." + key.Scalar(), mark});
    }
  }

  const Value& spec = required(fields, top, "spec", "a mapping with mode and rules");
  const Fields spec_fields = by_key(r.mapping(spec, {"mode", "rules"}));
  if (const Value* mode = field(spec_fields, "mode")) {
    std::string m = r.string(*mode, kModeExpected);
    if (m == "enforce") {
      policy.mode = PolicyMode::kEnforce;
    } else if (m == "monitor") {
      policy.mode = PolicyMode::kMonitor;
    } else {
      r.fail(*mode, kModeExpected);
    }
  }
  const Value& rules = required(spec_fields, spec, "rules", std::string(kRulesExpected));
  std::vector<Value> items = r.sequence(rules, kRulesExpected);
  if (items.empty())
    Reader::fail_message(rules, "expected " + std::string(kRulesExpected) + ", got an empty sequence");
  if (items.size() > kMaxRulesPerHost) {
    Reader::fail_message(rules, "expected at most " + std::to_string(kMaxRulesPerHost) +
                                    " rules (the limit of rules in force on a host), got " +
                                    std::to_string(items.size()));
  }
  std::map<std::string, size_t> names;  // rule name -> index
  for (size_t i = 0; i < items.size(); i++) {
    Rule rule = read_rule(r, items[i], i);
    auto [first, inserted] = names.emplace(rule.name, i);
    if (!inserted) {
      std::string other = rules.path + "[" + std::to_string(first->second) + "]";
      auto name_mark = r.marks().find(items[i].path + ".name");
      if (name_mark != r.marks().end()) {
        Reader::fail_message(
            Value{items[i].node, items[i].path + ".name", name_mark->second},
            "duplicate rule name " + quote(rule.name) + " (already the name of " + other + ")");
      }
      Reader::fail_message(items[i], "its name by position, " + quote(rule.name) +
                                         ", is already the name of " + other + ": give this rule a name");
    }
    policy.rules.push_back(std::move(rule));
  }
  return policy;
}

}  // namespace

std::optional<Policy> parse_policy(const std::string& yaml, const std::string& name, std::string* error) {
  return yaml_check::read_document<Policy>(yaml, name,
                                           "a policy (apiVersion: waggle.dev/v1, kind: Policy, metadata, spec)",
                                           "one policy per file", error, read_policy);
}

std::optional<Policy> load_policy(const std::string& path, std::string* error) {
  std::string text;
  if (!yaml_check::read_file(path, &text, error)) return std::nullopt;
  return parse_policy(text, path, error);
}

std::string check_policy_set(const std::vector<Policy>& policies) {
  std::map<std::string, const Policy*> by_name;
  for (const Policy& policy : policies) {
    auto [first, inserted] = by_name.emplace(policy.name, &policy);
    if (!inserted && first->second->source == policy.source) {
      return "the policy " + quote(policy.name) + " from " + policy.source + " is given twice";
    }
    if (!inserted) {
      return "two policies are named " + quote(policy.name) + ": one from " + first->second->source +
             ", one from " + policy.source + " (policy names must be unique)";
    }
  }
  size_t total = 0;
  for (const Policy& policy : policies) total += policy.rules.size();
  if (total <= kMaxRulesPerHost) return {};
  std::string message =
      std::to_string(total) + " rules in force, at most " + std::to_string(kMaxRulesPerHost) + ":";
  for (size_t i = 0; i < policies.size(); i++) {
    message += (i == 0 ? " " : ", ") + policies[i].name + " (" + policies[i].source + ") has " +
               std::to_string(policies[i].rules.size());
  }
  return message;
}

std::string_view event_name(RuleEvent event) {
  switch (event) {
    case RuleEvent::kFileOpen:
      return "file.open";
    case RuleEvent::kProcessExec:
      return "process.exec";
    case RuleEvent::kNetworkConnect:
      return "network.connect";
    case RuleEvent::kNetworkAccept:
      return "network.accept";
  }
  return "?";
}

std::string_view action_name(RuleAction action) {
  switch (action) {
    case RuleAction::kLog:
      return "log";
    case RuleAction::kKill:
      return "kill";
    case RuleAction::kDeny:
      return "deny";
    case RuleAction::kCount:
      return "count";
  }
  return "?";
}

}  // namespace waggle
