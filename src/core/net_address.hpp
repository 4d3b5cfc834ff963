// IP addresses and ports as users write them and as the kernel reports them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace waggle {

// Splits "1.2.3.4:80" or "[::1]:80" into an IP literal and a port (0 to 65535). Returns false
// when either part is malformed (host names are not accepted) and says why in *why.
bool split_host_port(std::string_view address, std::string* host, uint16_t* port, std::string* why = nullptr);

// The text form of an address from the kernel: 4 bytes for AF_INET, 16 for AF_INET6 (an
// IPv4-mapped IPv6 address is shown as IPv4, as users see it).
std::string format_ip(uint16_t family, const uint8_t* bytes);

}  // namespace waggle
