// libFuzzer harness for the DNS parser: the input as a UDP payload and as a TCP stream chunk,
// whole or as a captured prefix.
// Every decoded string must be printable ASCII (so it can go into JSON as is).
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>

#include "protocols/dns_parser.hpp"

namespace {

void check_printable(const std::string& s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c > 0x7E) {
      std::fprintf(stderr, "unprintable byte 0x%02x in \"%s\"\n", c, s.c_str());
      __builtin_trap();
    }
  }
}

void check(const waggle::dns::Message& m) {
  check_printable(m.name);
  if (m.answers.size() > waggle::dns::kMaxAnswers) __builtin_trap();
  for (const waggle::dns::Answer& a : m.answers) {
    check_printable(a.name);
    check_printable(a.data);
  }
  check_printable(waggle::dns::type_name(m.qtype));
  check_printable(waggle::dns::rcode_name(m.rcode));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> bytes(data, size);
  std::string error;
  if (const std::optional<waggle::dns::Message> m = waggle::dns::parse(bytes, &error)) {
    check(*m);
  } else if (error.empty()) {
    __builtin_trap();  // a failure must say why
  }
  if (const std::optional<waggle::dns::Message> m = waggle::dns::parse(bytes, &error, /*prefix=*/true))
    check(*m);
  for (bool prefix : {false, true}) {
    size_t consumed = 0;
    if (const auto messages = waggle::dns::parse_tcp(bytes, &error, &consumed, prefix)) {
      if (consumed > size) __builtin_trap();
      for (const waggle::dns::Message& m : *messages) check(m);
    }
  }
  return 0;
}
