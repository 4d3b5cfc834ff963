// Packet rules: what a rules file says, once read and validated (docs/xdp.md). The XDP
// program's representation is built from this by compile_rules().
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <linux/filter.h>

#include "config/net_values.hpp"

namespace waggle {

enum class PacketAction { kPass, kDrop, kCount, kRateLimit, kSample };

// A prefix of each matching packet posted to user space (`waggle xdp samples`), at most
// `rate` a second with bursts of `burst`, for the whole rule.
struct SampleSettings {
  uint32_t bytes = 128;  // 1 to 256
  uint32_t rate = 100;
  uint32_t burst = 100;
};

// A token bucket per source address (masked to a prefix): `rate` packets a second, bursts of
// `burst`. Packets over it are dropped; the others go on to the next rules.
struct RateLimit {
  uint32_t rate = 0;
  uint32_t burst = 0;
  uint8_t ipv4_prefix = 32;
  uint8_t ipv6_prefix = 64;
};

struct ValueRange {
  uint32_t low = 0;
  uint32_t high = 0;
};

// A TCP option of this kind, optionally with its value (big-endian, `bytes` wide) in a range.
struct TcpOptionMatch {
  uint8_t kind = 0;
  uint8_t bytes = 0;  // 0: present is enough
  ValueRange value;
};

enum class ByteBase { kL3, kL4, kPayload };

struct ByteMatch {
  ByteBase base = ByteBase::kL3;
  uint16_t offset = 0;
  uint8_t length = 1;  // 1, 2 or 4
  uint32_t mask = 0xffffffff;
  ValueRange value;
};

struct PacketRule {
  std::string name;  // given, or "rule-N" (1-based)
  int line = 0;      // where it starts in the file (1-based)
  PacketAction action = PacketAction::kDrop;
  int family = 0;  // 0, 4 or 6: given, or implied by the addresses or the protocol
  std::vector<Cidr> sources, destinations;
  std::optional<uint8_t> protocol;
  std::vector<PortRange> source_ports, destination_ports;
  std::optional<std::pair<uint8_t, uint8_t>> tcp_flags;  // mask, value
  std::optional<ValueRange> length, payload_length, ttl;
  uint8_t ipv6_extensions = 0;  // WG_XDP_EXT_* bits that must all be present
  std::optional<TcpOptionMatch> tcp_option;
  std::optional<uint8_t> icmp_type, icmp_code;
  std::vector<ByteMatch> bytes;
  std::optional<uint16_t> vlan;  // 0 to 4095, or kUntagged
  uint8_t fragments = 0;         // WG_XDP_FRAG_* bits; 0: any
  RateLimit rate_limit;          // for PacketAction::kRateLimit
  SampleSettings sample;         // for PacketAction::kSample
  std::string pcap;              // a tcpdump expression, as given
  std::vector<sock_filter> pcap_program;  // ... compiled by libpcap to classic BPF
};

constexpr uint16_t kUntagged = 0xffff;

struct PacketRules {
  std::string name;    // metadata.name
  std::string source;  // the file it was read from
  PacketAction default_action = PacketAction::kPass;
  PacketAction malformed_action = PacketAction::kPass;
  std::vector<PacketRule> rules;
};

// Reads and validates a rules file. On error returns nothing and sets *error to
// "FILE:LINE:COLUMN: path: what was expected".
std::optional<PacketRules> load_packet_rules(const std::string& path, std::string* error);
std::optional<PacketRules> parse_packet_rules(const std::string& yaml, const std::string& name, std::string* error);

std::string_view packet_action_name(PacketAction action);

}  // namespace waggle
