#include "xdp/packet_decode.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <vector>

namespace waggle {

namespace {

uint16_t be16(const uint8_t* p) { return uint16_t((p[0] << 8) | p[1]); }

std::string ip_text(int family, const uint8_t* bytes) {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(family, bytes, buf, sizeof(buf));
  return buf;
}

std::string tcp_flags(uint8_t f) {
  static const char names[] = "FSRPAUEC";
  std::string out;
  for (int i = 0; i < 8; i++)
    if (f & (1 << i)) out += names[i];
  return out;
}

}  // namespace

std::string packet_sample_json(const wg_xdp_sample& s, const std::string& rule, const std::string& interface,
                               int64_t unix_ns) {
  const uint8_t* d = s.data;
  const size_t n = std::min<size_t>(s.captured, WG_XDP_SAMPLE_MAX);
  std::string out = fmt::format(
      R"({{"type":"packet.sample","time":"{}.{:09d}","interface":"{}","rule":"{}","length":{},"captured":{})",
      unix_ns / 1000000000, unix_ns % 1000000000, interface, rule, s.frame_len, n);
  if (n < 14) return out + "}";
  size_t off = 12;
  uint16_t type = be16(d + off);
  std::string eth = fmt::format(R"("eth":{{"src":"{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}","dst":"{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}")",
                                d[6], d[7], d[8], d[9], d[10], d[11], d[0], d[1], d[2], d[3], d[4], d[5]);
  off += 2;
  if ((type == 0x8100 || type == 0x88a8) && n >= off + 4) {
    eth += fmt::format(R"(,"vlan":{})", be16(d + off) & 0x0fff);
    type = be16(d + off + 2);
    off += 4;
  }
  eth += fmt::format(R"(,"type":"0x{:04x}"}})", type);
  out += "," + eth;
  int proto = -1;
  size_t l4 = 0;
  bool later_fragment = false;
  if (type == 0x0800 && n >= off + 20) {
    size_t ihl = (d[off] & 0x0f) * 4u;
    uint16_t frag = be16(d + off + 6);
    later_fragment = (frag & 0x1fff) != 0;
    proto = d[off + 9];
    out += fmt::format(R"(,"ip":{{"version":4,"src":"{}","dst":"{}","protocol":{},"ttl":{},"length":{}{}}})",
                       ip_text(AF_INET, d + off + 12), ip_text(AF_INET, d + off + 16), proto, d[off + 8],
                       be16(d + off + 2), later_fragment ? R"(,"fragment":"later")" : (frag & 0x2000 ? R"(,"fragment":"first")" : ""));
    l4 = off + ihl;
  } else if (type == 0x86dd && n >= off + 40) {
    proto = d[off + 6];
    out += fmt::format(R"(,"ip":{{"version":6,"src":"{}","dst":"{}","next_header":{},"hop_limit":{},"length":{}}})",
                       ip_text(AF_INET6, d + off + 8), ip_text(AF_INET6, d + off + 24), proto, d[off + 7],
                       be16(d + off + 4) + 40);
    l4 = off + 40;  // extension headers are not followed here: next_header says what comes
  }
  if (later_fragment || l4 == 0) return out + "}";
  if ((proto == 6 && n >= l4 + 14) || (proto == 17 && n >= l4 + 4)) {
    out += fmt::format(R"(,"{}":{{"sport":{},"dport":{})", proto == 6 ? "tcp" : "udp", be16(d + l4), be16(d + l4 + 2));
    if (proto == 6) out += fmt::format(R"(,"flags":"{}")", tcp_flags(d[l4 + 13]));
    out += "}";
  } else if ((proto == 1 || proto == 58) && n >= l4 + 2) {
    out += fmt::format(R"(,"icmp":{{"type":{},"code":{}}})", d[l4], d[l4 + 1]);
  }
  return out + "}";
}

PcapWriter::PcapWriter(FILE* file) : file_(file) {
  const uint32_t header[6] = {0xa1b2c3d4, 2 | (4u << 16), 0, 0, 65535, 1};  // version 2.4, Ethernet
  ok_ = fwrite(header, sizeof(header), 1, file_) == 1;
}

void PcapWriter::write(const wg_xdp_sample& s, int64_t unix_ns) {
  const uint32_t n = std::min<uint32_t>(s.captured, WG_XDP_SAMPLE_MAX);
  const uint32_t record[4] = {uint32_t(unix_ns / 1000000000), uint32_t(unix_ns % 1000000000 / 1000), n, s.frame_len};
  ok_ = ok_ && fwrite(record, sizeof(record), 1, file_) == 1 && fwrite(s.data, 1, n, file_) == n;
}

}  // namespace waggle
