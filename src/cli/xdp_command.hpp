// `waggle xdp`: packet rules in XDP (docs/xdp.md).
#pragma once

#include <string>

#include "xdp/rules.hpp"

namespace waggle {

struct XdpCommand {
  std::string rules_file;  // check, apply
  std::string interface;   // apply, detach; status: empty for every interface
  std::string netns;       // a network namespace: a name under /run/netns or a path
  std::string mode = "auto";  // apply: native, generic or auto (native, else generic with a notice)
};

// Reads the rules and loads them into the kernel (the verifier checks the program) without
// attaching; prints what each rule matches. 0, or 2 for bad rules.
int run_xdp_check(const XdpCommand& command);

// Attaches the rules to --interface (or replaces waggle's rules there), pinned so that they
// stay after the command: 0, 1 when they could not be attached, 2 for bad rules or options.
int run_xdp_apply(const XdpCommand& command);
// What waggle has attached, with each rule's packet and byte counters.
int run_xdp_status(const XdpCommand& command);
// Prints packet.sample JSON lines of the sample rules on --interface (and writes them to a pcap
// file if given) until `count` samples, `duration_s` seconds or SIGINT.
int run_xdp_samples(const XdpCommand& command, uint64_t count, double duration_s, const std::string& pcap);
// Detaches waggle's rules from --interface (or from everywhere with all).
int run_xdp_detach(const XdpCommand& command, bool all);

// One line per rule: what it matches, as the rules file says it.
std::string describe_packet_rules(const PacketRules& rules);

}  // namespace waggle
