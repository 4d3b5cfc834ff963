// Sampled packets decoded for packet.sample events: as far as the captured prefix goes.
#include <gtest/gtest.h>

#include <cstring>

#include "../kernel/packets.hpp"
#include "xdp/packet_decode.hpp"

namespace waggle {
namespace {

using test::Bytes;

wg_xdp_sample sample_of(const Bytes& frame, size_t captured) {
  wg_xdp_sample s{};
  s.rule = 0;
  s.frame_len = uint32_t(frame.size());
  s.captured = uint32_t(std::min(captured, frame.size()));
  memcpy(s.data, frame.data(), s.captured);
  return s;
}

TEST(PacketSampleJson, DecodesEachLayerAsFarAsCaptured) {
  Bytes syn = test::frame4({.src = "192.0.2.1", .dst = "198.51.100.2", .ttl = 7},
                           test::tcp({.sport = 40000, .dport = 443, .flags = 0x12}), {42});
  EXPECT_EQ(packet_sample_json(sample_of(syn, 128), "r", "eth1", 1765000000123456789),
            R"({"type":"packet.sample","time":"1765000000.123456789","interface":"eth1","rule":"r","length":58,)"
            R"("captured":58,"eth":{"src":"02:00:00:00:00:01","dst":"02:00:00:00:00:02","vlan":42,"type":"0x0800"},)"
            R"("ip":{"version":4,"src":"192.0.2.1","dst":"198.51.100.2","protocol":6,"ttl":7,"length":40},)"
            R"("tcp":{"sport":40000,"dport":443,"flags":"SA"}})");
  // Cut in the IP header: Ethernet only.
  EXPECT_EQ(packet_sample_json(sample_of(syn, 30), "r", "eth1", 0).find("\"ip\""), std::string::npos);
  Bytes ping6 = test::frame6({.src = "2001:db8::1", .dst = "2001:db8::2", .proto = 58}, test::icmp(128, 0));
  std::string j = packet_sample_json(sample_of(ping6, 256), "p", "eth1", 0);
  EXPECT_NE(j.find(R"("ip":{"version":6,"src":"2001:db8::1","dst":"2001:db8::2","next_header":58,"hop_limit":64,"length":48})"),
            std::string::npos)
      << j;
  EXPECT_NE(j.find(R"("icmp":{"type":128,"code":0})"), std::string::npos) << j;
  // A later fragment's payload is not read as ports.
  Bytes frag = test::frame4({.proto = 17, .frag = 100}, Bytes(16, 0x35));
  j = packet_sample_json(sample_of(frag, 256), "f", "eth1", 0);
  EXPECT_NE(j.find(R"("fragment":"later")"), std::string::npos) << j;
  EXPECT_EQ(j.find("\"udp\""), std::string::npos) << j;
}

}  // namespace
}  // namespace waggle
