// Policies compiled into what the kernel matches: rule numbers, selector masks, and for every
// selector value the set of rules (a bitmap) that lists it.
#pragma once

#include <linux/types.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "policy/policy.hpp"
#include "records.h"

namespace waggle {

// Events a network.accept deny rule without a rateLimit posts per second at most: a remote
// peer's packets must not be able to fill the ring.
inline constexpr uint64_t kInboundDenyEventsPerSecond = 100;

struct CompiledRule {
  std::string policy;
  std::string rule;
  std::string action;  // log, kill, count
  wg_rule kernel{};    // with the rate limit of a log rule
};

struct CompiledPolicies {
  std::vector<CompiledRule> rules;  // index = rule number
  wg_policy_masks masks{};
  // Value -> rules. Prefix and suffix entries already hold the rules of their shorter
  // prefixes (suffixes), so that the kernel's longest match is the whole answer. Suffixes are
  // stored reversed.
  std::map<std::string, uint64_t> path_prefix, path_exact, path_suffix_reversed;
  std::map<std::string, uint64_t> binary_prefix, binary_exact;
  std::map<std::string, uint64_t> parent_binary_prefix, parent_binary_exact;
  std::map<std::string, uint64_t> args;        // exact argument values
  std::map<std::string, uint64_t> containers;  // container id prefixes
  std::unordered_map<uint32_t, uint64_t> uid;
  std::unordered_map<uint32_t, uint64_t> gid;
  std::unordered_map<uint64_t, uint64_t> cgroup;  // by cgroup id
  // Peers (destinations of connects, sources of inbound connections): (network bytes, prefix
  // length) -> rules, wider networks folded in.
  std::map<std::pair<std::array<uint8_t, 4>, uint8_t>, uint64_t> dest4;
  std::map<std::pair<std::array<uint8_t, 16>, uint8_t>, uint64_t> dest6;
  std::map<uint16_t, uint64_t> ports;  // ranges expanded
  // Where the connect programs attach: these cgroups (paths under the cgroup2 mount) when
  // every connect rule names its cgroups, else the root of the cgroup tree ({"/"}).
  std::vector<std::string> connect_cgroups;
  // Where the ingress program (deny on network.accept) attaches, the same way.
  std::vector<std::string> ingress_cgroups;
};

// Compiles the policies in force together. Refuses, with an error naming the policy and the
// rule, what this version cannot enforce in the kernel (rather than load it half-enforced).
// cgroup2_root resolves cgroup selectors to ids.
std::optional<CompiledPolicies> compile_policies(const std::vector<Policy>& policies,
                                                 const std::string& cgroup2_root, std::string* error);

// Adds to every key the rules of each of its proper prefixes that is also a key.
void fold_prefixes(std::map<std::string, uint64_t>& entries);

// The same for networks: every CIDR gets the rules of each wider CIDR that contains it.
template <size_t N>
void fold_networks(std::map<std::pair<std::array<uint8_t, N>, uint8_t>, uint64_t>& entries) {
  auto masked = [](std::array<uint8_t, N> addr, unsigned len) {
    for (unsigned bit = len; bit < N * 8; bit++) addr[bit / 8] &= uint8_t(~(0x80u >> (bit % 8)));
    return addr;
  };
  std::vector<std::pair<std::pair<std::array<uint8_t, N>, uint8_t>, uint64_t*>> by_length;
  for (auto& [key, bits] : entries) by_length.emplace_back(key, &bits);
  std::stable_sort(by_length.begin(), by_length.end(),
                   [](const auto& a, const auto& b) { return a.first.second < b.first.second; });
  for (auto& [key, bits] : by_length) {
    for (int len = int(key.second) - 1; len >= 0; len--) {
      auto it = entries.find({masked(key.first, len), uint8_t(len)});
      if (it != entries.end()) {
        *bits |= it->second;
        break;
      }
    }
  }
}

}  // namespace waggle
