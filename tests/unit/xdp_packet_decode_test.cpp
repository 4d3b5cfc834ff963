// Sampled packets decoded into packet.sample events, as far as the captured prefix goes, and
// their JSON and text lines.
#include <gtest/gtest.h>

#include <cstring>

#include "../kernel/packets.hpp"
#include "export/json_events.hpp"
#include "export/text_events.hpp"
#include "xdp/packet_decode.hpp"

namespace waggle {
namespace {

using test::Bytes;

wg_xdp_sample sample_of(const Bytes& frame, size_t captured) {
  wg_xdp_sample s{};
  s.frame_len = uint32_t(frame.size());
  s.captured = uint32_t(std::min(captured, frame.size()));
  memcpy(s.data, frame.data(), s.captured);
  return s;
}

std::string json_of(const PacketSampleEvent& e) {
  std::string out;
  append_json_event(out, Event(e));
  return out;
}

TEST(PacketSample, DecodesEachLayerAsFarAsCaptured) {
  Bytes syn = test::frame4({.src = "192.0.2.1", .dst = "198.51.100.2", .ttl = 7},
                           test::tcp({.sport = 40000, .dport = 443, .flags = 0x12}), {42});
  EXPECT_EQ(json_of(decode_packet_sample(sample_of(syn, 128), "r", "eth1", 1765000000123456789)),
            R"({"time":"2025-12-06T05:46:40.123456789Z","type":"packet.sample","interface":"eth1","rule":"r",)"
            R"("length":58,"captured":58,"eth":{"src":"02:00:00:00:00:01","dst":"02:00:00:00:00:02","vlan":42,)"
            R"("type":"0x0800"},"ip":{"version":4,"src":"192.0.2.1","dst":"198.51.100.2","protocol":6,"ttl":7,)"
            R"("length":40},"tcp":{"sport":40000,"dport":443,"flags":"SA"}})"
            "\n");
  // Cut in the IP header: Ethernet only.
  PacketSampleEvent cut = decode_packet_sample(sample_of(syn, 30), "r", "eth1", 0);
  EXPECT_EQ(cut.ip_version, 0);
  EXPECT_EQ(cut.eth_type, 0x0800);
  EXPECT_EQ(cut.captured, 30u);
  Bytes ping6 = test::frame6({.src = "2001:db8::1", .dst = "2001:db8::2", .proto = 58}, test::icmp(128, 0));
  PacketSampleEvent p = decode_packet_sample(sample_of(ping6, 256), "p", "eth1", 0);
  EXPECT_EQ(p.ip_version, 6);
  EXPECT_EQ(p.ip_src, "2001:db8::1");
  EXPECT_EQ(p.protocol, 58);
  EXPECT_EQ(p.ip_length, 48u);
  EXPECT_EQ(p.l4, "icmp");
  EXPECT_EQ(p.icmp_type, 128);
  std::string text;
  append_text_event(text, Event(p));
  EXPECT_NE(text.find(" packet eth1 p 2001:db8::1 > 2001:db8::2 icmp len=62\n"), std::string::npos) << text;
  // A later fragment's payload is not read as ports.
  Bytes frag = test::frame4({.proto = 17, .frag = 100}, Bytes(16, 0x35));
  PacketSampleEvent f = decode_packet_sample(sample_of(frag, 256), "f", "eth1", 0);
  EXPECT_EQ(f.fragment, "later");
  EXPECT_EQ(f.l4, "");
  EXPECT_NE(json_of(f).find(R"("fragment":"later"})"), std::string::npos);
}

}  // namespace
}  // namespace waggle
