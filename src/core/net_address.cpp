#include "core/net_address.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <charconv>
#include <cstring>

namespace waggle {

bool split_host_port(std::string_view address, std::string* host, uint16_t* port, std::string* why) {
  auto fail = [&](std::string_view reason) {
    if (why) *why = std::string(reason);
    return false;
  };
  std::string_view h, p;
  int family;
  if (address.starts_with('[')) {
    const size_t close = address.find(']');
    if (close == std::string_view::npos || address.substr(close + 1, 1) != ":")
      return fail("expected [ipv6]:port");
    h = address.substr(1, close - 1);
    p = address.substr(close + 2);
    family = AF_INET6;
  } else {
    const size_t colon = address.rfind(':');
    if (colon == std::string_view::npos) return fail("expected host:port");
    h = address.substr(0, colon);
    p = address.substr(colon + 1);
    if (h.find(':') != std::string_view::npos) return fail("an IPv6 address goes in brackets: [ipv6]:port");
    family = AF_INET;
  }
  if (h.empty()) return fail("no host (0.0.0.0 or [::] listen on every address)");
  unsigned value = 0;
  auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), value);
  if (p.empty() || ec != std::errc() || end != p.data() + p.size() || value > 65535)
    return fail("the port must be a number from 0 to 65535");
  std::string literal(h);
  uint8_t buf[16];
  if (inet_pton(family, literal.c_str(), buf) != 1)
    return fail(family == AF_INET6 ? "not an IPv6 address" : "the host must be an IPv4 address or [ipv6]");
  *host = literal;
  *port = static_cast<uint16_t>(value);
  return true;
}

std::string format_ip(uint16_t family, const uint8_t* bytes) {
  char text[INET6_ADDRSTRLEN] = {};
  static const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (family == AF_INET6 && std::memcmp(bytes, kMapped, sizeof kMapped) == 0) {
    inet_ntop(AF_INET, bytes + 12, text, sizeof text);
  } else {
    inet_ntop(family == AF_INET6 ? AF_INET6 : AF_INET, bytes, text, sizeof text);
  }
  return text;
}

}  // namespace waggle
