// What a packet rule set may hold: the sizes of the XDP program's maps and records.
#pragma once

#include <linux/types.h>

#include <cstddef>
#include <cstdint>

#include "xdp/xdp_record.h"

namespace waggle {

constexpr size_t kMaxPacketRules = WG_XDP_MAX_RULES;
constexpr size_t kMaxPortRanges = WG_XDP_PORT_RANGES;    // per direction per rule
constexpr size_t kMaxByteMatches = WG_XDP_BYTE_MATCHES;  // per rule
constexpr size_t kMaxPcapRules = WG_XDP_MAX_PCAP;       // rules with a tcpdump expression
constexpr size_t kMaxNetworksPerRule = 1u << 16;
constexpr size_t kMaxNetworks = 1u << 17;                // in all rules, the trie's size
constexpr uint32_t kMaxHeaderOffset = 60;                // from l3 or l4: the largest IPv4 or TCP header
constexpr uint32_t kMaxPayloadOffset = 9000;             // from the payload: a jumbo frame

}  // namespace waggle
