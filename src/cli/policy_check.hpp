#pragma once

#include <string>
#include <vector>

#include "policy/policy.hpp"

namespace waggle {

// `waggle policy check FILE...`: reads and validates each policy file, then the set of them
// together (unique names, rule limit). On the first error prints "waggle: <error>" to standard
// error and returns 2; otherwise prints what each rule does and returns 0.
int run_policy_check(const std::vector<std::string>& files);

// One rule in words: "on file.open where path starts with /etc/shadow, and binary is not
// /usr/sbin/sshd -> kill".
std::string describe_rule(const Rule& rule);

}  // namespace waggle
