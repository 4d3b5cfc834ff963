// Packet rules as the XDP program reads them: one record per rule, their networks as trie
// keys, and the rule set's settings.
#pragma once

#include <linux/types.h>

#include <string>
#include <vector>

#include "xdp/rules.hpp"
#include "xdp/xdp_record.h"

namespace waggle {

struct CompiledRules {
  wg_xdp_settings settings{};
  std::vector<wg_xdp_rule> rules;
  std::vector<wg_xdp_net_key> networks;  // the trie's: shorter than a whole address
  std::vector<wg_xdp_net_key> hosts;     // the hash's: whole IPv6 addresses
  std::vector<wg_xdp_host4_key> hosts4;  // whole IPv4 addresses
  std::vector<std::string> names;  // rule names, by index
  std::vector<std::vector<sock_filter>> pcap_programs;  // by wg_xdp_rule.pcap_index
};

// Returns false with *error when the rule set is over a limit the parser cannot see alone
// (networks in all rules together).
bool compile_rules(const PacketRules& rules, CompiledRules* out, std::string* error);

}  // namespace waggle
