#include "export/text_events.hpp"

#include <fmt/format.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <variant>

#include "core/open_flags.hpp"
#include "export/append.hpp"
#include "export/json_string.hpp"

namespace waggle {

namespace {

// Appends v right-aligned in `width` columns.
inline void append_uint_right(std::string& out, uint64_t v, size_t width) {
  fmt::format_int f(v);
  if (f.size() < width) out.append(width - f.size(), ' ');
  out.append(f.data(), f.size());
}

// Class of a byte for append_shell_word: 0 never needs quoting, 1 printable but needs quoting,
// 2 not printable (or the start of a multibyte sequence, decided separately).
constexpr std::array<uint8_t, 256> make_shell_classes() {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '_' || c == '@' || c == '%' || c == '+' || c == '=' || c == ':' || c == ',' ||
                       c == '.' || c == '/' || c == '-';
    if (plain) {
      t[c] = 0;
    } else if (c >= 0x20 && c < 0x7F) {
      t[c] = 1;
    } else {
      t[c] = 2;
    }
  }
  return t;
}
constexpr std::array<uint8_t, 256> kShellClass = make_shell_classes();

// Length of the printable UTF-8 sequence at p (2 to 4 bytes), or 0 when the bytes there must be
// escaped: invalid UTF-8, C1 controls (U+0080..U+009F), bidirectional embeddings, overrides and
// isolates (U+202A..U+202E, U+2066..U+2069) that could make a line display misleadingly.
size_t printable_multibyte(const unsigned char* p, size_t n) {
  const size_t len = utf8_sequence_length(p, n);
  if (len < 2) return 0;
  if (p[0] == 0xC2 && p[1] < 0xA0) return 0;
  if (p[0] == 0xE2 && p[1] == 0x80 && p[2] >= 0xAA && p[2] <= 0xAE) return 0;
  if (p[0] == 0xE2 && p[1] == 0x81 && p[2] >= 0xA6 && p[2] <= 0xA9) return 0;
  return len;
}

inline void append_hex_escape(std::string& out, unsigned char c) {
  static constexpr char kHex[] = "0123456789abcdef";
  const char buf[4] = {'\\', 'x', kHex[c >> 4], kHex[c & 15]};
  out.append(buf, 4);
}

// Local "HH:MM:SS" of the last second formatted (per thread).
struct LocalSecondCache {
  int64_t sec = -1;
  char text[8];
};
thread_local LocalSecondCache t_local_cache;

void append_local_time(std::string& out, uint64_t time_ns) {
  const auto sec = static_cast<int64_t>(time_ns / kNsPerSec);
  LocalSecondCache& cache = t_local_cache;
  if (cache.sec != sec) {
    const time_t t = static_cast<time_t>(sec);
    struct tm tm {};
    localtime_r(&t, &tm);
    fmt::format_to_n(cache.text, sizeof cache.text, "{:02}:{:02}:{:02}", tm.tm_hour, tm.tm_min, tm.tm_sec);
    cache.sec = sec;
  }
  char buf[sizeof cache.text + 7];
  std::memcpy(buf, cache.text, sizeof cache.text);
  buf[8] = '.';
  auto us = static_cast<uint32_t>(time_ns % kNsPerSec / 1000);
  for (int i = 14; i >= 9; --i) {
    buf[i] = static_cast<char>('0' + us % 10);
    us /= 10;
  }
  out.append(buf, sizeof buf);
}

// `HH:MM:SS.uuuuuu type    pid` with the pid of the process (the tid without one).
void append_head(std::string& out, uint64_t time_ns, std::string_view type, uint32_t tid,
                 const ProcessRef& process) {
  append_local_time(out, time_ns);
  out.push_back(' ');
  append_lit(out, type);
  out.push_back(' ');
  append_uint_right(out, process ? process->pid : tid, 6);
}

void append_comm(std::string& out, const ProcessRef& process) {
  out.push_back(' ');
  if (process) {
    append_shell_word(out, process->comm);
  } else {
    out.push_back('?');
  }
}

void append_event(std::string& out, const ExecEvent& e) {
  append_head(out, e.time_ns, "exec", e.tid, e.process);
  if (!e.process) {
    append_lit(out, " ?\n");
    return;
  }
  const ProcessInfo& p = *e.process;
  append_lit(out, " ppid=");
  append_uint(out, p.ppid);
  append_lit(out, " uid=");
  append_uint(out, p.uid);
  out.push_back(' ');
  append_shell_word(out, p.binary);
  if (p.binary_truncated) append_lit(out, "[...]");
  for (size_t i = 1; i < p.args.size(); ++i) {
    out.push_back(' ');
    append_shell_word(out, p.args[i]);
  }
  if (p.args_truncated) append_lit(out, " [...]");
  out.push_back('\n');
}

void append_event(std::string& out, const ExitEvent& e) {
  append_head(out, e.time_ns, "exit", e.tid, e.process);
  append_comm(out, e.process);
  if (e.exit_code) {
    append_lit(out, " code=");
    append_int(out, *e.exit_code);
  }
  if (e.signal) {
    append_lit(out, " signal=");
    append_signal_name(out, *e.signal);
  }
  if (e.core_dumped) append_lit(out, " core-dumped");
  out.push_back(' ');
  append_uint(out, e.duration_ns / kNsPerSec);
  out.push_back('.');
  const auto ms = static_cast<unsigned>(e.duration_ns % kNsPerSec / 1'000'000);
  const char digits[3] = {static_cast<char>('0' + ms / 100), static_cast<char>('0' + ms / 10 % 10),
                          static_cast<char>('0' + ms % 10)};
  out.append(digits, 3);
  append_lit(out, "s\n");
}

void append_event(std::string& out, const FileOpenEvent& e) {
  append_head(out, e.time_ns, "open", e.tid, e.process);
  append_comm(out, e.process);
  out.push_back(' ');
  append_shell_word(out, e.path);
  if (e.path_truncated) append_lit(out, "[...]");
  out.push_back(' ');
  const OpenFlagNames flags = open_flag_names(e.flags);
  for (size_t i = 0; i < flags.size(); ++i) {
    if (i > 0) out.push_back('|');
    append_lit(out, flags[i]);
  }
  if (open_flags_use_mode(e.flags)) {
    char buf[16];
    auto res = fmt::format_to_n(buf, sizeof buf, " mode={:04o}", e.mode);
    out.append(buf, res.out);
  }
  if (e.fd) {
    append_lit(out, " fd=");
    append_int(out, *e.fd);
  }
  if (e.error) {
    append_lit(out, " error=");
    append_errno_name(out, *e.error);
  }
  out.push_back('\n');
}

void append_event(std::string& out, const PolicyEvent& e) {
  append_head(out, e.time_ns, "policy", e.tid, e.process);
  append_comm(out, e.process);
  out.push_back(' ');
  switch (e.outcome) {
    case PolicyOutcome::kLogged:
      append_lit(out, "LOGGED");
      break;
    case PolicyOutcome::kKilled:
      append_lit(out, "KILLED");
      break;
    case PolicyOutcome::kWouldKill:
      append_lit(out, "WOULD-KILL");
      break;
    case PolicyOutcome::kRefused:
      append_lit(out, "KILL-REFUSED");
      break;
    case PolicyOutcome::kDenied:
      append_lit(out, "DENIED");
      break;
    case PolicyOutcome::kWouldDeny:
      append_lit(out, "WOULD-DENY");
      break;
  }
  out.push_back(' ');
  append_shell_word(out, e.policy + "/" + e.rule);
  if (e.kind == PolicyEvent::Kind::kExec) {
    append_lit(out, " exec ");
    append_shell_word(out, e.path);
  } else if (e.kind == PolicyEvent::Kind::kConnect) {
    append_lit(out, " connect ");
    append_lit(out, e.protocol);
    out.push_back(' ');
    append_shell_word(out, e.address);
    out.push_back(':');
    append_uint(out, e.port);
  } else if (e.kind == PolicyEvent::Kind::kAccept) {
    append_lit(out, " accept ");
    append_lit(out, e.protocol);
    out.push_back(' ');
    append_shell_word(out, e.address);
    out.push_back(':');
    append_uint(out, e.peer_port);
    append_lit(out, " to port ");
    append_uint(out, e.port);
  } else {
    append_lit(out, " open ");
    append_shell_word(out, e.path);
  }
  out.push_back('\n');
}

void append_event(std::string& out, const TcpEvent& e) { append_text_network_event(out, e); }
void append_event(std::string& out, const HttpEvent& e) { append_text_network_event(out, e); }
void append_event(std::string& out, const DnsEvent& e) { append_text_network_event(out, e); }
void append_event(std::string& out, const PacketSampleEvent& e) { append_text_network_event(out, e); }

}  // namespace

void append_shell_word(std::string& out, std::string_view raw) {
  const auto* p = reinterpret_cast<const unsigned char*>(raw.data());
  const size_t n = raw.size();
  bool needs_quotes = n == 0;
  bool needs_escapes = false;
  for (size_t i = 0; i < n;) {
    const uint8_t cls = kShellClass[p[i]];
    if (cls == 0) {
      ++i;
      continue;
    }
    if (cls == 1) {
      needs_quotes = true;
      ++i;
      continue;
    }
    if (size_t len = printable_multibyte(p + i, n - i)) {
      i += len;
      continue;
    }
    needs_quotes = needs_escapes = true;
    break;
  }
  if (!needs_quotes) {
    out.append(raw);
    return;
  }
  if (!needs_escapes) {
    out.push_back('\'');
    for (char c : raw) {
      if (c == '\'') {
        append_lit(out, "'\\''");
      } else {
        out.push_back(c);
      }
    }
    out.push_back('\'');
    return;
  }
  append_lit(out, "$'");
  for (size_t i = 0; i < n;) {
    const unsigned char c = p[i];
    const uint8_t cls = kShellClass[c];
    if (cls == 2) {
      if (size_t len = printable_multibyte(p + i, n - i)) {
        out.append(raw.data() + i, len);
        i += len;
      } else {
        append_hex_escape(out, c);
        ++i;
      }
      continue;
    }
    if (c == '\'' || c == '\\') out.push_back('\\');
    out.push_back(static_cast<char>(c));
    ++i;
  }
  out.push_back('\'');
}

void append_text_head(std::string& out, uint64_t time_ns, std::string_view type, uint32_t tid,
                      const ProcessRef& process) {
  append_head(out, time_ns, type, tid, process);
  append_comm(out, process);
}

void append_text_time(std::string& out, uint64_t time_ns) { append_local_time(out, time_ns); }

void append_text_event(std::string& out, const Event& e) {
  std::visit([&out](const auto& ev) { append_event(out, ev); }, e);
}

}  // namespace waggle
