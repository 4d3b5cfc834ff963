// Policies compiled into what the kernel matches: rule numbers, selector masks, and for every
// selector value the set of rules (a bitmap) that lists it.
#pragma once

#include <linux/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "policy/policy.hpp"
#include "records.h"

namespace waggle {

struct CompiledRule {
  std::string policy;
  std::string rule;
  std::string action;  // log, kill, count
  wg_rule kernel{};
  double rate_limit_per_s = 0;
};

struct CompiledPolicies {
  std::vector<CompiledRule> rules;  // index = rule number
  wg_policy_masks masks{};
  // Value -> rules. Prefix and suffix entries already hold the rules of their shorter
  // prefixes (suffixes), so that the kernel's longest match is the whole answer. Suffixes are
  // stored reversed.
  std::map<std::string, uint64_t> path_prefix, path_exact, path_suffix_reversed;
  std::map<std::string, uint64_t> binary_prefix, binary_exact;
  std::unordered_map<uint32_t, uint64_t> uid;
  std::unordered_map<uint64_t, uint64_t> cgroup;  // by cgroup id
};

// Compiles the policies in force together. Refuses, with an error naming the policy and the
// rule, what this version cannot enforce in the kernel (rather than load it half-enforced).
// cgroup2_root resolves cgroup selectors to ids.
std::optional<CompiledPolicies> compile_policies(const std::vector<Policy>& policies,
                                                 const std::string& cgroup2_root, std::string* error);

// Adds to every key the rules of each of its proper prefixes that is also a key.
void fold_prefixes(std::map<std::string, uint64_t>& entries);

}  // namespace waggle
