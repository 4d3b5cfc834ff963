#include "config/net_values.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>

#include "config/yaml_check.hpp"

namespace waggle {

using yaml_check::quote;

std::optional<Cidr> parse_cidr(std::string_view text, std::string* problem) {
  size_t slash = text.find('/');
  std::string address(text.substr(0, slash));
  Cidr cidr;
  int max_len;
  if (inet_pton(AF_INET, address.c_str(), cidr.addr.data()) == 1) {
    cidr.family = AF_INET;
    max_len = 32;
  } else if (inet_pton(AF_INET6, address.c_str(), cidr.addr.data()) == 1) {
    cidr.family = AF_INET6;
    max_len = 128;
  } else {
    return std::nullopt;
  }
  int len = max_len;
  if (slash != std::string_view::npos) {
    std::string_view digits = text.substr(slash + 1);
    if (digits.empty() || digits.size() > 3 || (digits.size() > 1 && digits[0] == '0')) return std::nullopt;
    len = 0;
    for (char c : digits) {
      if (c < '0' || c > '9') return std::nullopt;
      len = len * 10 + (c - '0');
    }
    if (len > max_len) {
      *problem = "expected a prefix length of at most " + std::to_string(max_len) + " for an " +
                 (cidr.family == AF_INET ? "IPv4" : "IPv6") + " network, got " + quote(text);
      return std::nullopt;
    }
  }
  cidr.prefix_len = static_cast<uint8_t>(len);
  Cidr network = cidr;
  for (int bit = len; bit < max_len; bit++)
    network.addr[bit / 8] &= static_cast<uint8_t>(~(0x80u >> (bit % 8)));
  if (network.addr != cidr.addr) {
    char buf[INET6_ADDRSTRLEN] = {};
    inet_ntop(cidr.family, network.addr.data(), buf, sizeof(buf));
    *problem = std::string(text) + ": host bits set; did you mean " + buf + "/" + std::to_string(len) + "?";
    return std::nullopt;
  }
  return cidr;
}

std::optional<uint16_t> parse_port(std::string_view s) {
  if (s.empty() || s.size() > 5 || s[0] == '0') return std::nullopt;
  uint32_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<uint32_t>(c - '0');
  }
  if (n < 1 || n > 65535) return std::nullopt;
  return static_cast<uint16_t>(n);
}

}  // namespace waggle
