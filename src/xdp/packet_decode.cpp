#include "xdp/packet_decode.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <ctime>
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

PacketSampleEvent decode_packet_sample(const wg_xdp_sample& s, const std::string& rule, const std::string& interface,
                                       int64_t unix_ns) {
  PacketSampleEvent e;
  e.time_ns = uint64_t(unix_ns);
  e.interface = interface;
  e.rule = rule;
  e.length = s.frame_len;
  const uint8_t* d = s.data;
  const size_t n = std::min<size_t>(s.captured, WG_XDP_SAMPLE_MAX);
  e.captured = uint32_t(n);
  if (n < 14) return e;
  auto mac = [](const uint8_t* m) {
    return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", m[0], m[1], m[2], m[3], m[4], m[5]);
  };
  e.eth_dst = mac(d);
  e.eth_src = mac(d + 6);
  size_t off = 14;
  e.eth_type = be16(d + 12);
  for (int tag = 0; tag < 2 && (e.eth_type == 0x8100 || e.eth_type == 0x88a8) && n >= off + 4; tag++) {
    if (tag == 0) e.vlan = be16(d + off) & 0x0fff;  // the outer one, as rules match
    e.eth_type = be16(d + off + 2);
    off += 4;
  }
  size_t l4 = 0;
  if (e.eth_type == 0x0800 && n >= off + 20 && (d[off] >> 4) == 4 && (d[off] & 0x0f) >= 5) {
    uint16_t frag = be16(d + off + 6);
    e.ip_version = 4;
    e.ip_src = ip_text(AF_INET, d + off + 12);
    e.ip_dst = ip_text(AF_INET, d + off + 16);
    e.protocol = d[off + 9];
    e.ttl = d[off + 8];
    e.ip_length = be16(d + off + 2);
    e.fragment = (frag & 0x1fff) ? "later" : (frag & 0x2000) ? "first" : "";
    l4 = off + (d[off] & 0x0f) * 4u;
  } else if (e.eth_type == 0x86dd && n >= off + 40 && (d[off] >> 4) == 6) {
    e.ip_version = 6;
    e.ip_src = ip_text(AF_INET6, d + off + 8);
    e.ip_dst = ip_text(AF_INET6, d + off + 24);
    e.protocol = d[off + 6];  // extension headers are not followed: next header says what comes
    e.ttl = d[off + 7];
    e.ip_length = be16(d + off + 4) + 40u;
    l4 = off + 40;
  }
  if (l4 == 0 || e.fragment == "later") return e;
  if ((e.protocol == 6 && n >= l4 + 14) || (e.protocol == 17 && n >= l4 + 4)) {
    e.l4 = e.protocol == 6 ? "tcp" : "udp";
    e.sport = be16(d + l4);
    e.dport = be16(d + l4 + 2);
    if (e.protocol == 6) e.tcp_flags = tcp_flags(d[l4 + 13]);
  } else if ((e.protocol == 1 || e.protocol == 58) && n >= l4 + 2) {
    e.l4 = "icmp";
    e.icmp_type = d[l4];
    e.icmp_code = d[l4 + 1];
  }
  return e;
}

int64_t sample_unix_ns(const wg_xdp_sample& s) {
  timespec mono{}, real{};
  clock_gettime(CLOCK_MONOTONIC, &mono);
  clock_gettime(CLOCK_REALTIME, &real);
  int64_t now_mono = int64_t(mono.tv_sec) * 1000000000 + mono.tv_nsec;
  int64_t now_real = int64_t(real.tv_sec) * 1000000000 + real.tv_nsec;
  return now_real - (now_mono - int64_t(s.ktime));
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
