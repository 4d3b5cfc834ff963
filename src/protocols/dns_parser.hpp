// DNS messages (RFC 1035) from UDP payloads and DNS-over-TCP stream chunks: the header, the
// first question and the answer section. Hostile input is expected: compression pointers may only
// point backwards (no loops), labels are at most 63 bytes and names 255, and record counts that
// the packet cannot hold are refused.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace waggle::dns {

// Names come out dotted, without the trailing dot ("." for the root), escaped like dig does so
// that any name is printable text: '.' and '\' inside a label as "\." and "\\", bytes outside
// '!'..'~' as "\DDD" (decimal).
struct Answer {
  std::string name;
  uint16_t type = 0;
  uint32_t ttl = 0;
  // A and AAAA: the address ("192.0.2.1", "2001:db8::1"); CNAME, NS, PTR: a name; MX:
  // "preference name"; TXT: its strings concatenated, escaped like names except that '.' and
  // spaces stay as they are; any other type: its RDATA in lowercase hex.
  std::string data;
};

struct Message {
  uint16_t id = 0;
  bool is_response = false;
  uint8_t opcode = 0;
  uint8_t rcode = 0;  // the header's 4 bits (EDNS extended rcodes are not decoded)
  bool truncated = false;
  std::string name;    // of the first question; empty when there is none
  uint16_t qtype = 0;  // of the first question
  std::vector<Answer> answers;
};

// At most this many answers are decoded; the rest of the section is ignored.
inline constexpr size_t kMaxAnswers = 256;

// Parses one message. On malformed input returns nullopt and sets *error. A message with the TC
// bit whose records are cut short keeps the questions and answers that were complete. So does any
// message when `prefix` says that `payload` is only its start (the capture was cut: a syscall
// longer than protocols::kHeadBytes); the record counts are then not checked against its size.
std::optional<Message> parse(std::span<const uint8_t> payload, std::string* error, bool prefix = false);

// Parses the messages at the start of a DNS-over-TCP stream chunk, each a 2-byte big-endian
// length and the message. Stops before a message that is not complete in `stream` and sets
// *consumed (when not null) to the bytes of the complete ones, so that the caller can carry the
// rest over; with `prefix` (the chunk was cut by the capture) that last message is also parsed,
// as far as it goes, as parse() does with `prefix`. On a malformed message returns nullopt and
// sets *error.
std::optional<std::vector<Message>> parse_tcp(std::span<const uint8_t> stream, std::string* error,
                                              size_t* consumed = nullptr, bool prefix = false);

// "A", "AAAA", "CNAME", "MX", "TXT", "PTR", "NS", "SOA", "SRV", "HTTPS", else "TYPE<n>".
std::string type_name(uint16_t type);
// "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", else "RCODE<n>".
std::string rcode_name(uint8_t rcode);

}  // namespace waggle::dns
