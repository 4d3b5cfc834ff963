// `waggle policy check`: validates policy files and says, in words, what each rule does.
#include "cli/policy_check.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <sys/socket.h>

#include <cmath>
#include <string_view>

#include "config/yaml_check.hpp"
#include "policy/compiler.hpp"
#include "policy/policy.hpp"

namespace waggle {
namespace {

// A value as written, quoted when it would not read as one word in the sentence.
std::string show(std::string_view value) {
  bool plain = !value.empty();
  for (char c : value) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7F || c == ',' || c == '"' || c == '\\') plain = false;
  }
  return plain ? std::string(value) : yaml_check::quote(value);
}

// "a or b or c".
std::string either(const std::vector<std::string>& values) {
  std::string out;
  for (const std::string& value : values) {
    if (!out.empty()) out += " or ";
    out += value;
  }
  return out;
}

std::vector<std::string> shown(const std::vector<std::string>& values) {
  std::vector<std::string> out;
  for (const std::string& value : values) out.push_back(show(value));
  return out;
}

std::string describe_strings(std::string_view what, const StringSetSelector& s) {
  std::vector<std::string> parts = shown(s.exact);
  if (!s.prefix.empty()) parts.push_back("under " + either(shown(s.prefix)));
  return std::string(what) + (s.negate ? " is not " : " is ") + either(parts);
}

std::string describe_ids(std::string_view what, const IdSetSelector& s) {
  std::vector<std::string> ids;
  for (uint32_t id : s.ids) ids.push_back(std::to_string(id));
  return std::string(what) + (s.negate ? " is not " : " is ") + either(ids);
}

std::string describe_path(const PathSelector& s) {
  std::vector<std::string> parts;
  if (!s.prefix.empty()) parts.push_back("starts with " + either(shown(s.prefix)));
  if (!s.exact.empty()) parts.push_back("is " + either(shown(s.exact)));
  if (!s.suffix.empty()) parts.push_back("ends with " + either(shown(s.suffix)));
  return "path " + either(parts);
}

std::string describe_cidr(const Cidr& cidr) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (!inet_ntop(cidr.family, cidr.addr.data(), buf, sizeof(buf))) return "?";
  return std::string(buf) + "/" + std::to_string(cidr.prefix_len);
}

std::string describe_peer(std::string_view what, const DestinationSelector& s) {
  std::vector<std::string> cidrs;
  for (const Cidr& cidr : s.cidrs) cidrs.push_back(describe_cidr(cidr));
  return std::string(what) + (s.negate ? " is not in " : " is in ") + either(cidrs);
}

std::string describe_ports(const std::vector<PortRange>& ports) {
  std::vector<std::string> parts;
  for (const PortRange& p : ports) {
    parts.push_back(p.low == p.high ? std::to_string(p.low)
                                    : std::to_string(p.low) + "-" + std::to_string(p.high));
  }
  return "port is " + either(parts);
}

// As written: "10/s", "120/m".
std::string describe_rate(const Rule& rule) {
  return fmt::format("{}/{}", static_cast<uint64_t>(std::llround(rule.rate_limit_per_s * rule.rate_window_s)),
                     rule.rate_window_s == 60 ? "m" : "s");
}

}  // namespace

std::string describe_rule(const Rule& rule) {
  std::vector<std::string> conditions;
  if (rule.path) conditions.push_back(describe_path(*rule.path));
  if (rule.binary) conditions.push_back(describe_strings("binary", *rule.binary));
  if (rule.parent_binary) conditions.push_back(describe_strings("parent binary", *rule.parent_binary));
  if (rule.uid) conditions.push_back(describe_ids("uid", *rule.uid));
  if (rule.gid) conditions.push_back(describe_ids("gid", *rule.gid));
  if (rule.args) conditions.push_back(describe_strings("an argument", *rule.args));
  if (rule.cgroup) conditions.push_back(describe_strings("cgroup", *rule.cgroup));
  if (rule.container) {
    std::vector<std::string> ids;
    for (const std::string& id : rule.container->exact) ids.push_back(id.size() < 64 ? id + "..." : id);
    conditions.push_back(std::string("container id is ") + (rule.container->negate ? "not " : "") +
                         either(ids));
  }
  bool inbound = rule.on == RuleEvent::kNetworkAccept;
  if (rule.destination)
    conditions.push_back(describe_peer(inbound ? "source" : "destination", *rule.destination));
  if (!rule.ports.empty()) conditions.push_back((inbound ? "local " : "") + describe_ports(rule.ports));
  if (rule.tcp != rule.udp) conditions.push_back(rule.tcp ? "protocol is tcp" : "protocol is udp");

  std::string out = "on " + std::string(event_name(rule.on));
  if (conditions.empty()) {
    out += " (every one)";
  } else {
    out += " where ";
    for (size_t i = 0; i < conditions.size(); i++) out += (i == 0 ? "" : ", and ") + conditions[i];
  }
  out += " -> " + std::string(action_name(rule.action));
  if (rule.rate_limit_per_s > 0)
    out += " (at most " + describe_rate(rule) + " events)";
  else if (inbound && rule.action == RuleAction::kDeny)
    out += fmt::format(" (at most {}/s events, the default for a deny judged on arriving packets)",
                       kInboundDenyEventsPerSecond);
  return out;
}

int run_policy_check(const std::vector<std::string>& files) {
  if (files.empty()) {
    fmt::print(stderr, "waggle: policy check: no policy file given\n");
    return 2;
  }
  std::vector<Policy> policies;
  for (const std::string& file : files) {
    std::string error;
    std::optional<Policy> policy = load_policy(file, &error);
    if (!policy) {
      fmt::print(stderr, "waggle: {}\n", error);
      return 2;
    }
    policies.push_back(std::move(*policy));
  }
  std::string error = check_policy_set(policies);
  if (!error.empty()) {
    fmt::print(stderr, "waggle: {}\n", error);
    return 2;
  }
  for (const Policy& policy : policies) {
    fmt::print("{} ({}), from {}\n", policy.name, policy.mode == PolicyMode::kEnforce ? "enforce" : "monitor",
               policy.source);
    for (const Rule& rule : policy.rules) {
      bool reported_only = policy.mode == PolicyMode::kMonitor &&
                           (rule.action == RuleAction::kKill || rule.action == RuleAction::kDeny);
      fmt::print("  rule {}: {}{}\n", rule.name, describe_rule(rule),
                 reported_only ? " (monitor: reported, not done)" : "");
    }
  }
  return 0;
}

}  // namespace waggle
