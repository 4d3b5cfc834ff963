// Policies: the schema of docs/policies.md, strict types, limits, and error positions.
#include "policy/policy.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

namespace waggle {
namespace {

// Parses `yaml`, expecting success.
Policy parse_ok(const std::string& yaml) {
  std::string error;
  std::optional<Policy> policy = parse_policy(yaml, "policy.yaml", &error);
  EXPECT_TRUE(policy.has_value()) << "unexpected error: " << error;
  EXPECT_EQ(error, "");
  return policy.value_or(Policy{});
}

// Parses `yaml`, expecting an error, and returns it.
std::string parse_error(const std::string& yaml) {
  std::string error;
  std::optional<Policy> policy = parse_policy(yaml, "policy.yaml", &error);
  EXPECT_FALSE(policy.has_value()) << "accepted:\n" << yaml;
  return error;
}

// A policy named p whose rules (from line 7 on) are `rules`.
std::string with_rules(const std::string& rules) {
  return "apiVersion: waggle.dev/v1\n"
         "kind: Policy\n"
         "metadata:\n"
         "  name: p\n"
         "spec:\n"
         "  rules:\n" +
         rules;
}

// One rule on `on` with action log whose match holds `selector`, written at line 10,
// column 9.
std::string with_selector(const std::string& on, const std::string& selector) {
  return with_rules("    - on: " + on + "\n      action: log\n      match:\n        " + selector + "\n");
}

std::string cidr_text(const Cidr& cidr) {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(cidr.family, cidr.addr.data(), buf, sizeof(buf));
  return std::string(buf) + "/" + std::to_string(cidr.prefix_len);
}

// --- Valid policies -----------------------------------------------------------------------

constexpr const char* kFullPolicy = R"(apiVersion: waggle.dev/v1
kind: Policy
metadata:
  name: full-policy-1
  labels: {team: security, tier: "1"}
  annotations:
    owner: alice
    note: ""
spec:
  mode: monitor
  rules:
    - name: shadow-readers
      on: file.open
      match:
        path: {prefix: [/etc/shadow, /etc/sudoers.d/], exact: [/etc/gshadow], suffix: [.key, .pem]}
        binary: {notIn: [/usr/sbin/sshd, /usr/lib/openssh/*]}
        parentBinary: {in: [/usr/bin/bash, /opt/*]}
        uid: {notIn: [0, 4294967294]}
        gid: {in: [1000]}
        cgroup: {in: [/system.slice/sshd.service, /]}
      action: kill
    - on: process.exec
      match:
        binary: {in: [/tmp/*]}
      action: log
      rateLimit: 10/s
    - name: egress
      on: network.connect
      match:
        destination:
          notCidr: [10.0.0.0/8, 192.168.1.1, "::1/128", "fd00::/8", 0.0.0.0/0]
        port: [443, 8000-8080, 1-1]
        protocol: [tcp]
      action: deny
    - on: network.connect
      match:
        uid: {in: [1000]}
        protocol: [udp, tcp]
      action: count
    - on: file.open
      action: log
      rateLimit: 30/m
)";

TEST(Policy, FullPolicy) {
  Policy p = parse_ok(kFullPolicy);
  EXPECT_EQ(p.name, "full-policy-1");
  EXPECT_EQ(p.mode, PolicyMode::kMonitor);
  EXPECT_EQ(p.source, "policy.yaml");
  ASSERT_EQ(p.rules.size(), 5u);

  const Rule& r0 = p.rules[0];
  EXPECT_EQ(r0.name, "shadow-readers");
  EXPECT_EQ(r0.on, RuleEvent::kFileOpen);
  EXPECT_EQ(r0.action, RuleAction::kKill);
  ASSERT_TRUE(r0.path.has_value());
  EXPECT_EQ(r0.path->prefix, (std::vector<std::string>{"/etc/shadow", "/etc/sudoers.d/"}));
  EXPECT_EQ(r0.path->exact, (std::vector<std::string>{"/etc/gshadow"}));
  EXPECT_EQ(r0.path->suffix, (std::vector<std::string>{".key", ".pem"}));
  ASSERT_TRUE(r0.binary.has_value());
  EXPECT_TRUE(r0.binary->negate);
  EXPECT_EQ(r0.binary->exact, (std::vector<std::string>{"/usr/sbin/sshd"}));
  EXPECT_EQ(r0.binary->prefix, (std::vector<std::string>{"/usr/lib/openssh/"}));
  ASSERT_TRUE(r0.parent_binary.has_value());
  EXPECT_FALSE(r0.parent_binary->negate);
  EXPECT_EQ(r0.parent_binary->exact, (std::vector<std::string>{"/usr/bin/bash"}));
  EXPECT_EQ(r0.parent_binary->prefix, (std::vector<std::string>{"/opt/"}));
  ASSERT_TRUE(r0.uid.has_value());
  EXPECT_TRUE(r0.uid->negate);
  EXPECT_EQ(r0.uid->ids, (std::vector<uint32_t>{0, 4294967294u}));
  ASSERT_TRUE(r0.gid.has_value());
  EXPECT_FALSE(r0.gid->negate);
  EXPECT_EQ(r0.gid->ids, (std::vector<uint32_t>{1000}));
  ASSERT_TRUE(r0.cgroup.has_value());
  EXPECT_FALSE(r0.cgroup->negate);
  EXPECT_EQ(r0.cgroup->exact, (std::vector<std::string>{"/system.slice/sshd.service", "/"}));
  EXPECT_TRUE(r0.cgroup->prefix.empty());
  EXPECT_FALSE(r0.destination.has_value());
  EXPECT_TRUE(r0.ports.empty());
  EXPECT_TRUE(r0.tcp);
  EXPECT_TRUE(r0.udp);
  EXPECT_EQ(r0.rate_limit_per_s, 0);

  const Rule& r1 = p.rules[1];
  EXPECT_EQ(r1.name, "rule-2");
  EXPECT_EQ(r1.on, RuleEvent::kProcessExec);
  EXPECT_EQ(r1.action, RuleAction::kLog);
  ASSERT_TRUE(r1.binary.has_value());
  EXPECT_FALSE(r1.binary->negate);
  EXPECT_TRUE(r1.binary->exact.empty());
  EXPECT_EQ(r1.binary->prefix, (std::vector<std::string>{"/tmp/"}));
  EXPECT_FALSE(r1.path.has_value());
  EXPECT_FALSE(r1.parent_binary.has_value());
  EXPECT_EQ(r1.rate_limit_per_s, 10);

  const Rule& r2 = p.rules[2];
  EXPECT_EQ(r2.name, "egress");
  EXPECT_EQ(r2.on, RuleEvent::kNetworkConnect);
  EXPECT_EQ(r2.action, RuleAction::kDeny);
  ASSERT_TRUE(r2.destination.has_value());
  EXPECT_TRUE(r2.destination->negate);
  ASSERT_EQ(r2.destination->cidrs.size(), 5u);
  const Cidr& c0 = r2.destination->cidrs[0];
  EXPECT_EQ(c0.family, AF_INET);
  EXPECT_EQ(c0.prefix_len, 8);
  EXPECT_EQ(c0.addr, (std::array<uint8_t, 16>{10, 0, 0, 0}));
  const Cidr& c1 = r2.destination->cidrs[1];
  EXPECT_EQ(c1.family, AF_INET);
  EXPECT_EQ(c1.prefix_len, 32);
  EXPECT_EQ(c1.addr, (std::array<uint8_t, 16>{192, 168, 1, 1}));
  const Cidr& c2 = r2.destination->cidrs[2];
  EXPECT_EQ(c2.family, AF_INET6);
  EXPECT_EQ(c2.prefix_len, 128);
  EXPECT_EQ(c2.addr, (std::array<uint8_t, 16>{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}));
  const Cidr& c3 = r2.destination->cidrs[3];
  EXPECT_EQ(c3.family, AF_INET6);
  EXPECT_EQ(c3.prefix_len, 8);
  EXPECT_EQ(c3.addr, (std::array<uint8_t, 16>{0xfd}));
  EXPECT_EQ(cidr_text(r2.destination->cidrs[4]), "0.0.0.0/0");
  ASSERT_EQ(r2.ports.size(), 3u);
  EXPECT_EQ(r2.ports[0].low, 443);
  EXPECT_EQ(r2.ports[0].high, 443);
  EXPECT_EQ(r2.ports[1].low, 8000);
  EXPECT_EQ(r2.ports[1].high, 8080);
  EXPECT_EQ(r2.ports[2].low, 1);
  EXPECT_EQ(r2.ports[2].high, 1);
  EXPECT_TRUE(r2.tcp);
  EXPECT_FALSE(r2.udp);

  const Rule& r3 = p.rules[3];
  EXPECT_EQ(r3.name, "rule-4");
  EXPECT_EQ(r3.action, RuleAction::kCount);
  EXPECT_TRUE(r3.tcp);
  EXPECT_TRUE(r3.udp);
  ASSERT_TRUE(r3.uid.has_value());
  EXPECT_EQ(r3.uid->ids, (std::vector<uint32_t>{1000}));
  EXPECT_FALSE(r3.destination.has_value());
  EXPECT_TRUE(r3.ports.empty());

  const Rule& r4 = p.rules[4];
  EXPECT_EQ(r4.name, "rule-5");
  EXPECT_EQ(r4.on, RuleEvent::kFileOpen);
  EXPECT_DOUBLE_EQ(r4.rate_limit_per_s, 0.5);
  EXPECT_FALSE(r4.path.has_value());
}

TEST(Policy, Defaults) {
  Policy p = parse_ok(
      with_rules("    - on: process.exec\n      action: log\n    - on: network.connect\n      action: count\n"
                 "      match:\n"));
  EXPECT_EQ(p.name, "p");
  EXPECT_EQ(p.mode, PolicyMode::kEnforce);
  ASSERT_EQ(p.rules.size(), 2u);
  EXPECT_EQ(p.rules[0].name, "rule-1");
  EXPECT_EQ(p.rules[1].name, "rule-2");
  for (const Rule& r : p.rules) {
    EXPECT_FALSE(r.path || r.binary || r.parent_binary || r.uid || r.gid || r.cgroup || r.destination);
    EXPECT_TRUE(r.ports.empty());
    EXPECT_TRUE(r.tcp);
    EXPECT_TRUE(r.udp);
    EXPECT_EQ(r.rate_limit_per_s, 0);
  }
  EXPECT_EQ(parse_ok(with_rules("    - on: file.open\n      action: log\n      match: {}\n")).rules[0].name,
            "rule-1");
  // Order of keys does not matter; enforce may be written out.
  Policy q = parse_ok(
      "spec:\n  rules: [{action: kill, on: process.exec}]\n  mode: enforce\nmetadata: {name: q}\n"
      "kind: Policy\napiVersion: waggle.dev/v1\n");
  EXPECT_EQ(q.mode, PolicyMode::kEnforce);
  EXPECT_EQ(q.rules[0].action, RuleAction::kKill);
}

TEST(Policy, ByteOrderMarkAndComments) {
  Policy p = parse_ok("\xEF\xBB\xBF# a policy\n" +
                      with_rules("    - on: file.open  # every open\n      action: log\n"));
  EXPECT_EQ(p.rules.size(), 1u);
}

// --- Document ------------------------------------------------------------------------------

TEST(PolicyErrors, Document) {
  EXPECT_EQ(
      parse_error(""),
      "policy.yaml: expected a policy (apiVersion: waggle.dev/v1, kind: Policy, metadata, spec), got an "
      "empty document");
  EXPECT_EQ(
      parse_error("# nothing\n"),
      "policy.yaml: expected a policy (apiVersion: waggle.dev/v1, kind: Policy, metadata, spec), got an "
      "empty document");
  EXPECT_EQ(parse_error("- a\n"),
            "policy.yaml:1:1: expected a mapping (key: value lines) at the top level, got a sequence");
  EXPECT_EQ(
      parse_error(with_rules("    - on: file.open\n      action: log\n") + "---\nkind: Policy\n"),
      "policy.yaml:10:1: expected a single YAML document (one policy per file), got a second one (after "
      "---)");
  EXPECT_EQ(parse_error("kind: [\n"), "policy.yaml:2:1: invalid YAML: end of sequence flow not found");
}

TEST(PolicyErrors, ApiVersionAndKind) {
  EXPECT_EQ(parse_error("apiVersion: v1\nkind: Policy\n"),
            "policy.yaml:1:13: apiVersion: expected waggle.dev/v1, got \"v1\"");
  EXPECT_EQ(parse_error("apiVersion: waggle.dev/v2\n"),
            "policy.yaml:1:13: apiVersion: expected waggle.dev/v1, got \"waggle.dev/v2\"");
  EXPECT_EQ(parse_error("apiVersion: [waggle.dev/v1]\n"),
            "policy.yaml:1:13: apiVersion: expected waggle.dev/v1, got a sequence");
  EXPECT_EQ(parse_error("kind: Policy\nmetadata: {name: p}\n"),
            "policy.yaml:1:1: missing key \"apiVersion\" at the top level (waggle.dev/v1)");
  EXPECT_EQ(parse_error("apiVersion: waggle.dev/v1\nkind: Deployment\n"),
            "policy.yaml:2:7: kind: expected Policy, got \"Deployment\"");
  EXPECT_EQ(parse_error("apiVersion: waggle.dev/v1\nkind: policy\n"),
            "policy.yaml:2:7: kind: expected Policy, got \"policy\"");
  EXPECT_EQ(parse_error("apiVersion: waggle.dev/v1\nmetadata: {name: p}\n"),
            "policy.yaml:1:1: missing key \"kind\" at the top level (Policy)");
}

TEST(PolicyErrors, Metadata) {
  const std::string head = "apiVersion: waggle.dev/v1\nkind: Policy\n";
  const std::string name =
      "expected a policy name (1 to 63 of a-z, 0-9 and '-', starting with a letter), got ";
  EXPECT_EQ(parse_error(head + "spec: {rules: [{on: file.open, action: log}]}\n"),
            "policy.yaml:1:1: missing key \"metadata\" at the top level (a mapping with the policy's name)");
  EXPECT_EQ(parse_error(head + "metadata:\n"),
            "policy.yaml:3:1: metadata: missing key \"name\" (a policy name (1 to 63 of a-z, 0-9 and '-', "
            "starting with a letter))");
  EXPECT_EQ(parse_error(head + "metadata:\n  name: Protect\n"),
            "policy.yaml:4:9: metadata.name: " + name + "\"Protect\"");
  EXPECT_EQ(parse_error(head + "metadata:\n  name: 1abc\n"),
            "policy.yaml:4:9: metadata.name: " + name + "\"1abc\"");
  EXPECT_EQ(parse_error(head + "metadata:\n  name: a_b\n"),
            "policy.yaml:4:9: metadata.name: " + name + "\"a_b\"");
  EXPECT_EQ(parse_error(head + "metadata:\n  name: \"\"\n"),
            "policy.yaml:4:9: metadata.name: " + name + "\"\"");
  EXPECT_EQ(parse_error(head + "metadata:\n  name: [a]\n"),
            "policy.yaml:4:9: metadata.name: " + name + "a sequence");
  EXPECT_EQ(parse_error(head + "metadata:\n  name: " + std::string(64, 'a') + "\n"),
            "policy.yaml:4:9: metadata.name: " + name + "\"" + std::string(64, 'a') + "\"");
  EXPECT_EQ(parse_ok(head + "metadata:\n  name: " + std::string(63, 'a') +
                     "\nspec: {rules: [{on: file.open, action: log}]}\n")
                .name,
            std::string(63, 'a'));
  EXPECT_EQ(parse_error(head + "metadata:\n  name: p\n  labels: [a]\n"),
            "policy.yaml:5:11: metadata.labels: expected a mapping of names to strings, got a sequence");
  EXPECT_EQ(parse_error(head + "metadata:\n  name: p\n  labels:\n    team: {a: b}\n"),
            "policy.yaml:6:11: metadata.labels.team: expected a string, got a mapping");
  EXPECT_EQ(parse_error(head + "metadata:\n  name: p\n  annotations:\n    note:\n"),
            "policy.yaml:6:5: metadata.annotations.note: expected a string, got an empty value");
  EXPECT_EQ(parse_error(head + "metadata:\n  name: p\n  labels: {a: x, a: y}\n"),
            "policy.yaml:5:18: duplicate key \"a\" in metadata.labels (first given at line 5, column 12)");
}

TEST(PolicyErrors, UnknownKeys) {
  EXPECT_EQ(parse_error("apiVersion: waggle.dev/v1\nkind: Policy\nmetadata: {name: p}\nsepc: {}\n"),
            "policy.yaml:4:1: unknown key \"sepc\" at the top level (expected one of: apiVersion, kind, "
            "metadata, spec)");
  EXPECT_EQ(parse_error("apiVersion: waggle.dev/v1\nkind: Policy\nmetadata:\n  name: p\n  namespace: x\n"),
            "policy.yaml:5:3: unknown key \"namespace\" in metadata (expected one of: name, labels, "
            "annotations)");
  EXPECT_EQ(parse_error("apiVersion: waggle.dev/v1\nkind: Policy\nmetadata: {name: p}\nspec:\n  rule: []\n"),
            "policy.yaml:5:3: unknown key \"rule\" in spec (expected one of: mode, rules)");
  EXPECT_EQ(
      parse_error(with_rules("    - on: file.open\n      when: now\n      action: log\n")),
      "policy.yaml:8:7: unknown key \"when\" in spec.rules[0] (expected one of: name, on, match, action, "
      "rateLimit)");
  EXPECT_EQ(parse_error(with_selector("file.open", "file: {prefix: [/etc/]}")),
            "policy.yaml:10:9: unknown key \"file\" in spec.rules[0].match (expected one of: path, binary, "
            "parentBinary, args, uid, gid, cgroup, container, destination, source, port, protocol)");
  EXPECT_EQ(
      parse_error(with_selector("file.open", "path: {prefixes: [/etc/]}")),
      "policy.yaml:10:16: unknown key \"prefixes\" in spec.rules[0].match.path (expected one of: prefix, "
      "exact, suffix)");
  EXPECT_EQ(parse_error(with_selector("file.open", "binary: {notin: [/bin/sh]}")),
            "policy.yaml:10:18: unknown key \"notin\" in spec.rules[0].match.binary (expected one of: in, "
            "notIn)");
  EXPECT_EQ(parse_error(with_selector("file.open", "uid: {is: [0]}")),
            "policy.yaml:10:15: unknown key \"is\" in spec.rules[0].match.uid (expected one of: in, notIn)");
  EXPECT_EQ(
      parse_error(with_selector("network.connect", "destination: {in: [10.0.0.0/8]}")),
      "policy.yaml:10:23: unknown key \"in\" in spec.rules[0].match.destination (expected one of: cidr, "
      "notCidr)");
  EXPECT_EQ(parse_error(with_rules("    - on: file.open\n      action: log\n      on: file.open\n")),
            "policy.yaml:9:7: duplicate key \"on\" in spec.rules[0] (first given at line 7, column 7)");
}

TEST(PolicyErrors, Spec) {
  const std::string head = "apiVersion: waggle.dev/v1\nkind: Policy\nmetadata: {name: p}\n";
  EXPECT_EQ(parse_error(head),
            "policy.yaml:1:1: missing key \"spec\" at the top level (a mapping with mode and rules)");
  EXPECT_EQ(parse_error(head + "spec:\n  mode: monitor\n"),
            "policy.yaml:5:3: spec: missing key \"rules\" (a non-empty sequence of rules)");
  EXPECT_EQ(parse_error(head + "spec:\n  mode: audit\n  rules: [{on: file.open, action: log}]\n"),
            "policy.yaml:5:9: spec.mode: expected enforce or monitor, got \"audit\"");
  EXPECT_EQ(parse_error(head + "spec:\n  rules: []\n"),
            "policy.yaml:5:10: spec.rules: expected a non-empty sequence of rules, got an empty sequence");
  EXPECT_EQ(parse_error(head + "spec:\n  rules:\n"),
            "policy.yaml:5:3: spec.rules: expected a non-empty sequence of rules, got an empty value");
  EXPECT_EQ(parse_error(head + "spec:\n  rules: {on: file.open}\n"),
            "policy.yaml:5:10: spec.rules: expected a non-empty sequence of rules, got a mapping");
  EXPECT_EQ(parse_error(head + "spec:\n  rules: [kill]\n"),
            "policy.yaml:5:11: spec.rules[0]: expected a mapping (key: value lines), got \"kill\"");
}

TEST(PolicyErrors, RuleFields) {
  EXPECT_EQ(parse_error(with_rules("    - action: log\n")),
            "policy.yaml:7:7: spec.rules[0]: missing key \"on\" (the event: file.open, process.exec, "
            "network.connect or network.accept)");
  EXPECT_EQ(parse_error(with_rules("    - on: file.open\n")),
            "policy.yaml:7:7: spec.rules[0]: missing key \"action\" (log, kill, deny or count)");
  EXPECT_EQ(parse_error(with_rules("    - on: file.write\n      action: log\n")),
            "policy.yaml:7:11: spec.rules[0].on: expected file.open, process.exec, network.connect or "
            "network.accept, got \"file.write\"");
  EXPECT_EQ(parse_error(with_rules("    - on: file.open\n      action: block\n")),
            "policy.yaml:8:15: spec.rules[0].action: expected log, kill, deny or count, got \"block\"");
  EXPECT_EQ(parse_error(with_rules("    - on: file.open\n      action: log\n      match: [path]\n")),
            "policy.yaml:9:14: spec.rules[0].match: expected a mapping (key: value lines), got a sequence");
  EXPECT_EQ(
      parse_error(with_rules("    - name: Shadow\n      on: file.open\n      action: log\n")),
      "policy.yaml:7:13: spec.rules[0].name: expected a rule name (1 to 63 of a-z, 0-9 and '-', starting "
      "with a letter), got \"Shadow\"");
  EXPECT_EQ(
      parse_error(with_rules("    - name: 7\n      on: file.open\n      action: log\n")),
      "policy.yaml:7:13: spec.rules[0].name: expected a rule name (1 to 63 of a-z, 0-9 and '-', starting "
      "with a letter), got \"7\"");
}

TEST(PolicyErrors, WrongTypes) {
  EXPECT_EQ(parse_error(with_selector("file.open", "uid: {in: [root]}")),
            "policy.yaml:10:20: spec.rules[0].match.uid.in[0]: expected a uid (an integer between 0 and "
            "4294967294), got \"root\"");
  EXPECT_EQ(parse_error(with_selector("file.open", "uid: {in: [\"0\"]}")),
            "policy.yaml:10:20: spec.rules[0].match.uid.in[0]: expected a uid (an integer between 0 and "
            "4294967294), got \"0\" (a quoted string)");
  EXPECT_EQ(parse_error(with_selector("file.open", "gid: {notIn: [-1]}")),
            "policy.yaml:10:23: spec.rules[0].match.gid.notIn[0]: expected a gid (an integer between 0 and "
            "4294967294), got -1");
  EXPECT_EQ(parse_error(with_selector("file.open", "uid: {in: [0, 4294967295]}")),
            "policy.yaml:10:23: spec.rules[0].match.uid.in[1]: expected a uid (an integer between 0 and "
            "4294967294), got 4294967295");
  EXPECT_EQ(parse_error(with_selector("file.open", "uid: {in: 0}")),
            "policy.yaml:10:19: spec.rules[0].match.uid.in: expected a non-empty sequence of uids (e.g. [0, "
            "1000]), got \"0\"");
  EXPECT_EQ(parse_error(with_selector("file.open", "binary: [/bin/sh]")),
            "policy.yaml:10:17: spec.rules[0].match.binary: expected a mapping (key: value lines), got a "
            "sequence");
  EXPECT_EQ(
      parse_error(with_selector("file.open", "binary: {in: [bin/sh]}")),
      "policy.yaml:10:23: spec.rules[0].match.binary.in[0]: expected an absolute path (starting with '/', "
      "optionally ending with '*' for a prefix), got \"bin/sh\"");
  EXPECT_EQ(
      parse_error(with_selector("file.open", "binary: {in: [[/bin/sh]]}")),
      "policy.yaml:10:23: spec.rules[0].match.binary.in[0]: expected an executable path, got a sequence");
  EXPECT_EQ(
      parse_error(with_selector("file.open", "cgroup: {in: [system.slice]}")),
      "policy.yaml:10:23: spec.rules[0].match.cgroup.in[0]: expected a cgroup v2 path (starting with '/', "
      "relative to the cgroup2 mount), got \"system.slice\"");
  EXPECT_EQ(parse_error(with_selector("file.open", "path: {prefix: [etc/]}")),
            "policy.yaml:10:25: spec.rules[0].match.path.prefix[0]: expected an absolute path (starting with "
            "'/'), got \"etc/\"");
  EXPECT_EQ(parse_error(with_selector("file.open", "path: {exact: [/etc/passwd, shadow]}")),
            "policy.yaml:10:37: spec.rules[0].match.path.exact[1]: expected an absolute path (starting with "
            "'/'), got \"shadow\"");
  EXPECT_EQ(parse_error(with_selector("file.open", "path: {suffix: [\"\"]}")),
            "policy.yaml:10:25: spec.rules[0].match.path.suffix[0]: expected a non-empty suffix, got \"\"");
  EXPECT_EQ(
      parse_error(with_selector("network.connect", "port: [0]")),
      "policy.yaml:10:16: spec.rules[0].match.port[0]: expected a port (an integer between 1 and 65535) or "
      "a range LOW-HIGH, got 0");
  EXPECT_EQ(
      parse_error(with_selector("network.connect", "port: [65536]")),
      "policy.yaml:10:16: spec.rules[0].match.port[0]: expected a port (an integer between 1 and 65535) or "
      "a range LOW-HIGH, got 65536");
  EXPECT_EQ(
      parse_error(with_selector("network.connect", "port: [\"443\"]")),
      "policy.yaml:10:16: spec.rules[0].match.port[0]: expected a port (an integer between 1 and 65535) or "
      "a range LOW-HIGH, got \"443\" (a quoted string)");
  EXPECT_EQ(
      parse_error(with_selector("network.connect", "port: [https]")),
      "policy.yaml:10:16: spec.rules[0].match.port[0]: expected a port (an integer between 1 and 65535) or "
      "a range LOW-HIGH, got \"https\"");
  EXPECT_EQ(
      parse_error(with_selector("network.connect", "port: 443")),
      "policy.yaml:10:15: spec.rules[0].match.port: expected a non-empty sequence of ports or ranges (e.g. "
      "[443, 8000-8080]), got \"443\"");
  EXPECT_EQ(parse_error(with_selector("network.connect", "protocol: [tcp, icmp]")),
            "policy.yaml:10:25: spec.rules[0].match.protocol[1]: expected tcp or udp, got \"icmp\"");
  EXPECT_EQ(parse_error(with_selector("network.connect", "destination: {cidr: [10]}")),
            "policy.yaml:10:30: spec.rules[0].match.destination.cidr[0]: expected an IPv4 or IPv6 address or "
            "network (e.g. 10.0.0.0/8, 192.168.1.1, fd00::/8), got \"10\"");
}

TEST(PolicyErrors, BadCidr) {
  const std::string expected =
      "expected an IPv4 or IPv6 address or network (e.g. 10.0.0.0/8, 192.168.1.1, fd00::/8), got ";
  EXPECT_EQ(parse_error(with_selector("network.connect", "destination: {cidr: [10.0.0.300/8]}")),
            "policy.yaml:10:30: spec.rules[0].match.destination.cidr[0]: " + expected + "\"10.0.0.300/8\"");
  EXPECT_EQ(parse_error(with_selector("network.connect", "destination: {cidr: [10.0.0.0/]}")),
            "policy.yaml:10:30: spec.rules[0].match.destination.cidr[0]: " + expected + "\"10.0.0.0/\"");
  EXPECT_EQ(parse_error(with_selector("network.connect", "destination: {cidr: [10.0.0.0/08]}")),
            "policy.yaml:10:30: spec.rules[0].match.destination.cidr[0]: " + expected + "\"10.0.0.0/08\"");
  EXPECT_EQ(parse_error(with_selector("network.connect", "destination: {cidr: [example.com]}")),
            "policy.yaml:10:30: spec.rules[0].match.destination.cidr[0]: " + expected + "\"example.com\"");
  EXPECT_EQ(
      parse_error(with_selector("network.connect", "destination: {notCidr: [10.0.0.0/33]}")),
      "policy.yaml:10:33: spec.rules[0].match.destination.notCidr[0]: expected a prefix length of at most "
      "32 for an IPv4 network, got \"10.0.0.0/33\"");
  EXPECT_EQ(
      parse_error(with_selector("network.connect", "destination: {cidr: [\"::/129\"]}")),
      "policy.yaml:10:30: spec.rules[0].match.destination.cidr[0]: expected a prefix length of at most 128 "
      "for an IPv6 network, got \"::/129\"");
}

TEST(PolicyErrors, HostBitsSet) {
  EXPECT_EQ(
      parse_error(with_selector("network.connect", "destination: {cidr: [10.0.0.0/8, 10.0.0.1/8]}")),
      "policy.yaml:10:42: spec.rules[0].match.destination.cidr[1]: 10.0.0.1/8: host bits set; did you mean "
      "10.0.0.0/8?");
  EXPECT_EQ(
      parse_error(with_selector("network.connect", "destination: {cidr: [192.168.1.130/25]}")),
      "policy.yaml:10:30: spec.rules[0].match.destination.cidr[0]: 192.168.1.130/25: host bits set; did you "
      "mean 192.168.1.128/25?");
  EXPECT_EQ(
      parse_error(with_selector("network.connect", "destination: {cidr: [\"fd00::1/8\"]}")),
      "policy.yaml:10:30: spec.rules[0].match.destination.cidr[0]: fd00::1/8: host bits set; did you mean "
      "fd00::/8?");
}

TEST(PolicyErrors, BadPortRange) {
  const std::string expected = "expected a port (an integer between 1 and 65535) or a range LOW-HIGH, got ";
  EXPECT_EQ(parse_error(with_selector("network.connect", "port: [9000-8000]")),
            "policy.yaml:10:16: spec.rules[0].match.port[0]: expected a range LOW-HIGH with LOW <= HIGH, got "
            "\"9000-8000\"");
  EXPECT_EQ(parse_error(with_selector("network.connect", "port: [22, 1-70000]")),
            "policy.yaml:10:20: spec.rules[0].match.port[1]: " + expected + "\"1-70000\"");
  EXPECT_EQ(parse_error(with_selector("network.connect", "port: [0-10]")),
            "policy.yaml:10:16: spec.rules[0].match.port[0]: " + expected + "\"0-10\"");
  EXPECT_EQ(parse_error(with_selector("network.connect", "port: [80-]")),
            "policy.yaml:10:16: spec.rules[0].match.port[0]: " + expected + "\"80-\"");
  EXPECT_EQ(parse_error(with_selector("network.connect", "port: [80-90-100]")),
            "policy.yaml:10:16: spec.rules[0].match.port[0]: " + expected + "\"80-90-100\"");
}

TEST(PolicyErrors, RateLimit) {
  const std::string expected = "expected a rate: N/s or N/m, N a positive integer (e.g. 10/s), got ";
  // A kill is always done; the limit is on the events it posts.
  Policy kill = parse_ok(with_rules("    - on: file.open\n      action: kill\n      rateLimit: 120/m\n"));
  EXPECT_DOUBLE_EQ(kill.rules[0].rate_limit_per_s, 2.0);
  EXPECT_EQ(kill.rules[0].rate_window_s, 60u);
  EXPECT_EQ(
      parse_error(with_rules("    - on: file.open\n      action: count\n      rateLimit: 10/s\n")),
      "policy.yaml:9:7: spec.rules[0].rateLimit: only possible with an action that posts events (log, kill, "
      "deny), and this rule's action is count");
  EXPECT_EQ(parse_error(with_rules("    - on: file.open\n      action: log\n      rateLimit: 10/h\n")),
            "policy.yaml:9:18: spec.rules[0].rateLimit: " + expected + "\"10/h\"");
  EXPECT_EQ(parse_error(with_rules("    - on: file.open\n      action: log\n      rateLimit: 0/s\n")),
            "policy.yaml:9:18: spec.rules[0].rateLimit: " + expected + "\"0/s\"");
  EXPECT_EQ(parse_error(with_rules("    - on: file.open\n      action: log\n      rateLimit: 10\n")),
            "policy.yaml:9:18: spec.rules[0].rateLimit: " + expected + "\"10\"");
  EXPECT_EQ(parse_error(with_rules("    - on: file.open\n      action: log\n      rateLimit: 1.5/s\n")),
            "policy.yaml:9:18: spec.rules[0].rateLimit: " + expected + "\"1.5/s\"");
}

TEST(PolicyErrors, OverLimits) {
  const std::string prefix = "/" + std::string(256, 'a');  // 257 bytes
  EXPECT_EQ(
      parse_error(with_selector("file.open", "path: {prefix: [" + prefix + "]}")),
      "policy.yaml:10:25: spec.rules[0].match.path.prefix[0]: expected a path of at most 256 bytes, got \"/" +
          std::string(63, 'a') + "...\" (257 bytes)");
  EXPECT_EQ(parse_ok(with_selector("file.open", "path: {prefix: [/" + std::string(255, 'a') + "]}"))
                .rules[0]
                .path->prefix[0]
                .size(),
            256u);
  EXPECT_EQ(
      parse_error(with_selector("file.open", "path: {exact: [/" + std::string(255, 'a') + "]}")),
      "policy.yaml:10:24: spec.rules[0].match.path.exact[0]: expected a path of at most 255 bytes, got \"/" +
          std::string(63, 'a') + "...\" (256 bytes)");
  EXPECT_EQ(
      parse_error(with_selector("file.open", "path: {suffix: [" + std::string(65, 'x') + "]}")),
      "policy.yaml:10:25: spec.rules[0].match.path.suffix[0]: expected a suffix of at most 64 bytes, got \"" +
          std::string(64, 'x') + "...\" (65 bytes)");
  EXPECT_EQ(
      parse_error(with_selector("file.open", "binary: {in: [/" + std::string(255, 'b') + "]}")),
      "policy.yaml:10:23: spec.rules[0].match.binary.in[0]: expected a path of at most 255 bytes, got \"/" +
          std::string(63, 'b') + "...\" (256 bytes)");
  // A trailing '*' is not stored: 255 bytes and the '*' fit.
  EXPECT_EQ(parse_ok(with_selector("file.open", "binary: {in: [/" + std::string(254, 'b') + "*]}"))
                .rules[0]
                .binary->prefix[0]
                .size(),
            255u);

  // kMaxValuesPerSelector values fit, one more does not.
  auto many = [](size_t n) {
    std::string list = "[";
    for (size_t i = 0; i < n; i++) list += (i ? ",/" : "/") + std::to_string(i);
    return list + "]";
  };
  EXPECT_EQ(parse_ok(with_selector("file.open", "path: {exact: " + many(kMaxValuesPerSelector) + "}"))
                .rules[0]
                .path->exact.size(),
            kMaxValuesPerSelector);
  EXPECT_EQ(parse_error(with_selector("file.open", "path: {exact: " + many(kMaxValuesPerSelector + 1) + "}")),
            "policy.yaml:10:23: spec.rules[0].match.path.exact: expected at most 65536 values, got 65537");

  // At most kMaxRulesPerHost rules, in one policy too.
  std::string rules;
  for (size_t i = 0; i <= kMaxRulesPerHost; i++) rules += "    - {on: file.open, action: count}\n";
  EXPECT_EQ(parse_error(with_rules(rules)),
            "policy.yaml:7:5: spec.rules: expected at most 64 rules (the limit of rules in force on a host), "
            "got 65");
}

TEST(PolicyErrors, EmptySelector) {
  EXPECT_EQ(
      parse_error(with_selector("file.open", "path: {}")),
      "policy.yaml:10:15: spec.rules[0].match.path: expected at least one of prefix, exact or suffix (e.g. "
      "{prefix: [/etc/]}), got an empty mapping");
  EXPECT_EQ(
      parse_error(with_selector("file.open", "path:")),
      "policy.yaml:10:9: spec.rules[0].match.path: expected at least one of prefix, exact or suffix (e.g. "
      "{prefix: [/etc/]}), got an empty value");
  EXPECT_EQ(
      parse_error(with_selector("file.open", "path: {prefix: []}")),
      "policy.yaml:10:24: spec.rules[0].match.path.prefix: expected a non-empty sequence of path prefixes "
      "(e.g. [/etc/]), got an empty sequence");
  EXPECT_EQ(
      parse_error(with_selector("file.open", "binary: {in: []}")),
      "policy.yaml:10:22: spec.rules[0].match.binary.in: expected a non-empty sequence of executable paths "
      "(e.g. [/usr/bin/curl, /opt/tools/*]), got an empty sequence");
  EXPECT_EQ(
      parse_error(with_selector("file.open", "binary: {}")),
      "policy.yaml:10:17: spec.rules[0].match.binary: expected {in: [...]} or {notIn: [...]} (e.g. {notIn: "
      "[/usr/sbin/sshd, /usr/lib/openssh/*]}), got an empty mapping");
  EXPECT_EQ(
      parse_error(with_selector("file.open", "binary: ~")),
      "policy.yaml:10:17: spec.rules[0].match.binary: expected {in: [...]} or {notIn: [...]} (e.g. {notIn: "
      "[/usr/sbin/sshd, /usr/lib/openssh/*]}), got null");
  EXPECT_EQ(
      parse_error(with_selector("process.exec", "cgroup: {notIn: []}")),
      "policy.yaml:10:25: spec.rules[0].match.cgroup.notIn: expected a non-empty sequence of cgroup paths "
      "(e.g. [/system.slice/sshd.service]), got an empty sequence");
  EXPECT_EQ(
      parse_error(with_selector("process.exec", "uid: {}")),
      "policy.yaml:10:14: spec.rules[0].match.uid: expected {in: [...]} or {notIn: [...]} (e.g. {in: [0]}), "
      "got an empty mapping");
  EXPECT_EQ(
      parse_error(with_selector("network.connect", "destination: {}")),
      "policy.yaml:10:22: spec.rules[0].match.destination: expected {cidr: [...]} or {notCidr: [...]} (e.g. "
      "{notCidr: [10.0.0.0/8]}), got an empty mapping");
  EXPECT_EQ(
      parse_error(with_selector("network.connect", "port: []")),
      "policy.yaml:10:15: spec.rules[0].match.port: expected a non-empty sequence of ports or ranges (e.g. "
      "[443, 8000-8080]), got an empty sequence");
  EXPECT_EQ(
      parse_error(with_selector("network.connect", "protocol: []")),
      "policy.yaml:10:19: spec.rules[0].match.protocol: expected a non-empty sequence of protocols (tcp, "
      "udp), got an empty sequence");
}

TEST(PolicyErrors, InAndNotInTogether) {
  EXPECT_EQ(parse_error(with_selector("file.open", "binary: {in: [/bin/sh], notIn: [/bin/bash]}")),
            "policy.yaml:10:33: spec.rules[0].match.binary: expected either in or notIn, got both");
  EXPECT_EQ(parse_error(with_selector("file.open", "gid: {notIn: [0], in: [1]}")),
            "policy.yaml:10:27: spec.rules[0].match.gid: expected either in or notIn, got both");
  EXPECT_EQ(
      parse_error(with_selector("network.connect", "destination: {cidr: [10.0.0.0/8], notCidr: [::/0]}")),
      "policy.yaml:10:43: spec.rules[0].match.destination: expected either cidr or notCidr, got both");
}

TEST(PolicyErrors, DenyOnlyForConnectAndAccept) {
  const std::string message =
      "deny is only possible for network.connect and network.accept (a cgroup hook can refuse a "
      "connection); use kill";
  EXPECT_EQ(parse_error(with_rules("    - on: file.open\n      action: deny\n")),
            "policy.yaml:8:15: spec.rules[0].action: " + message);
  EXPECT_EQ(parse_error(with_rules("    - on: process.exec\n      action: deny\n")),
            "policy.yaml:8:15: spec.rules[0].action: " + message);
  EXPECT_EQ(parse_ok(with_rules("    - on: network.connect\n      action: deny\n")).rules[0].action,
            RuleAction::kDeny);
  EXPECT_EQ(parse_ok(with_rules("    - on: network.accept\n      action: deny\n")).rules[0].action,
            RuleAction::kDeny);
}

TEST(PolicyErrors, SelectorForAnotherEvent) {
  EXPECT_EQ(parse_error(with_selector("process.exec", "path: {prefix: [/etc/]}")),
            "policy.yaml:10:9: spec.rules[0].match.path: only possible on file.open, and this rule is on "
            "process.exec");
  EXPECT_EQ(
      parse_error(with_selector("file.open", "port: [443]")),
      "policy.yaml:10:9: spec.rules[0].match.port: only possible on network.connect and network.accept, and "
      "this rule is on file.open");
  EXPECT_EQ(
      parse_error(with_selector("process.exec", "destination: {cidr: [10.0.0.0/8]}")),
      "policy.yaml:10:9: spec.rules[0].match.destination: only possible on network.connect, and this rule "
      "is on process.exec");
  EXPECT_EQ(
      parse_error(with_selector("file.open", "protocol: [tcp]")),
      "policy.yaml:10:9: spec.rules[0].match.protocol: only possible on network.connect and network.accept, "
      "and this rule is on file.open");
  EXPECT_EQ(
      parse_error(with_selector("network.connect", "source: {cidr: [10.0.0.0/8]}")),
      "policy.yaml:10:9: spec.rules[0].match.source: only possible on network.accept, and this rule is on "
      "network.connect");
  EXPECT_EQ(
      parse_error(with_selector("network.accept", "destination: {cidr: [10.0.0.0/8]}")),
      "policy.yaml:10:9: spec.rules[0].match.destination: only possible on network.connect, and this rule "
      "is on network.accept");
}

TEST(Policy, AcceptRules) {
  Policy p = parse_ok(with_selector("network.accept", "source: {notCidr: [10.0.0.0/8]}"));
  const Rule& r = p.rules[0];
  EXPECT_EQ(r.on, RuleEvent::kNetworkAccept);
  ASSERT_TRUE(r.destination);  // the peer
  EXPECT_TRUE(r.destination->negate);
  EXPECT_TRUE(r.tcp);
  EXPECT_FALSE(r.udp);  // a UDP socket accepts nothing: without deny, TCP only
  Policy deny =
      parse_ok(with_rules("    - on: network.accept\n      action: deny\n      match:\n"
                          "        source: {cidr: [\"fd00::/8\"]}\n        port: [22]\n"));
  EXPECT_TRUE(deny.rules[0].tcp);
  EXPECT_FALSE(deny.rules[0].udp);  // datagrams only when asked for
  EXPECT_TRUE(parse_ok(with_rules("    - on: network.accept\n      action: deny\n      match:\n"
                                  "        protocol: [udp]\n"))
                  .rules[0]
                  .udp);
  EXPECT_EQ(parse_ok(with_rules("    - on: network.accept\n      action: kill\n")).rules[0].action,
            RuleAction::kKill);
}

TEST(PolicyErrors, AcceptRules) {
  EXPECT_EQ(
      parse_error(with_selector("network.accept", "protocol: [udp]")),
      "policy.yaml:10:9: spec.rules[0].match.protocol: udp on network.accept is only possible with action "
      "deny (a UDP socket accepts nothing: its datagrams can only be refused as they arrive)");
  EXPECT_EQ(parse_error(with_rules("    - on: network.accept\n      action: deny\n      match:\n"
                                   "        binary: {in: [/usr/sbin/sshd]}\n")),
            "policy.yaml:10:9: spec.rules[0].match.binary: not possible with deny on network.accept, which "
            "refuses a connection when its first packet arrives, before any process accepts it (expected "
            "source, port, protocol or cgroup)");
}

TEST(Policy, ContainerSelector) {
  std::string id(64, 'a');
  Policy p = parse_ok(with_selector("file.open", "container: {in: [3f2a9c1b7d04, " + id + "]}"));
  ASSERT_TRUE(p.rules[0].container);
  EXPECT_FALSE(p.rules[0].container->negate);
  EXPECT_EQ(p.rules[0].container->exact, (std::vector<std::string>{"3f2a9c1b7d04", id}));
  EXPECT_TRUE(
      parse_ok(with_selector("network.connect", "container: {notIn: [ab]}")).rules[0].container->negate);
}

TEST(PolicyErrors, ContainerSelector) {
  EXPECT_EQ(
      parse_error(with_selector("file.open", "container: {in: [3F2A]}")),
      "policy.yaml:10:26: spec.rules[0].match.container.in[0]: expected a container id or a prefix of one "
      "(1 to 64 lowercase hex digits), got \"3F2A\"");
  EXPECT_EQ(
      parse_error(with_selector("file.open", "container: {in: [" + std::string(65, 'a') + "]}")),
      "policy.yaml:10:26: spec.rules[0].match.container.in[0]: expected a container id or a prefix of one "
      "(1 to 64 lowercase hex digits), got \"" +
          std::string(65, 'a') + "\"");
  EXPECT_EQ(
      parse_error(with_selector("file.open", "container: {in: []}")),
      "policy.yaml:10:25: spec.rules[0].match.container.in: expected a non-empty sequence of container ids "
      "or prefixes of them (e.g. [3f2a9c1b7d04]), got an empty sequence");
}

TEST(Policy, ArgsSelectorOnExec) {
  Policy p = parse_ok(with_selector("process.exec", "args: {in: [--privileged, \"-c\", \"a b\"]}"));
  ASSERT_TRUE(p.rules[0].args);
  EXPECT_FALSE(p.rules[0].args->negate);
  EXPECT_EQ(p.rules[0].args->exact, (std::vector<std::string>{"--privileged", "-c", "a b"}));
  EXPECT_TRUE(parse_ok(with_selector("process.exec", "args: {notIn: [--safe]}")).rules[0].args->negate);
}

TEST(PolicyErrors, ArgsSelector) {
  EXPECT_EQ(parse_error(with_selector("file.open", "args: {in: [-e]}")),
            "policy.yaml:10:9: spec.rules[0].match.args: only possible on process.exec, and this rule is on "
            "file.open");
  EXPECT_EQ(parse_error(with_selector("process.exec", "args: {in: [" + std::string(63, 'a') + "]}")),
            "policy.yaml:10:21: spec.rules[0].match.args.in[0]: expected an argument of at most 62 bytes "
            "without NUL, got \"" +
                std::string(63, 'a') + "\" (63 bytes)");
  EXPECT_EQ(
      parse_error(with_selector("process.exec", "args: {in: []}")),
      "policy.yaml:10:20: spec.rules[0].match.args.in: expected a non-empty sequence of argument values "
      "(e.g. [--privileged, -e]), got an empty sequence");
}

TEST(PolicyErrors, DuplicateRuleNames) {
  EXPECT_EQ(
      parse_error(with_rules("    - name: a\n      on: file.open\n      action: log\n"
                             "    - name: a\n      on: process.exec\n      action: log\n")),
      "policy.yaml:10:13: spec.rules[1].name: duplicate rule name \"a\" (already the name of spec.rules[0])");
  EXPECT_EQ(parse_error(with_rules("    - on: file.open\n      action: log\n"
                                   "    - name: rule-1\n      on: process.exec\n      action: log\n")),
            "policy.yaml:9:13: spec.rules[1].name: duplicate rule name \"rule-1\" (already the name of "
            "spec.rules[0])");
  EXPECT_EQ(parse_error(with_rules("    - name: rule-2\n      on: file.open\n      action: log\n"
                                   "    - on: process.exec\n      action: log\n")),
            "policy.yaml:10:7: spec.rules[1]: its name by position, \"rule-2\", is already the name of "
            "spec.rules[0]: give this rule a name");
}

TEST(PolicyErrors, StarInsideBinary) {
  EXPECT_EQ(parse_error(with_selector("file.open", "binary: {in: [/usr/*/bin/sh]}")),
            "policy.yaml:10:23: spec.rules[0].match.binary.in[0]: expected '*' only at the end of a path (a "
            "prefix, e.g. /usr/lib/*), got \"/usr/*/bin/sh\"");
  EXPECT_EQ(
      parse_error(with_selector("file.open", "parentBinary: {notIn: [/bin/sh, \"/opt/**\"]}")),
      "policy.yaml:10:41: spec.rules[0].match.parentBinary.notIn[1]: expected '*' only at the end of a path "
      "(a prefix, e.g. /usr/lib/*), got \"/opt/**\"");
}

// --- Policies together ---------------------------------------------------------------------

Policy policy_with(const std::string& name, const std::string& source, size_t rules) {
  Policy p;
  p.name = name;
  p.source = source;
  p.rules.resize(rules);
  return p;
}

TEST(PolicySet, Valid) {
  EXPECT_EQ(check_policy_set({}), "");
  EXPECT_EQ(check_policy_set({policy_with("a", "/p/a.yaml", 32), policy_with("b", "/p/b.yaml", 32)}), "");
}

TEST(PolicySet, DuplicateNames) {
  EXPECT_EQ(
      check_policy_set({policy_with("a", "/p/a.yaml", 1), policy_with("b", "/p/b.yaml", 1),
                        policy_with("a", "/p/c.yaml", 1)}),
      "two policies are named \"a\": one from /p/a.yaml, one from /p/c.yaml (policy names must be unique)");
  EXPECT_EQ(check_policy_set({policy_with("a", "/p/a.yaml", 1), policy_with("a", "/p/a.yaml", 1)}),
            "the policy \"a\" from /p/a.yaml is given twice");
}

TEST(PolicySet, RuleLimit) {
  EXPECT_EQ(check_policy_set({policy_with("a", "/p/a.yaml", 40), policy_with("b", "/p/b.yaml", 25)}),
            "65 rules in force, at most 64: a (/p/a.yaml) has 40, b (/p/b.yaml) has 25");
}

// --- Files ---------------------------------------------------------------------------------

TEST(PolicyFile, Missing) {
  std::string error;
  EXPECT_FALSE(load_policy("/nonexistent/waggle/policy.yaml", &error).has_value());
  EXPECT_EQ(error, "/nonexistent/waggle/policy.yaml: cannot read: No such file or directory");
}

TEST(PolicyFile, LoadsAndNamesTheSource) {
  char dir_template[] = "/tmp/waggle-policy-test-XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  const std::string dir = dir_template;
  const std::string good = dir + "/good.yaml";
  const std::string bad = dir + "/bad.yaml";
  std::ofstream(good) << kFullPolicy;
  std::ofstream(bad) << "apiVersion: waggle.dev/v1\nkind: Polcy\n";

  std::string error;
  std::optional<Policy> p = load_policy(good, &error);
  ASSERT_TRUE(p.has_value()) << error;
  EXPECT_EQ(p->source, good);
  EXPECT_EQ(p->rules.size(), 5u);

  EXPECT_FALSE(load_policy(bad, &error).has_value());
  EXPECT_EQ(error, bad + ":2:7: kind: expected Policy, got \"Polcy\"");

  unlink(good.c_str());
  unlink(bad.c_str());
  rmdir(dir.c_str());
}

}  // namespace
}  // namespace waggle
