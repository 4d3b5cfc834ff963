// Networks and ports as users write them in policies and packet rules: "10.0.0.0/8",
// "fd00::/8", "192.168.1.1", 443, "8000-8080".
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace waggle {

struct Cidr {
  int family = 0;                  // AF_INET or AF_INET6
  std::array<uint8_t, 16> addr{};  // network byte order; IPv4 in the first 4 bytes
  uint8_t prefix_len = 0;
};

struct PortRange {
  uint16_t low = 0;
  uint16_t high = 0;
};

// Parses an address with an optional "/LEN" (a full-length prefix without it). Nothing when
// it is not one; *problem says why when there is more to say than "not an address" (a prefix
// too long for the family, host bits set).
std::optional<Cidr> parse_cidr(std::string_view text, std::string* problem);

// A decimal port number 1..65535, as text; nothing when it is not one.
std::optional<uint16_t> parse_port(std::string_view text);

}  // namespace waggle
