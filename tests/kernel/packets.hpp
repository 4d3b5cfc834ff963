// Ethernet frames built byte by byte for the XDP tests: every header field settable,
// including the wrong values (ihl < 5, doff < 5, options cut off) that parsers must survive.
// Checksums are left zero: XDP runs before the stack checks them.
#pragma once

#include <arpa/inet.h>

#include <cstdint>
#include <string>
#include <vector>

namespace waggle::test {

using Bytes = std::vector<uint8_t>;

inline void put16(Bytes& b, uint16_t v) {
  b.push_back(uint8_t(v >> 8));
  b.push_back(uint8_t(v));
}

inline void put32(Bytes& b, uint32_t v) {
  put16(b, uint16_t(v >> 16));
  put16(b, uint16_t(v));
}

inline void put_ip(Bytes& b, const std::string& text) {
  uint8_t a[16] = {};
  bool v6 = text.find(':') != std::string::npos;
  inet_pton(v6 ? AF_INET6 : AF_INET, text.c_str(), a);
  b.insert(b.end(), a, a + (v6 ? 16 : 4));
}

struct Tcp {
  uint16_t sport = 40000, dport = 80;
  uint8_t flags = 0x02;  // SYN
  Bytes options;         // padded by the caller, or not
  int doff = -1;         // -1: from the options' length
  Bytes payload;
};

inline Bytes tcp(const Tcp& t) {
  Bytes b;
  put16(b, t.sport);
  put16(b, t.dport);
  put32(b, 1000);
  put32(b, 0);
  int doff = t.doff >= 0 ? t.doff : int(5 + (t.options.size() + 3) / 4);
  b.push_back(uint8_t(doff << 4));
  b.push_back(t.flags);
  put16(b, 64240);
  put16(b, 0);
  put16(b, 0);
  b.insert(b.end(), t.options.begin(), t.options.end());
  while (t.doff < 0 && (b.size() - 20) % 4) b.push_back(1);  // NOP padding up to doff
  b.insert(b.end(), t.payload.begin(), t.payload.end());
  return b;
}

inline Bytes udp(uint16_t sport, uint16_t dport, const Bytes& payload = {}) {
  Bytes b;
  put16(b, sport);
  put16(b, dport);
  put16(b, uint16_t(8 + payload.size()));
  put16(b, 0);
  b.insert(b.end(), payload.begin(), payload.end());
  return b;
}

inline Bytes icmp(uint8_t type, uint8_t code) {
  Bytes b = {type, code, 0, 0, 0, 1, 0, 1};
  return b;
}

struct Ipv4 {
  std::string src = "192.0.2.1", dst = "198.51.100.2";
  uint8_t proto = 6, ttl = 64;
  int ihl = 5;
  uint16_t frag = 0;     // flags (0x2000 = more fragments) | offset in 8-byte units
  int total_length = -1; // -1: the real one
};

inline Bytes ipv4(const Ipv4& h, const Bytes& l4) {
  Bytes b;
  b.push_back(uint8_t(0x40 | (h.ihl & 0x0f)));
  b.push_back(0);
  int header = h.ihl >= 5 ? h.ihl * 4 : 20;
  put16(b, uint16_t(h.total_length >= 0 ? h.total_length : header + int(l4.size())));
  put16(b, 1);
  put16(b, h.frag);
  b.push_back(h.ttl);
  b.push_back(h.proto);
  put16(b, 0);
  put_ip(b, h.src);
  put_ip(b, h.dst);
  while (int(b.size()) < header) b.push_back(1);  // IP options: NOPs
  b.insert(b.end(), l4.begin(), l4.end());
  return b;
}

// An IPv6 extension header: its type (the value of the next-header field naming it) and the
// bytes after its own next-header and length bytes.
struct Extension {
  uint8_t type;
  Bytes body;  // hop-by-hop etc: 6 + 8n bytes; fragment: 6 bytes (offset/flags, id)
};

inline Extension fragment_header(uint16_t offset_units, bool more) {
  uint16_t v = uint16_t(offset_units << 3) | (more ? 1 : 0);
  return {44, {uint8_t(v >> 8), uint8_t(v), 0, 0, 0, 7}};
}

struct Ipv6 {
  std::string src = "2001:db8::1", dst = "2001:db8::2";
  uint8_t proto = 6, hop_limit = 64;
  std::vector<Extension> extensions;
};

inline Bytes ipv6(const Ipv6& h, const Bytes& l4) {
  Bytes ext;
  for (size_t i = 0; i < h.extensions.size(); i++) {
    const Extension& e = h.extensions[i];
    ext.push_back(i + 1 < h.extensions.size() ? h.extensions[i + 1].type : h.proto);
    if (e.type == 44) {
      ext.push_back(0);
    } else if (e.type == 51) {
      ext.push_back(uint8_t((e.body.size() + 2) / 4 - 2));
    } else {
      ext.push_back(uint8_t((e.body.size() + 2) / 8 - 1));
    }
    ext.insert(ext.end(), e.body.begin(), e.body.end());
  }
  Bytes b = {0x60, 0, 0, 0};
  put16(b, uint16_t(ext.size() + l4.size()));
  b.push_back(h.extensions.empty() ? h.proto : h.extensions[0].type);
  b.push_back(h.hop_limit);
  put_ip(b, h.src);
  put_ip(b, h.dst);
  b.insert(b.end(), ext.begin(), ext.end());
  b.insert(b.end(), l4.begin(), l4.end());
  return b;
}

// Ethernet (and VLAN tags, outer first) around an L3 packet of this EtherType.
inline Bytes ethernet(uint16_t type, const Bytes& l3, const std::vector<uint16_t>& vlans = {}) {
  Bytes b = {0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1};
  for (uint16_t id : vlans) {
    put16(b, 0x8100);
    put16(b, id);
  }
  put16(b, type);
  b.insert(b.end(), l3.begin(), l3.end());
  return b;
}

inline Bytes frame4(const Ipv4& h, const Bytes& l4, const std::vector<uint16_t>& vlans = {}) {
  return ethernet(0x0800, ipv4(h, l4), vlans);
}

inline Bytes frame6(const Ipv6& h, const Bytes& l4) { return ethernet(0x86dd, ipv6(h, l4)); }

// TCP option bytes.
inline Bytes mss(uint16_t value) { return {2, 4, uint8_t(value >> 8), uint8_t(value)}; }
inline Bytes sack_permitted() { return {4, 2}; }
inline Bytes timestamps() { return {8, 10, 0, 0, 0, 1, 0, 0, 0, 0}; }
inline Bytes nop() { return {1}; }

inline Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes b;
  for (const Bytes& p : parts) b.insert(b.end(), p.begin(), p.end());
  return b;
}

}  // namespace waggle::test
