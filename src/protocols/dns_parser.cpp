#include "protocols/dns_parser.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>

namespace waggle::dns {

namespace {

constexpr size_t kHeaderBytes = 12;
constexpr size_t kMaxNameBytes = 255;  // on the wire: length bytes, labels and the final 0
constexpr size_t kMinQuestionBytes = 5;
constexpr size_t kMinRecordBytes = 11;

enum : uint16_t { kA = 1, kNs = 2, kCname = 5, kPtr = 12, kMx = 15, kTxt = 16, kAaaa = 28 };

uint16_t be16(std::span<const uint8_t> p, size_t at) { return static_cast<uint16_t>(p[at] << 8 | p[at + 1]); }

uint32_t be32(std::span<const uint8_t> p, size_t at) {
  return static_cast<uint32_t>(be16(p, at)) << 16 | be16(p, at + 2);
}

// Appends label or TXT bytes as printable text, as dig prints them: '\' (and, in labels, '.')
// escaped with '\', bytes outside '!'..'~' as \DDD (TXT keeps spaces).
void append_escaped(std::string& out, std::span<const uint8_t> bytes, bool label) {
  const uint8_t lowest = label ? 0x21 : 0x20;
  for (uint8_t c : bytes) {
    if (c == '\\' || (label && c == '.')) {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < lowest || c > 0x7E) {
      fmt::format_to(std::back_inserter(out), "\\{:03d}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
}

enum class Read { kOk, kPastEnd, kBad };

// Reads the (possibly compressed) name at *pos, whose bytes in place must end by `end`. On success
// *pos is just after them. Every compression pointer must point before the previous one (or, for
// the first, before the name): pointers cannot loop, and a name costs at most 255 label bytes.
Read read_name(std::span<const uint8_t> msg, size_t* pos, size_t end, std::string* out, std::string* error) {
  out->clear();
  size_t p = *pos;
  size_t limit = *pos;  // a pointer must point before this
  size_t after = 0;     // where the name ends in place, once a pointer was followed
  size_t wire = 1;      // the final 0
  while (true) {
    if (p >= end) {
      *error = "name runs past the end of its data";
      return Read::kPastEnd;
    }
    const uint8_t len = msg[p];
    if ((len & 0xC0) == 0xC0) {
      if (p + 1 >= end) {
        *error = "name runs past the end of its data";
        return Read::kPastEnd;
      }
      const size_t target = static_cast<size_t>(len & 0x3F) << 8 | msg[p + 1];
      if (after == 0) after = p + 2;
      if (target >= limit || target < kHeaderBytes) {
        *error = fmt::format("compression pointer to {} at offset {} does not point back into the message",
                             target, p);
        return Read::kBad;
      }
      limit = target;
      p = target;
      end = msg.size();
      continue;
    }
    if (len & 0xC0) {
      *error = fmt::format("unsupported label type 0x{:02x}", len & 0xC0);
      return Read::kBad;
    }
    if (len == 0) {
      *pos = after != 0 ? after : p + 1;
      if (out->empty()) *out = ".";
      return Read::kOk;
    }
    wire += 1 + len;
    if (wire > kMaxNameBytes) {
      *error = "name longer than 255 bytes";
      return Read::kBad;
    }
    if (p + 1 + len > end) {
      *error = "name runs past the end of its data";
      return Read::kPastEnd;
    }
    if (!out->empty()) *out += '.';
    append_escaped(*out, msg.subspan(p + 1, len), true);
    p += 1 + len;
  }
}

// Decodes the RDATA of `type` at msg[at, at + len).
bool read_rdata(std::span<const uint8_t> msg, size_t at, size_t len, uint16_t type, std::string* out,
                std::string* error) {
  const size_t end = at + len;
  const std::span<const uint8_t> rdata = msg.subspan(at, len);
  // A name that must fill the RDATA exactly (after `skip` bytes).
  const auto name_data = [&](size_t skip, std::string* name) {
    size_t pos = at + skip;
    if (pos > end || read_name(msg, &pos, end, name, error) != Read::kOk) return false;
    if (pos != end) {
      *error = fmt::format("{} data longer than its name", type_name(type));
      return false;
    }
    return true;
  };
  switch (type) {
    case kA:
    case kAaaa: {
      const size_t want = type == kA ? 4 : 16;
      char text[INET6_ADDRSTRLEN];
      if (len != want || !inet_ntop(type == kA ? AF_INET : AF_INET6, rdata.data(), text, sizeof(text))) {
        *error = fmt::format("{} record of {} bytes", type_name(type), len);
        return false;
      }
      *out = text;
      return true;
    }
    case kCname:
    case kNs:
    case kPtr:
      return name_data(0, out);
    case kMx: {
      std::string name;
      if (len < 3 || !name_data(2, &name)) {
        if (len < 3) *error = "MX record too short";
        return false;
      }
      *out = fmt::format("{} {}", be16(msg, at), name);
      return true;
    }
    case kTxt:
      out->clear();
      for (size_t p = 0; p < len;) {
        const size_t n = rdata[p];
        if (p + 1 + n > len) {
          *error = "TXT string runs past its record";
          return false;
        }
        append_escaped(*out, rdata.subspan(p + 1, n), false);
        p += 1 + n;
      }
      return true;
    default:
      out->clear();
      for (uint8_t b : rdata) fmt::format_to(std::back_inserter(*out), "{:02x}", b);
      return true;
  }
}

}  // namespace

std::optional<Message> parse(std::span<const uint8_t> msg, std::string* error, bool prefix) {
  if (msg.size() < kHeaderBytes) {
    *error = fmt::format("message of {} bytes is shorter than a DNS header", msg.size());
    return std::nullopt;
  }
  Message m;
  m.id = be16(msg, 0);
  const uint16_t flags = be16(msg, 2);
  m.is_response = (flags & 0x8000) != 0;
  m.opcode = static_cast<uint8_t>((flags >> 11) & 0xF);
  m.truncated = (flags & 0x0200) != 0;
  m.rcode = static_cast<uint8_t>(flags & 0xF);
  const size_t questions = be16(msg, 4);
  const size_t answers = be16(msg, 6);
  const size_t records = answers + be16(msg, 8) + be16(msg, 10);
  // A truncated message, or one of which we have only the start, may end anywhere: what was
  // complete is kept.
  const bool partial = m.truncated || prefix;
  if (!partial && questions * kMinQuestionBytes + records * kMinRecordBytes > msg.size() - kHeaderBytes) {
    *error = "record counts exceed the message";
    return std::nullopt;
  }
  const auto cut = [&](std::string what) -> std::optional<Message> {
    if (!partial) {
      *error = std::move(what);
      return std::nullopt;
    }
    error->clear();
    return m;
  };

  size_t pos = kHeaderBytes;
  std::string name;
  for (size_t i = 0; i < questions; ++i) {
    if (const Read r = read_name(msg, &pos, msg.size(), &name, error); r != Read::kOk) {
      return r == Read::kPastEnd ? cut(error->c_str()) : std::nullopt;
    }
    if (pos + 4 > msg.size()) return cut("question runs past the end of the message");
    if (i == 0) {
      m.name = std::move(name);
      m.qtype = be16(msg, pos);
    }
    pos += 4;
  }
  for (size_t i = 0; i < answers && m.answers.size() < kMaxAnswers; ++i) {
    Answer a;
    if (const Read r = read_name(msg, &pos, msg.size(), &a.name, error); r != Read::kOk) {
      return r == Read::kPastEnd ? cut(error->c_str()) : std::nullopt;
    }
    if (pos + 10 > msg.size()) return cut("record runs past the end of the message");
    a.type = be16(msg, pos);
    a.ttl = be32(msg, pos + 4);
    const size_t len = be16(msg, pos + 8);
    pos += 10;
    if (pos + len > msg.size()) return cut("record data runs past the end of the message");
    if (!read_rdata(msg, pos, len, a.type, &a.data, error)) return std::nullopt;
    pos += len;
    m.answers.push_back(std::move(a));
  }
  error->clear();
  return m;
}

std::optional<std::vector<Message>> parse_tcp(std::span<const uint8_t> stream, std::string* error,
                                              size_t* consumed, bool prefix) {
  std::vector<Message> out;
  size_t pos = 0;
  while (stream.size() - pos >= 2) {
    const size_t len = be16(stream, pos);
    const size_t have = stream.size() - pos - 2;
    // An incomplete last message is parsed only when the capture cut it (it cannot end later).
    if (have < len && !(prefix && have >= kHeaderBytes)) break;
    std::optional<Message> m = parse(stream.subspan(pos + 2, std::min(len, have)), error, have < len);
    if (!m) {
      *error = fmt::format("message at offset {}: {}", pos, *error);
      return std::nullopt;
    }
    out.push_back(std::move(*m));
    if (have < len) break;
    pos += 2 + len;
  }
  if (consumed) *consumed = pos;
  return out;
}

std::string type_name(uint16_t type) {
  switch (type) {
    case kA:
      return "A";
    case kNs:
      return "NS";
    case kCname:
      return "CNAME";
    case 6:
      return "SOA";
    case kPtr:
      return "PTR";
    case kMx:
      return "MX";
    case kTxt:
      return "TXT";
    case kAaaa:
      return "AAAA";
    case 33:
      return "SRV";
    case 65:
      return "HTTPS";
    default:
      return fmt::format("TYPE{}", type);
  }
}

std::string rcode_name(uint8_t rcode) {
  static constexpr const char* kNames[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"};
  if (rcode < std::size(kNames)) return kNames[rcode];
  return fmt::format("RCODE{}", rcode);
}

}  // namespace waggle::dns
