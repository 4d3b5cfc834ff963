#include "core/net_address.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <charconv>
#include <cstring>

namespace waggle {

bool split_host_port(std::string_view text, std::string* host, uint16_t* port) {
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return false;
  std::string_view h = text.substr(0, colon), p = text.substr(colon + 1);
  bool v6 = h.size() >= 2 && h.front() == '[' && h.back() == ']';
  if (v6) h = h.substr(1, h.size() - 2);
  unsigned value = 0;
  auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), value);
  if (p.empty() || ec != std::errc() || end != p.data() + p.size() || value > 65535) return false;
  std::string literal(h);
  uint8_t buf[16];
  if (inet_pton(v6 ? AF_INET6 : AF_INET, literal.c_str(), buf) != 1) return false;
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
