// DNS messages built by hand, byte by byte: questions, answers, compression, and hostile input.
#include "protocols/dns_parser.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace waggle::dns {
namespace {

using Bytes = std::vector<uint8_t>;

Message parse_ok(const Bytes& packet) {
  std::string error;
  std::optional<Message> m = parse(packet, &error);
  EXPECT_TRUE(m.has_value()) << error;
  EXPECT_EQ(error, "");
  return m.value_or(Message{});
}

std::string parse_error(const Bytes& packet) {
  std::string error;
  EXPECT_FALSE(parse(packet, &error).has_value());
  return error;
}

// Header with QR=0, RD=1; one question: example.com A IN.
// clang-format off
const Bytes kQuery = {
    0x12, 0x34,                                // id
    0x01, 0x00,                                // flags: RD
    0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // 1 question, 0 answers/authority/additional
    7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0,  // offset 12: example.com
    0x00, 0x01, 0x00, 0x01,                    // A, IN
};
// clang-format on

// The answer: example.com A 93.184.216.34, its name a pointer to the question's.
// clang-format off
const Bytes kResponse = {
    0x12, 0x34,
    0x81, 0x80,                                // QR, RD, RA, NOERROR
    0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,  // 1 question, 1 answer
    7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0,
    0x00, 0x01, 0x00, 0x01,
    0xC0, 0x0C,                                // offset 29: name -> offset 12
    0x00, 0x01, 0x00, 0x01,                    // A, IN
    0x00, 0x00, 0x0E, 0x10,                    // TTL 3600
    0x00, 0x04, 93, 184, 216, 34,              // RDATA
};
// clang-format on

TEST(Dns, Query) {
  const Message m = parse_ok(kQuery);
  EXPECT_EQ(m.id, 0x1234);
  EXPECT_FALSE(m.is_response);
  EXPECT_EQ(m.opcode, 0);
  EXPECT_EQ(m.rcode, 0);
  EXPECT_FALSE(m.truncated);
  EXPECT_EQ(m.name, "example.com");
  EXPECT_EQ(m.qtype, 1);
  EXPECT_TRUE(m.answers.empty());
}

TEST(Dns, ResponseWithCompressedName) {
  const Message m = parse_ok(kResponse);
  EXPECT_TRUE(m.is_response);
  EXPECT_EQ(rcode_name(m.rcode), "NOERROR");
  EXPECT_EQ(m.name, "example.com");
  ASSERT_EQ(m.answers.size(), 1u);
  EXPECT_EQ(m.answers[0].name, "example.com");
  EXPECT_EQ(m.answers[0].type, 1);
  EXPECT_EQ(m.answers[0].ttl, 3600u);
  EXPECT_EQ(m.answers[0].data, "93.184.216.34");
}

TEST(Dns, NxDomain) {
  // clang-format off
  const Bytes packet = {
      0xAB, 0xCD,
      0x81, 0x83,                                // QR, RD, RA, rcode 3
      0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,  // 1 question, 1 authority record
      4, 'n', 'o', 'p', 'e', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0,  // offset 12
      0x00, 0x1C, 0x00, 0x01,                    // AAAA, IN
      // authority: nope.example SOA (not decoded, but it must fit the count)
      0xC0, 0x11, 0x00, 0x06, 0x00, 0x01, 0x00, 0x00, 0x03, 0x84, 0x00, 0x18,
      0xC0, 0x11, 0xC0, 0x11,                    // mname, rname: example
      0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 5,  // serial .. minimum
  };
  // clang-format on
  const Message m = parse_ok(packet);
  EXPECT_EQ(m.id, 0xABCD);
  EXPECT_EQ(m.rcode, 3);
  EXPECT_EQ(rcode_name(m.rcode), "NXDOMAIN");
  EXPECT_EQ(m.name, "nope.example");
  EXPECT_EQ(type_name(m.qtype), "AAAA");
  EXPECT_TRUE(m.answers.empty());
}

TEST(Dns, Aaaa) {
  // clang-format off
  const Bytes packet = {
      0x00, 0x07, 0x81, 0x80, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00,
      2, 'v', '6', 0,                            // offset 12: v6
      0x00, 0x1C, 0x00, 0x01,
      0xC0, 0x0C, 0x00, 0x1C, 0x00, 0x01, 0x00, 0x00, 0x00, 0x3C, 0x00, 0x10,  // v6 AAAA, TTL 60
      0x20, 0x01, 0x0D, 0xB8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,           // 2001:db8::1
      0xC0, 0x0C, 0x00, 0x1C, 0x00, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x10,  // TTL 2^32-1
      0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 192, 0, 2, 1,                  // ::ffff:192.0.2.1
  };
  // clang-format on
  const Message m = parse_ok(packet);
  ASSERT_EQ(m.answers.size(), 2u);
  EXPECT_EQ(m.answers[0].name, "v6");
  EXPECT_EQ(type_name(m.answers[0].type), "AAAA");
  EXPECT_EQ(m.answers[0].ttl, 60u);
  EXPECT_EQ(m.answers[0].data, "2001:db8::1");
  EXPECT_EQ(m.answers[1].ttl, 4294967295u);
  EXPECT_EQ(m.answers[1].data, "::ffff:192.0.2.1");
}

TEST(Dns, CnameChain) {
  // clang-format off
  const Bytes packet = {
      0x55, 0x66, 0x81, 0x80, 0x00, 0x01, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00,
      3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0,  // 12: www.example.com
      0x00, 0x01, 0x00, 0x01,
      // 33: www.example.com CNAME web.example.com ("web" + pointer to example.com at 16)
      0xC0, 0x0C, 0x00, 0x05, 0x00, 0x01, 0x00, 0x00, 0x01, 0x2C, 0x00, 0x06,
      3, 'w', 'e', 'b', 0xC0, 0x10,              // 45: web.example.com
      // 51: web.example.com CNAME edge.cdn.net
      0xC0, 0x2D, 0x00, 0x05, 0x00, 0x01, 0x00, 0x00, 0x00, 0x3C, 0x00, 0x0E,
      4, 'e', 'd', 'g', 'e', 3, 'c', 'd', 'n', 3, 'n', 'e', 't', 0,  // 63: edge.cdn.net
      // 77: edge.cdn.net A 192.0.2.7
      0xC0, 0x3F, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x14, 0x00, 0x04, 192, 0, 2, 7,
  };
  // clang-format on
  ASSERT_EQ(packet.size(), 93u);
  const Message m = parse_ok(packet);
  EXPECT_EQ(m.name, "www.example.com");
  ASSERT_EQ(m.answers.size(), 3u);
  EXPECT_EQ(m.answers[0].name, "www.example.com");
  EXPECT_EQ(type_name(m.answers[0].type), "CNAME");
  EXPECT_EQ(m.answers[0].ttl, 300u);
  EXPECT_EQ(m.answers[0].data, "web.example.com");
  EXPECT_EQ(m.answers[1].name, "web.example.com");
  EXPECT_EQ(m.answers[1].data, "edge.cdn.net");
  EXPECT_EQ(m.answers[2].name, "edge.cdn.net");
  EXPECT_EQ(m.answers[2].type, 1);
  EXPECT_EQ(m.answers[2].ttl, 20u);
  EXPECT_EQ(m.answers[2].data, "192.0.2.7");
}

TEST(Dns, MxTxtPtrAndOtherTypes) {
  // clang-format off
  const Bytes packet = {
      0x00, 0x01, 0x84, 0x00, 0x00, 0x01, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00,  // QR, AA
      1, 'x', 0,                                 // 12: x
      0x00, 0xFF, 0x00, 0x01,                    // ANY
      // x MX 10 mail.x
      0xC0, 0x0C, 0x00, 0x0F, 0x00, 0x01, 0, 0, 0, 1, 0x00, 0x09,
      0x00, 0x0A, 4, 'm', 'a', 'i', 'l', 0xC0, 0x0C,
      // x TXT "v=spf1" " -all" "\x01\\": strings joined, odd bytes escaped
      0xC0, 0x0C, 0x00, 0x10, 0x00, 0x01, 0, 0, 0, 1, 0x00, 0x10,
      6, 'v', '=', 's', 'p', 'f', '1', 5, ' ', '-', 'a', 'l', 'l', 2, 0x01, '\\',
      // x PTR x
      0xC0, 0x0C, 0x00, 0x0C, 0x00, 0x01, 0, 0, 0, 1, 0x00, 0x02, 0xC0, 0x0C,
      // x NS x
      0xC0, 0x0C, 0x00, 0x02, 0x00, 0x01, 0, 0, 0, 1, 0x00, 0x02, 0xC0, 0x0C,
      // x SRV 1 2 443 x: as hex
      0xC0, 0x0C, 0x00, 0x21, 0x00, 0x01, 0, 0, 0, 1, 0x00, 0x08,
      0x00, 0x01, 0x00, 0x02, 0x01, 0xBB, 0xC0, 0x0C,
  };
  // clang-format on
  const Message m = parse_ok(packet);
  EXPECT_EQ(m.qtype, 255);
  EXPECT_EQ(type_name(m.qtype), "TYPE255");
  ASSERT_EQ(m.answers.size(), 5u);
  EXPECT_EQ(type_name(m.answers[0].type), "MX");
  EXPECT_EQ(m.answers[0].data, "10 mail.x");
  EXPECT_EQ(type_name(m.answers[1].type), "TXT");
  EXPECT_EQ(m.answers[1].data, "v=spf1 -all\\001\\\\");
  EXPECT_EQ(type_name(m.answers[2].type), "PTR");
  EXPECT_EQ(m.answers[2].data, "x");
  EXPECT_EQ(type_name(m.answers[3].type), "NS");
  EXPECT_EQ(m.answers[3].data, "x");
  EXPECT_EQ(type_name(m.answers[4].type), "SRV");
  EXPECT_EQ(m.answers[4].data, "0001000201bbc00c");
}

TEST(Dns, RootNameAndNoQuestion) {
  // clang-format off
  const Bytes root = {0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0,
                      0,                        // the root
                      0x00, 0x02, 0x00, 0x01};  // NS, IN
  const Message m = parse_ok(root);
  EXPECT_EQ(m.name, ".");
  EXPECT_EQ(type_name(m.qtype), "NS");

  const Bytes none = {0x00, 0x03, 0x80, 0x04, 0, 0, 0, 0, 0, 0, 0, 0};  // NOTIMP, no question
  const Message n = parse_ok(none);
  EXPECT_EQ(n.name, "");
  EXPECT_EQ(n.qtype, 0);
  EXPECT_EQ(rcode_name(n.rcode), "NOTIMP");
}

TEST(Dns, OddBytesInNamesAreEscaped) {
  const Bytes packet = {
      0x00, 0x04, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0,
      5, 'a', '.', 'b', ' ', 0xFF,               // a label holding a dot, a space and 0xFF
      3, '\\', '"', 0x7F,                        // a backslash, a quote, DEL
      0, 0x00, 0x01, 0x00, 0x01,
  };
  // clang-format on
  EXPECT_EQ(parse_ok(packet).name, "a\\.b\\032\\255.\\\\\"\\127");
}

TEST(Dns, PointerLoopsAndBadPointers) {
  // The answer's name points at itself (offset 17).
  // clang-format off
  const Bytes self = {0x00, 0x05, 0x81, 0x80, 0x00, 0x01, 0x00, 0x01, 0, 0, 0, 0,
                      1, 'a', 0, 0x00, 0x01, 0x00, 0x01,  // 12: question a A IN
                      0xC0, 0x13, 0x00, 0x01, 0x00, 0x01, 0, 0, 0, 1, 0x00, 0x04, 1, 2, 3, 4};
  // clang-format on
  EXPECT_EQ(parse_error(self), "compression pointer to 19 at offset 19 does not point back into the message");

  // Two names pointing at each other: the question's (12) jumps forward to the answer's (19).
  Bytes loop = self;
  loop[12] = 0xC0;
  loop[13] = 0x13;
  loop[19] = 0xC0;
  loop[20] = 0x0C;
  EXPECT_EQ(parse_error(loop), "compression pointer to 19 at offset 12 does not point back into the message");

  // Back to 12, which then points at 14, which points at 12: backwards only, so refused.
  // clang-format off
  const Bytes chain = {0x00, 0x06, 0x01, 0x00, 0x00, 0x02, 0, 0, 0, 0, 0, 0,
                       1, 'a', 0xC0, 0x0E, 0x00, 0x01, 0x00, 0x01,   // 12: "a" then a pointer to itself
                       0xC0, 0x0C, 0x00, 0x01, 0x00, 0x01};
  // clang-format on
  EXPECT_EQ(parse_error(chain),
            "compression pointer to 14 at offset 14 does not point back into the message");

  Bytes out_of_range = self;
  out_of_range[19] = 0xFF;
  out_of_range[20] = 0xFF;
  EXPECT_EQ(parse_error(out_of_range),
            "compression pointer to 16383 at offset 19 does not point back into the message");

  Bytes into_header = self;
  into_header[20] = 0x02;
  EXPECT_EQ(parse_error(into_header),
            "compression pointer to 2 at offset 19 does not point back into the message");

  Bytes label_type = self;
  label_type[19] = 0x41;
  EXPECT_EQ(parse_error(label_type), "unsupported label type 0x40");
}

TEST(Dns, NamesUpTo255Bytes) {
  // Three 63-byte labels and one of 61: 3 * 64 + 62 + 1 = 255 bytes on the wire.
  const auto question = [](size_t last) {
    Bytes p = {0x00, 0x08, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0};
    for (size_t len : {size_t{63}, size_t{63}, size_t{63}, last}) {
      p.push_back(static_cast<uint8_t>(len));
      p.insert(p.end(), len, 'n');
    }
    p.insert(p.end(), {0, 0x00, 0x01, 0x00, 0x01});
    return p;
  };
  EXPECT_EQ(parse_ok(question(61)).name.size(), 3 * 63 + 61 + 3u);  // with the dots
  EXPECT_EQ(parse_error(question(62)), "name longer than 255 bytes");
}

TEST(Dns, Truncation) {
  // TC set, the second answer cut inside its RDATA: the first is kept.
  // clang-format off
  const Bytes packet = {
      0x00, 0x09, 0x83, 0x80, 0x00, 0x01, 0x00, 0x02, 0, 0, 0, 0,  // QR, TC, RD, RA
      1, 't', 0, 0x00, 0x10, 0x00, 0x01,                          // 12: t TXT IN
      0xC0, 0x0C, 0x00, 0x10, 0x00, 0x01, 0, 0, 0, 5, 0x00, 0x03, 2, 'h', 'i',
      0xC0, 0x0C, 0x00, 0x10, 0x00, 0x01, 0, 0, 0, 5, 0x00, 0xC8, 199, 'x', 'x',  // 200 bytes promised
  };
  // clang-format on
  const Message m = parse_ok(packet);
  EXPECT_TRUE(m.truncated);
  ASSERT_EQ(m.answers.size(), 1u);
  EXPECT_EQ(m.answers[0].data, "hi");

  Bytes untruncated = packet;
  untruncated[2] = 0x81;
  EXPECT_EQ(parse_error(untruncated), "record data runs past the end of the message");
}

TEST(Dns, CapturedPrefix) {
  // Only the first 35 bytes of kResponse were captured: the answer is cut after its type.
  const Bytes prefix(kResponse.begin(), kResponse.begin() + 35);
  EXPECT_EQ(parse_error(prefix), "record runs past the end of the message");
  std::string error;
  const std::optional<Message> m = parse(prefix, &error, /*prefix=*/true);
  ASSERT_TRUE(m.has_value()) << error;
  EXPECT_EQ(m->name, "example.com");
  EXPECT_EQ(m->qtype, 1);
  EXPECT_FALSE(m->truncated);  // the TC bit is the server's, not the capture's
  EXPECT_TRUE(m->answers.empty());
  // A prefix that still holds a malformed name is refused all the same.
  Bytes looped = prefix;
  looped[29] = 0xC0;
  looped[30] = 0x1D;
  EXPECT_FALSE(parse(looped, &error, true).has_value());

  // Over TCP: the second message is cut by the capture.
  Bytes stream = {0x00, static_cast<uint8_t>(kQuery.size())};
  stream.insert(stream.end(), kQuery.begin(), kQuery.end());
  stream.insert(stream.end(), {0x00, static_cast<uint8_t>(kResponse.size())});
  stream.insert(stream.end(), prefix.begin(), prefix.end());
  size_t consumed = 0;
  std::optional<std::vector<Message>> messages = parse_tcp(stream, &error, &consumed);
  ASSERT_TRUE(messages.has_value()) << error;
  EXPECT_EQ(messages->size(), 1u);
  EXPECT_EQ(consumed, 31u);
  messages = parse_tcp(stream, &error, &consumed, /*prefix=*/true);
  ASSERT_TRUE(messages.has_value()) << error;
  ASSERT_EQ(messages->size(), 2u);
  EXPECT_TRUE((*messages)[1].is_response);
  EXPECT_EQ((*messages)[1].name, "example.com");
  EXPECT_EQ(consumed, 31u);  // the cut message is not carried over
}

TEST(Dns, MalformedMessages) {
  EXPECT_EQ(parse_error({0x00, 0x01, 0x02}), "message of 3 bytes is shorter than a DNS header");
  // 1 question and 50 answers promised in 29 bytes.
  Bytes counts = kQuery;
  counts[7] = 50;
  EXPECT_EQ(parse_error(counts), "record counts exceed the message");
  // The question's name runs off the end.
  const Bytes cut_name = {0, 1, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 7, 'e', 'x', 'a', 'm', 0, 0, 0};
  EXPECT_EQ(parse_error(cut_name), "name runs past the end of its data");
  // An A record of 5 bytes.
  Bytes bad_a = kResponse;
  bad_a[40] = 5;
  bad_a.push_back(0);
  EXPECT_EQ(parse_error(bad_a), "A record of 5 bytes");
  // A CNAME whose RDATA goes on after its name.
  // clang-format off
  const Bytes cname = {0, 1, 0x81, 0x80, 0x00, 0x01, 0x00, 0x01, 0, 0, 0, 0,
                       1, 'c', 0, 0x00, 0x05, 0x00, 0x01,
                       0xC0, 0x0C, 0x00, 0x05, 0x00, 0x01, 0, 0, 0, 1, 0x00, 0x03, 0xC0, 0x0C, 0x00};
  // clang-format on
  EXPECT_EQ(parse_error(cname), "CNAME data longer than its name");
}

TEST(Dns, TcpStream) {
  // Two messages, each after its 2-byte length, then the start of a third.
  Bytes stream = {0x00, static_cast<uint8_t>(kQuery.size())};
  stream.insert(stream.end(), kQuery.begin(), kQuery.end());
  stream.insert(stream.end(), {0x00, static_cast<uint8_t>(kResponse.size())});
  stream.insert(stream.end(), kResponse.begin(), kResponse.end());
  const size_t complete = stream.size();
  stream.insert(stream.end(), {0x00, 0x40, 0x12, 0x34, 0x01});
  std::string error;
  size_t consumed = 0;
  const std::optional<std::vector<Message>> messages = parse_tcp(stream, &error, &consumed);
  ASSERT_TRUE(messages.has_value()) << error;
  ASSERT_EQ(messages->size(), 2u);
  EXPECT_FALSE((*messages)[0].is_response);
  EXPECT_EQ((*messages)[1].answers.at(0).data, "93.184.216.34");
  EXPECT_EQ(consumed, complete);
  EXPECT_EQ(consumed, 2 + 29 + 2 + 45u);

  const Bytes garbage = {0x00, 0x03, 'a', 'b', 'c'};
  EXPECT_FALSE(parse_tcp(garbage, &error).has_value());
  EXPECT_EQ(error, "message at offset 0: message of 3 bytes is shorter than a DNS header");
}

TEST(Dns, Names) {
  EXPECT_EQ(type_name(1), "A");
  EXPECT_EQ(type_name(6), "SOA");
  EXPECT_EQ(type_name(65), "HTTPS");
  EXPECT_EQ(type_name(65535), "TYPE65535");
  EXPECT_EQ(rcode_name(0), "NOERROR");
  EXPECT_EQ(rcode_name(1), "FORMERR");
  EXPECT_EQ(rcode_name(2), "SERVFAIL");
  EXPECT_EQ(rcode_name(5), "REFUSED");
  EXPECT_EQ(rcode_name(9), "RCODE9");
}

}  // namespace
}  // namespace waggle::dns
