// Field contract (names and order are fixed; consumers rely on them):
//
//   {"time":"<RFC 3339 ns>","type":"process.exec|process.exit|file.open",
//    "process":{"exec_id","pid","tid","ppid","uid","gid","comm","binary","args":[...],"cwd",
//               "cgroup_id","container_id" (null when empty),"start_time",
//               then only when set: "binary_truncated","args_truncated","cwd_truncated",
//               then only for non-UTF-8 values: "comm_b64","binary_b64","args_b64":[...],
//               "cwd_b64"},
//    process.exec: "parent":{"exec_id" (null when unknown),"pid","binary"[,"binary_b64"]}
//    process.exit: "exit_code" (or null),"signal" ("SIGKILL" or null),"core_dumped",
//                  "duration_ns"
//    file.open:    "syscall","path","given_path","flags":[...],"mode" (with O_CREAT/O_TMPFILE),
//                  "fd" (success) or "error" ("ENOENT"),"path_truncated" (only when set),
//                  "path_b64","given_path_b64" (only for non-UTF-8 values)}
//
// Strings are raw bytes; those that are not UTF-8 carry U+FFFD in the string and their exact
// bytes in the matching "_b64" field. An event without a process has "process":{"tid":N}.
#include "export/json_events.hpp"

#include <fmt/format.h>
#include <time.h>

#include <chrono>
#include <cstring>
#include <string_view>
#include <variant>

#include "core/open_flags.hpp"
#include "export/append.hpp"
#include "export/json_string.hpp"

namespace waggle {

namespace {

inline void append_2(char* p, unsigned v) {
  p[0] = static_cast<char>('0' + v / 10);
  p[1] = static_cast<char>('0' + v % 10);
}

// "YYYY-MM-DDTHH:MM:SS" of the last second formatted (per thread).
struct SecondCache {
  uint64_t sec = ~uint64_t{0};
  char text[19];
};
thread_local SecondCache t_second_cache;

void format_second(uint64_t sec, char* text) {
  using namespace std::chrono;
  const auto days_since_epoch = static_cast<int64_t>(sec / 86400);
  const auto rem = static_cast<unsigned>(sec % 86400);
  const year_month_day ymd{sys_days{days{days_since_epoch}}};
  const int year = static_cast<int>(ymd.year());
  text[0] = static_cast<char>('0' + year / 1000 % 10);
  text[1] = static_cast<char>('0' + year / 100 % 10);
  append_2(text + 2, static_cast<unsigned>(year % 100));
  text[4] = '-';
  append_2(text + 5, static_cast<unsigned>(ymd.month()));
  text[7] = '-';
  append_2(text + 8, static_cast<unsigned>(ymd.day()));
  text[10] = 'T';
  append_2(text + 11, rem / 3600);
  text[13] = ':';
  append_2(text + 14, rem / 60 % 60);
  text[16] = ':';
  append_2(text + 17, rem % 60);
}

// Writes the 30 characters of the RFC 3339 form of time_ns at p.
void format_rfc3339(char* p, uint64_t time_ns) {
  const uint64_t sec = time_ns / kNsPerSec;
  auto frac = static_cast<uint32_t>(time_ns % kNsPerSec);
  SecondCache& cache = t_second_cache;
  if (cache.sec != sec) {
    format_second(sec, cache.text);
    cache.sec = sec;
  }
  std::memcpy(p, cache.text, sizeof cache.text);
  p += sizeof cache.text;
  p[0] = '.';
  // Nine digits at p[1..9]: pairs from the right, then the first one alone.
  for (int i = 8; i >= 2; i -= 2) {
    append_2(p + i, frac % 100);
    frac /= 100;
  }
  p[1] = static_cast<char>('0' + frac);
  p[10] = 'Z';
}
constexpr size_t kRfc3339Size = 30;

inline void append_quoted_time(std::string& out, uint64_t ns) {
  char buf[kRfc3339Size + 2];
  buf[0] = '"';
  format_rfc3339(buf + 1, ns);
  buf[kRfc3339Size + 1] = '"';
  out.append(buf, sizeof buf);
}

// Appends `,"<name>_b64":"..."` when the string needed replacing.
inline void append_b64_field(std::string& out, std::string_view name, std::string_view raw) {
  out.append(",\"", 2);
  append_lit(out, name);
  append_lit(out, "_b64\":\"");
  append_base64(out, raw);
  out.push_back('"');
}
inline void append_b64_field(LineWriter& w, std::string_view name, std::string_view raw) {
  w.text(",\"");
  w.text(name);
  w.text("_b64\":\"");
  append_base64(w, raw);
  w.ch('"');
}

// Everything of the process object after `"tid":N,`, closing brace included.
void render_process_tail(std::string& out, const ProcessInfo& p) {
  append_lit(out, "\"ppid\":");
  append_uint(out, p.ppid);
  append_lit(out, ",\"uid\":");
  append_uint(out, p.uid);
  append_lit(out, ",\"gid\":");
  append_uint(out, p.gid);
  append_lit(out, ",\"comm\":");
  const bool comm_bad = append_json_string(out, p.comm);
  append_lit(out, ",\"binary\":");
  const bool binary_bad = append_json_string(out, p.binary);
  append_lit(out, ",\"args\":[");
  bool args_bad = false;
  for (size_t i = 0; i < p.args.size(); ++i) {
    if (i > 0) out.push_back(',');
    args_bad |= append_json_string(out, p.args[i]);
  }
  append_lit(out, "],\"cwd\":");
  const bool cwd_bad = append_json_string(out, p.cwd);
  append_lit(out, ",\"cgroup_id\":");
  append_uint(out, p.cgroup_id);
  append_lit(out, ",\"container_id\":");
  if (p.container_id.empty()) {
    append_lit(out, "null");
  } else {
    append_json_string(out, p.container_id);
  }
  append_lit(out, ",\"start_time\":");
  append_quoted_time(out, p.start_time_ns);
  if (p.binary_truncated) append_lit(out, ",\"binary_truncated\":true");
  if (p.args_truncated) append_lit(out, ",\"args_truncated\":true");
  if (p.cwd_truncated) append_lit(out, ",\"cwd_truncated\":true");
  if (comm_bad) append_b64_field(out, "comm", p.comm);
  if (binary_bad) append_b64_field(out, "binary", p.binary);
  if (args_bad) {
    append_lit(out, ",\"args_b64\":[");
    for (size_t i = 0; i < p.args.size(); ++i) {
      if (i > 0) out.push_back(',');
      out.push_back('"');
      append_base64(out, p.args[i]);
      out.push_back('"');
    }
    out.push_back(']');
  }
  if (cwd_bad) append_b64_field(out, "cwd", p.cwd);
  out.push_back('}');
}

// `{"time":"...","type":"<type>","process":{...}` (the event object is left open).
// `type_and_process` is `","type":"<type>","process":{`.
void append_head(LineWriter& w, uint64_t time_ns, std::string_view type_and_process, uint32_t tid,
                 const ProcessRef& process) {
  w.lit("{\"time\":\"");
  char* time = w.room(kRfc3339Size);
  format_rfc3339(time, time_ns);
  w.advance(time + kRfc3339Size);
  if (!process && tid == 0) {  // no process acted (a packet judged as it arrived)
    w.text(type_and_process.substr(0, type_and_process.size() - 1));  // without the '{'
    w.lit("null");
    return;
  }
  w.text(type_and_process);
  if (!process) {
    w.lit("\"tid\":");
    w.uint(tid);
    w.ch('}');
    return;
  }
  const ProcessInfo& p = *process;
  w.lit("\"exec_id\":");
  append_json_string(w, p.exec_id);
  w.lit(",\"pid\":");
  w.uint(p.pid);
  w.lit(",\"tid\":");
  w.uint(tid);
  w.ch(',');
  if (p.rendered_json.empty()) {
    render_process_tail(p.rendered_json, p);
    p.rendered_json.shrink_to_fit();  // kept for the process's life: not the room its strings took
  }
  w.text(p.rendered_json);
}

void append_event(std::string& out, const ExecEvent& e) {
  LineWriter w(out);
  append_head(w, e.time_ns, "\",\"type\":\"process.exec\",\"process\":{", e.tid, e.process);
  w.text(",\"parent\":{\"exec_id\":");
  if (e.parent.exec_id.empty()) {
    w.text("null");
  } else {
    append_json_string(w, e.parent.exec_id);
  }
  w.text(",\"pid\":");
  w.uint(e.parent.pid);
  w.text(",\"binary\":");
  if (append_json_string(w, e.parent.binary)) append_b64_field(w, "binary", e.parent.binary);
  w.text("}}\n");
}

void append_event(std::string& out, const ExitEvent& e) {
  LineWriter w(out);
  append_head(w, e.time_ns, "\",\"type\":\"process.exit\",\"process\":{", e.tid, e.process);
  w.text(",\"exit_code\":");
  if (e.exit_code) {
    w.sint(*e.exit_code);
  } else {
    w.text("null");
  }
  w.text(",\"signal\":");
  if (e.signal) {
    std::string name;
    append_signal_name(name, *e.signal);
    w.ch('"');
    w.text(name);
    w.ch('"');
  } else {
    w.text("null");
  }
  w.text(e.core_dumped ? ",\"core_dumped\":true" : ",\"core_dumped\":false");
  w.text(",\"duration_ns\":");
  w.uint(e.duration_ns);
  w.text("}\n");
}

// `,"syscall":"<name>","path":`
std::string_view syscall_field(OpenSyscall s) {
  switch (s) {
    case OpenSyscall::kOpen:
      return ",\"syscall\":\"open\",\"path\":";
    case OpenSyscall::kOpenat:
      return ",\"syscall\":\"openat\",\"path\":";
    case OpenSyscall::kOpenat2:
      return ",\"syscall\":\"openat2\",\"path\":";
    case OpenSyscall::kCreat:
      return ",\"syscall\":\"creat\",\"path\":";
  }
  return ",\"syscall\":\"unknown\",\"path\":";
}

void append_event(std::string& out, const FileOpenEvent& e) {
  LineWriter w(out, json_head_room(e.process) + 160 + e.path.size() + e.given_path.size());
  append_head(w, e.time_ns, "\",\"type\":\"file.open\",\"process\":{", e.tid, e.process);
  w.text(syscall_field(e.syscall));
  const bool path_bad = append_json_string(w, e.path);
  w.text(",\"given_path\":");
  const bool given_bad = append_json_string(w, e.given_path);
  w.text(",\"flags\":[\"");
  const OpenFlagNames flags = open_flag_names(e.flags);  // never empty
  for (size_t i = 0; i < flags.size(); ++i) {
    if (i > 0) w.text("\",\"");
    w.text(flags[i]);  // names and hex digits: nothing to escape
  }
  w.text("\"]");
  if (open_flags_use_mode(e.flags)) {
    w.text(",\"mode\":");
    w.uint(e.mode);
  }
  if (e.fd) {
    w.text(",\"fd\":");
    w.sint(*e.fd);
  }
  if (e.error) {
    w.text(",\"error\":\"");
    std::string name;
    append_errno_name(name, *e.error);
    w.text(name);
    w.ch('"');
  }
  if (e.path_truncated) w.text(",\"path_truncated\":true");
  if (path_bad) append_b64_field(w, "path", e.path);
  if (given_bad) append_b64_field(w, "given_path", e.given_path);
  w.text("}\n");
}

std::string_view outcome_name(PolicyOutcome o) {
  switch (o) {
    case PolicyOutcome::kLogged:
      return "logged";
    case PolicyOutcome::kKilled:
      return "killed";
    case PolicyOutcome::kWouldKill:
      return "would_kill";
    case PolicyOutcome::kRefused:
      return "refused";
    case PolicyOutcome::kDenied:
      return "denied";
    case PolicyOutcome::kWouldDeny:
      return "would_deny";
  }
  return "unknown";
}

void append_event(std::string& out, const PolicyEvent& e) {
  LineWriter w(out);
  append_head(w, e.time_ns, "\",\"type\":\"policy.match\",\"process\":{", e.tid, e.process);
  w.text(",\"policy\":");
  append_json_string(w, e.policy);
  w.text(",\"rule\":");
  append_json_string(w, e.rule);
  w.text(",\"action\":");
  append_json_string(w, e.action);
  w.text(",\"outcome\":\"");
  w.text(outcome_name(e.outcome));
  w.text("\",\"also_matched\":[");
  for (size_t i = 0; i < e.also_matched.size(); ++i) {
    if (i > 0) w.ch(',');
    append_json_string(w, e.also_matched[i]);
  }
  if (e.kind == PolicyEvent::Kind::kExec) {
    w.text("],\"event\":{\"type\":\"process.exec\",\"binary\":");
    const bool binary_bad = append_json_string(w, e.path);
    if (e.path_truncated) w.text(",\"binary_truncated\":true");
    if (binary_bad) append_b64_field(w, "binary", e.path);
    w.text("}}\n");
    return;
  }
  if (e.kind == PolicyEvent::Kind::kConnect) {
    w.text("],\"event\":{\"type\":\"network.connect\",\"address\":");
    append_json_string(w, e.address);
    w.text(",\"port\":");
    w.uint(e.port);
    w.text(",\"protocol\":");
    append_json_string(w, e.protocol);
    w.text("}}\n");
    return;
  }
  if (e.kind == PolicyEvent::Kind::kAccept) {
    w.text("],\"event\":{\"type\":\"network.accept\",\"peer_address\":");
    append_json_string(w, e.address);
    w.text(",\"peer_port\":");
    w.uint(e.peer_port);
    w.text(",\"local_port\":");
    w.uint(e.port);
    w.text(",\"protocol\":");
    append_json_string(w, e.protocol);
    w.text("}}\n");
    return;
  }
  w.text("],\"event\":{\"type\":\"file.open\"");
  w.text(syscall_field(e.syscall));
  const bool path_bad = append_json_string(w, e.path);
  w.text(",\"given_path\":");
  const bool given_bad = append_json_string(w, e.given_path);
  w.text(",\"flags\":[\"");
  const OpenFlagNames flags = open_flag_names(e.flags);
  for (size_t i = 0; i < flags.size(); ++i) {
    if (i > 0) w.text("\",\"");
    w.text(flags[i]);
  }
  w.text("\"]");
  if (e.path_truncated) w.text(",\"path_truncated\":true");
  if (path_bad) append_b64_field(w, "path", e.path);
  if (given_bad) append_b64_field(w, "given_path", e.given_path);
  w.text("}}\n");
}

void append_event(std::string& out, const TcpEvent& e) { append_json_network_event(out, e); }
void append_event(std::string& out, const HttpEvent& e) { append_json_network_event(out, e); }
void append_event(std::string& out, const DnsEvent& e) { append_json_network_event(out, e); }
void append_event(std::string& out, const PacketSampleEvent& e) { append_json_network_event(out, e); }

}  // namespace

size_t json_head_room(const ProcessRef& process) {
  constexpr size_t kFixed = 128;  // time, type and ids
  return process ? kFixed + process->exec_id.size() + process->rendered_json.size() : kFixed;
}

void append_json_head(LineWriter& w, uint64_t time_ns, std::string_view type_and_process, uint32_t tid,
                      const ProcessRef& process) {
  append_head(w, time_ns, type_and_process, tid, process);
}

uint64_t parse_rfc3339_ns(std::string_view text) {
  struct tm tm {};
  if (text.size() < 20 || !strptime(std::string(text.substr(0, 19)).c_str(), "%Y-%m-%dT%H:%M:%S", &tm)) return 0;
  uint64_t ns = uint64_t(timegm(&tm)) * kNsPerSec;
  if (text[19] == '.') {
    uint64_t scale = kNsPerSec / 10;
    for (size_t i = 20; i < text.size() && text[i] >= '0' && text[i] <= '9' && scale; i++, scale /= 10)
      ns += uint64_t(text[i] - '0') * scale;
  }
  return ns;
}

void append_rfc3339(std::string& out, uint64_t time_ns) {
  char buf[kRfc3339Size];
  format_rfc3339(buf, time_ns);
  out.append(buf, sizeof buf);
}

void append_json_event(std::string& out, const Event& e) {
  std::visit([&out](const auto& ev) { append_event(out, ev); }, e);
}

}  // namespace waggle
