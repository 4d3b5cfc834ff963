// Policies compiled into the kernel's rule bitmaps, without a kernel.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include "policy/compiler.hpp"

namespace waggle {
namespace {

Policy policy_with(std::vector<Rule> rules, PolicyMode mode = PolicyMode::kEnforce) {
  Policy p;
  p.name = "p";
  p.source = "p.yaml";
  p.mode = mode;
  p.rules = std::move(rules);
  return p;
}

Rule file_rule(const std::string& name, RuleAction action) {
  Rule r;
  r.name = name;
  r.on = RuleEvent::kFileOpen;
  r.action = action;
  return r;
}

TEST(PolicyCompiler, FoldPrefixesGivesEveryKeyTheRulesOfItsShorterPrefixes) {
  std::map<std::string, uint64_t> m{
      {"/etc/", 1}, {"/etc/ssh/", 2}, {"/etc/ssh/keys/", 4}, {"/var/", 8}, {"/e", 16}};
  fold_prefixes(m);
  EXPECT_EQ(m["/e"], 16u);
  EXPECT_EQ(m["/etc/"], 17u);
  EXPECT_EQ(m["/etc/ssh/"], 19u);
  EXPECT_EQ(m["/etc/ssh/keys/"], 23u);
  EXPECT_EQ(m["/var/"], 8u);
}

TEST(PolicyCompiler, SelectorsBecomeMasksAndValueBitmaps) {
  std::string error;
  Rule a = file_rule("a", RuleAction::kKill);
  a.path = PathSelector{{"/etc/"}, {"/etc/shadow"}, {".pem"}};
  a.binary = StringSetSelector{true, {"/usr/sbin/sshd"}, {"/usr/lib/openssh/"}};
  Rule b = file_rule("b", RuleAction::kLog);
  b.uid = IdSetSelector{false, {0, 1000}};
  Rule c = file_rule("c", RuleAction::kCount);
  c.path = PathSelector{{"/etc/ssh/"}, {}, {}};
  auto compiled = compile_policies({policy_with({a, b}), policy_with({c}, PolicyMode::kMonitor)}, "", &error);
  ASSERT_TRUE(compiled) << error;
  const CompiledPolicies& k = *compiled;
  ASSERT_EQ(k.rules.size(), 3u);
  EXPECT_EQ(k.rules[0].kernel.action, WG_ACTION_KILL);
  EXPECT_EQ(k.rules[0].kernel.monitor, 0);
  EXPECT_EQ(k.rules[2].kernel.monitor, 1);
  EXPECT_EQ(k.masks.file_open_rules, 0b111u);
  EXPECT_EQ(k.masks.sel[WG_SEL_PATH].in, 0b101u);
  EXPECT_EQ(k.masks.sel[WG_SEL_PATH].unused, 0b010u);
  EXPECT_EQ(k.masks.sel[WG_SEL_BINARY].not_in, 0b001u);
  EXPECT_EQ(k.masks.sel[WG_SEL_BINARY].unused, 0b110u);
  EXPECT_EQ(k.masks.sel[WG_SEL_UID].in, 0b010u);
  EXPECT_EQ(k.path_prefix.at("/etc/"), 0b001u);
  EXPECT_EQ(k.path_prefix.at("/etc/ssh/"), 0b101u);  // folded: /etc/ is a prefix of it
  EXPECT_EQ(k.path_exact.at("/etc/shadow"), 0b001u);
  EXPECT_EQ(k.path_suffix_reversed.at("mep."), 0b001u);
  EXPECT_EQ(k.binary_exact.at("/usr/sbin/sshd"), 0b001u);
  EXPECT_EQ(k.binary_prefix.at("/usr/lib/openssh/"), 0b001u);
  EXPECT_EQ(k.uid.at(1000), 0b010u);
}

TEST(PolicyCompiler, RefusesWhatItCannotEnforceNamingPolicyAndRule) {
  Rule kill_connect = file_rule("no-egress", RuleAction::kKill);
  kill_connect.on = RuleEvent::kNetworkConnect;
  std::string error;
  EXPECT_FALSE(compile_policies({policy_with({kill_connect})}, "", &error));
  EXPECT_EQ(error, "p.yaml: policy p, rule no-egress: kill on network.connect is not possible (use deny)");

  Rule deny_open = file_rule("d", RuleAction::kDeny);
  EXPECT_FALSE(compile_policies({policy_with({deny_open})}, "", &error));
  EXPECT_EQ(error, "p.yaml: policy p, rule d: deny is only possible for network.connect and network.accept");

  Rule cg = file_rule("cg", RuleAction::kLog);
  cg.cgroup = StringSetSelector{false, {"/no-such-cgroup-waggle"}, {}};
  EXPECT_FALSE(compile_policies({policy_with({cg})}, "/sys/fs/cgroup/unified", &error));
  EXPECT_NE(error.find("cgroup /no-such-cgroup-waggle not found"), std::string::npos) << error;
}

TEST(PolicyCompiler, ExecRulesGidAndParentBinaryHaveTheirMasks) {
  Rule exec = file_rule("no-curl", RuleAction::kKill);
  exec.on = RuleEvent::kProcessExec;
  exec.binary = StringSetSelector{false, {"/usr/bin/curl"}, {}};
  exec.parent_binary = StringSetSelector{true, {}, {"/usr/sbin/"}};
  exec.gid = IdSetSelector{false, {100}};
  std::string error;
  auto c = compile_policies({policy_with({exec})}, "", &error);
  ASSERT_TRUE(c) << error;
  EXPECT_EQ(c->masks.exec_rules, 1u);
  EXPECT_EQ(c->masks.file_open_rules, 0u);
  EXPECT_EQ(c->masks.sel[WG_SEL_PARENT_BINARY].not_in, 1u);
  EXPECT_EQ(c->masks.sel[WG_SEL_GID].in, 1u);
  EXPECT_EQ(c->parent_binary_prefix.at("/usr/sbin/"), 1u);
  EXPECT_EQ(c->gid.at(100), 1u);
  EXPECT_EQ(c->masks.parent_binary_lists, uint32_t(WG_LIST_PREFIX));
  EXPECT_EQ(c->masks.binary_lists, uint32_t(WG_LIST_EXACT));
}

TEST(PolicyCompiler, AnIpv4NetworkAlsoHoldsAsIpv4MappedIpv6) {
  Rule r;
  r.name = "no-ten";
  r.on = RuleEvent::kNetworkConnect;
  r.action = RuleAction::kDeny;
  Cidr ten;
  ten.family = AF_INET;
  ten.addr[0] = 10;
  ten.prefix_len = 8;
  r.destination = DestinationSelector{false, {ten}};
  std::string error;
  auto c = compile_policies({policy_with({r})}, "", &error);
  ASSERT_TRUE(c) << error;
  std::array<uint8_t, 4> v4{10, 0, 0, 0};
  EXPECT_EQ(c->dest4.at({v4, 8}), 1u);
  std::array<uint8_t, 16> mapped{};
  mapped[10] = mapped[11] = 0xff;
  mapped[12] = 10;
  EXPECT_EQ(c->dest6.at({mapped, 104}), 1u);  // ::ffff:10.0.0.0/104
  EXPECT_EQ(c->dest6.size(), 1u);
}

TEST(PolicyCompiler, AcceptRulesSplitIntoThoseJudgedAtAcceptAndThoseJudgedOnArrival) {
  Rule log = file_rule("audit", RuleAction::kLog);
  log.on = RuleEvent::kNetworkAccept;
  log.udp = false;
  log.container = StringSetSelector{false, {"3f2a", "3f2a9c"}, {}};
  Rule deny = file_rule("drop", RuleAction::kDeny);
  deny.on = RuleEvent::kNetworkAccept;
  deny.cgroup = StringSetSelector{false, {"/"}, {}};  // the root cgroup always exists
  deny.ports = {PortRange{22, 23}};
  std::string error;
  auto c = compile_policies({policy_with({log, deny})}, "/sys/fs/cgroup/unified", &error);
  ASSERT_TRUE(c) << error;
  EXPECT_EQ(c->masks.accept_rules, 0b01u);
  EXPECT_EQ(c->masks.ingress_rules, 0b10u);
  EXPECT_EQ(c->masks.connect_rules, 0u);
  EXPECT_EQ(c->masks.tcp_rules, 0b11u);
  EXPECT_EQ(c->masks.udp_rules, 0b10u);
  EXPECT_EQ(c->ports.at(22), 0b10u);
  EXPECT_EQ(c->ports.at(23), 0b10u);
  EXPECT_EQ(c->masks.sel[WG_SEL_PORT].unused, 0b01u);
  EXPECT_EQ(c->ingress_cgroups, std::vector<std::string>{"/"});
  EXPECT_TRUE(c->connect_cgroups.empty());
  EXPECT_EQ(c->masks.sel[WG_SEL_CONTAINER].in, 0b01u);
  EXPECT_EQ(c->containers.at("3f2a"), 0b01u);
  EXPECT_EQ(c->containers.at("3f2a9c"), 0b01u);  // folded: a longer prefix holds the shorter's rules

  deny.uid = IdSetSelector{false, {0}};
  EXPECT_FALSE(compile_policies({policy_with({deny})}, "/sys/fs/cgroup/unified", &error));
  EXPECT_EQ(error,
            "p.yaml: policy p, rule drop: deny on network.accept selects by source, port, protocol and "
            "cgroup only");
}

TEST(PolicyCompiler, RateLimitsBecomeWindowsTheKernelCounts) {
  Rule per_second = file_rule("s", RuleAction::kLog);
  per_second.rate_limit_per_s = 10;
  Rule per_minute = file_rule("m", RuleAction::kLog);
  per_minute.rate_limit_per_s = 30 / 60.0;
  per_minute.rate_window_s = 60;
  Rule none = file_rule("n", RuleAction::kLog);
  std::string error;
  auto c = compile_policies({policy_with({per_second, per_minute, none})}, "", &error);
  ASSERT_TRUE(c) << error;
  EXPECT_EQ(c->rules[0].kernel.window_ns, 1'000'000'000u);
  EXPECT_EQ(c->rules[0].kernel.per_window, 10u);
  EXPECT_EQ(c->rules[1].kernel.window_ns, 60'000'000'000u);
  EXPECT_EQ(c->rules[1].kernel.per_window, 30u);
  EXPECT_EQ(c->rules[2].kernel.window_ns, 0u);
}

TEST(PolicyCompiler, IPv6NetworksCoveringMappedAddressesAlsoHoldForIpv4) {
  auto v6 = [](std::array<uint8_t, 16> addr, uint8_t len) {
    Cidr c;
    c.family = AF_INET6;
    c.addr = addr;
    c.prefix_len = len;
    return c;
  };
  std::array<uint8_t, 16> mapped{};
  mapped[10] = mapped[11] = 0xff;
  mapped[12] = 192;
  mapped[13] = 168;
  std::array<uint8_t, 16> doc{0x20, 0x01, 0x0d, 0xb8};
  Rule r;
  r.name = "r";
  r.on = RuleEvent::kNetworkAccept;
  r.action = RuleAction::kDeny;
  r.destination = DestinationSelector{false, {v6(mapped, 112), v6({}, 0), v6(doc, 32)}};
  std::string error;
  auto c = compile_policies({policy_with({r})}, "", &error);
  ASSERT_TRUE(c) << error;
  EXPECT_EQ(c->dest4.at({{192, 168, 0, 0}, 16}), 1u);  // ::ffff:192.168.0.0/112
  EXPECT_EQ(c->dest4.at({{0, 0, 0, 0}, 0}), 1u);       // ::/0 holds all of IPv4
  EXPECT_EQ(c->dest4.size(), 2u);                      // 2001:db8::/32 holds none
}

TEST(PolicyCompiler, RefusesMoreThan64RulesInForce) {
  std::vector<Rule> rules;
  for (int i = 0; i < 65; i++) rules.push_back(file_rule("r" + std::to_string(i), RuleAction::kLog));
  std::string error;
  EXPECT_FALSE(compile_policies({policy_with(rules)}, "", &error));
  EXPECT_EQ(error, "p.yaml: policy p, rule r64: more than 64 rules in force on this host");
}

}  // namespace
}  // namespace waggle
