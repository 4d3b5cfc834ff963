// What `waggle policy check` says a rule does.
#include "cli/policy_check.hpp"

#include <gtest/gtest.h>

namespace waggle {
namespace {

Rule parsed(const std::string& rule) {
  std::string error;
  auto p =
      parse_policy("apiVersion: waggle.dev/v1\nkind: Policy\nmetadata: {name: p}\nspec:\n  rules:\n" + rule,
                   "p.yaml", &error);
  EXPECT_TRUE(p) << error;
  return p ? p->rules.at(0) : Rule{};
}

TEST(PolicyCheck, SaysTheRateAsWrittenAndTheDefaultOfAnInboundDeny) {
  EXPECT_EQ(describe_rule(parsed("    - on: file.open\n      action: kill\n      rateLimit: 120/m\n"
                                 "      match: {path: {prefix: [/etc/]}}\n")),
            "on file.open where path starts with /etc/ -> kill (at most 120/m events)");
  EXPECT_EQ(describe_rule(parsed("    - on: process.exec\n      action: log\n      rateLimit: 10/s\n"
                                 "      match: {args: {in: [--privileged]}, container: {notIn: [3f2a]}}\n")),
            "on process.exec where an argument is --privileged, and container id is not 3f2a... -> log "
            "(at most 10/s events)");
  EXPECT_EQ(
      describe_rule(parsed("    - on: network.accept\n      action: deny\n"
                           "      match: {source: {notCidr: [10.0.0.0/8]}, port: [22]}\n")),
      "on network.accept where source is not in 10.0.0.0/8, and local port is 22, and protocol is tcp -> "
      "deny (at most 100/s events, the default for a deny judged on arriving packets)");
}

}  // namespace
}  // namespace waggle
