#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "export/json_events.hpp"
#include "export/json_string.hpp"

namespace waggle {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

const std::string kFffd = "\xEF\xBF\xBD";

std::string decode_base64(const std::string& text) {
  static const std::string kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  EXPECT_EQ(text.size() % 4, 0u) << text;
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    if (c == '=') break;
    const size_t v = kAlphabet.find(c);
    EXPECT_NE(v, std::string::npos) << text;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

std::string json_string(std::string_view raw, bool* invalid = nullptr) {
  std::string out;
  const bool bad = append_json_string(out, raw);
  if (invalid) *invalid = bad;
  return out;
}

// Naive reference: one byte at a time.
std::string reference_json_string(std::string_view raw, bool* invalid) {
  std::string out = "\"";
  *invalid = false;
  const auto* p = reinterpret_cast<const unsigned char*>(raw.data());
  for (size_t i = 0; i < raw.size();) {
    const unsigned char c = p[i];
    if (c == '"') {
      out += "\\\"";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\b') {
      out += "\\b";
    } else if (c == '\f') {
      out += "\\f";
    } else if (c < 0x20) {
      char buf[8];
      snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else if (c < 0x80) {
      out += static_cast<char>(c);
    } else {
      // Decode by code point value and check the shortest form and range.
      size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
      uint32_t cp = len == 4 ? c & 7 : len == 3 ? c & 15 : c & 31;
      bool ok = len != 0 && c < 0xF8 && i + len <= raw.size();
      for (size_t k = 1; ok && k < len; ++k) {
        ok = (p[i + k] & 0xC0) == 0x80;
        cp = (cp << 6) | (p[i + k] & 0x3F);
      }
      if (ok) {
        const uint32_t min = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
        ok = cp >= min && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
      }
      if (ok) {
        out.append(raw.substr(i, len));
        i += len;
        continue;
      }
      out += kFffd;
      *invalid = true;
    }
    ++i;
  }
  out += '"';
  return out;
}

// ---------------------------------------------------------------------------------------------

TEST(JsonString, EscapesPerRfc8259) {
  EXPECT_EQ(json_string(""), "\"\"");
  EXPECT_EQ(json_string("plain text"), "\"plain text\"");
  EXPECT_EQ(json_string("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(json_string("\n\t\r\b\f"), "\"\\n\\t\\r\\b\\f\"");
  EXPECT_EQ(json_string(std::string_view("\0\x01\x1f\x1b", 4)), "\"\\u0000\\u0001\\u001f\\u001b\"");
  EXPECT_EQ(json_string("\x7f/"), "\"\x7f/\"");  // DEL and '/' raw
}

TEST(JsonString, KeepsValidUtf8) {
  bool invalid = true;
  const std::string text = "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9D\x84\x9E \xEF\xBF\xBF \xF4\x8F\xBF\xBF";
  EXPECT_EQ(json_string(text, &invalid), "\"" + text + "\"");
  EXPECT_FALSE(invalid);
  EXPECT_TRUE(is_valid_utf8(text));
}

TEST(JsonString, ReplacesEachInvalidByte) {
  struct Case {
    std::string in;
    std::string out;
  };
  const std::vector<Case> cases = {
      {"\xFF", kFffd},
      {"a\x80"
       "b",
       "a" + kFffd + "b"},                                  // stray continuation
      {"\xC0\xAF", kFffd + kFffd},                          // overlong '/'
      {"\xC1\xBF", kFffd + kFffd},                          // overlong
      {"\xE0\x80\xAF", kFffd + kFffd + kFffd},              // overlong 3-byte
      {"\xF0\x80\x80\xAF", kFffd + kFffd + kFffd + kFffd},  // overlong 4-byte
      {"\xED\xA0\x80", kFffd + kFffd + kFffd},              // U+D800 surrogate
      {"\xED\xBF\xBF", kFffd + kFffd + kFffd},              // U+DFFF surrogate
      {"\xF4\x90\x80\x80", kFffd + kFffd + kFffd + kFffd},  // U+110000
      {"\xF5\x80\x80\x80", kFffd + kFffd + kFffd + kFffd},  // lead above F4
      {"\xE2\x82", kFffd + kFffd},                          // truncated at end
      {"\xE2\x82"
       "A",
       kFffd + kFffd + "A"},                    // truncated mid-string
      {"\xF0\x9D\x84", kFffd + kFffd + kFffd},  // truncated 4-byte
      {"\xC3", kFffd},                          // lone lead
      {"ok\xC3\xA9\xFF!", "ok\xC3\xA9" + kFffd + "!"},
  };
  for (const Case& c : cases) {
    bool invalid = false;
    EXPECT_EQ(json_string(c.in, &invalid), "\"" + c.out + "\"") << c.in;
    EXPECT_TRUE(invalid) << c.in;
    EXPECT_FALSE(is_valid_utf8(c.in)) << c.in;
    // And the result is valid JSON carrying valid UTF-8.
    EXPECT_EQ(json::parse(json_string(c.in)).get<std::string>(), c.out);
  }
  EXPECT_EQ(json_string("\xFF\"\n"), "\"" + kFffd + "\\\"\\n\"");
}

TEST(JsonString, MatchesNaiveReferenceOnRandomInput) {
  std::mt19937 rng(12345);
  // Biased alphabet: mostly ASCII, some specials, UTF-8 fragments, so that runs of plain bytes
  // cross the 8-byte word boundaries of the fast path in every way.
  const std::vector<std::string> pieces = {"a",
                                           "b",
                                           "0",
                                           " ",
                                           "/",
                                           "\"",
                                           "\\",
                                           "\n",
                                           "\x01",
                                           "\x7f",
                                           "\xC3\xA9",
                                           "\xE2\x82\xAC",
                                           "\xF0\x9F\x98\x80",
                                           "\xFF",
                                           "\x80",
                                           "\xE2\x82",
                                           "\xED\xA0\x80",
                                           "\xC0\x80",
                                           "abcdefgh",
                                           "0123456789abcdef"};
  for (int round = 0; round < 50000; ++round) {
    std::string in;
    const int n = static_cast<int>(rng() % 24);
    for (int i = 0; i < n; ++i) in += pieces[rng() % pieces.size()];
    bool want_invalid = false;
    const std::string want = reference_json_string(in, &want_invalid);
    std::string got = "prefix";
    const bool got_invalid = append_json_string(got, in);
    ASSERT_EQ(got, "prefix" + want) << json(std::vector<uint8_t>(in.begin(), in.end()));
    ASSERT_EQ(got_invalid, want_invalid);
    ASSERT_EQ(is_valid_utf8(in), !want_invalid);
  }
  // Uniformly random bytes too.
  for (int round = 0; round < 20000; ++round) {
    std::string in(rng() % 40, '\0');
    for (char& c : in) c = static_cast<char>(rng() % 256);
    bool want_invalid = false;
    const std::string want = reference_json_string(in, &want_invalid);
    bool got_invalid = false;
    ASSERT_EQ(json_string(in, &got_invalid), want) << json(std::vector<uint8_t>(in.begin(), in.end()));
    ASSERT_EQ(got_invalid, want_invalid);
  }
}

// One writer, made with little room, takes pieces of every kind until its line is far longer
// than that room: the line is what appending each piece to a std::string gives.
TEST(LineWriter, GrowsAndKeepsEveryPiece) {
  std::mt19937 rng(777);
  for (size_t room : {0u, 1u, 7u, 64u, 1024u}) {
    std::string got = "before\n", want = got;
    {
      LineWriter w(got, room);
      for (int i = 0; i < 3000; ++i) {
        switch (rng() % 8) {
          case 0:
            w.lit(",\"name\":");
            want += ",\"name\":";
            break;
          case 1: {
            const uint64_t v = rng() % 7 == 0 ? ~uint64_t{0} : rng();
            w.uint(v);
            want += std::to_string(v);
            break;
          }
          case 2: {
            const int64_t v = rng() % 7 == 0 ? INT64_MIN : -static_cast<int64_t>(rng());
            w.sint(v);
            want += std::to_string(v);
            break;
          }
          case 3:
            w.ch('}');
            want += '}';
            break;
          case 4: {
            const char kinds[] = {'\x01', 'x', '\xFF'};  // escaped (6x), plain, invalid (3x)
            const std::string in(rng() % 300, kinds[rng() % 3]);
            bool invalid = false;
            append_json_string(w, in);
            want += reference_json_string(in, &invalid);
            break;
          }
          case 5: {
            std::string in(rng() % 200, '\0');
            for (char& c : in) c = static_cast<char>(rng());
            append_base64(w, in);
            append_base64(want, in);  // its exact room, in a writer of its own
            break;
          }
          case 6: {
            std::array<uint8_t, 16> id{};
            for (uint8_t& b : id) b = static_cast<uint8_t>(rng());
            w.hex(id);
            for (uint8_t b : id) want += fmt::format("{:02x}", b);
            break;
          }
          default: {
            const std::string in(rng() % 50, 'b');
            w.text(in);
            want += in;
          }
        }
      }
    }
    ASSERT_EQ(got, want) << "initial room " << room;
  }
}

TEST(JsonString, Base64Vectors) {
  const std::vector<std::pair<std::string, std::string>> vectors = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
      {std::string("\xFF\xFE\x00\x80", 4), "//4AgA=="}};
  for (const auto& [in, out] : vectors) {
    std::string got = "x";
    append_base64(got, in);
    EXPECT_EQ(got, "x" + out);
    EXPECT_EQ(decode_base64(out), in);
  }
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  std::string encoded;
  append_base64(encoded, all);
  EXPECT_EQ(decode_base64(encoded), all);
}

// ---------------------------------------------------------------------------------------------

TEST(JsonTime, Rfc3339WithNanoseconds) {
  auto fmt = [](uint64_t ns) {
    std::string out;
    append_rfc3339(out, ns);
    return out;
  };
  EXPECT_EQ(fmt(1795278600123456789ull), "2026-11-21T16:30:00.123456789Z");
  EXPECT_EQ(fmt(0), "1970-01-01T00:00:00.000000000Z");
  EXPECT_EQ(fmt(951868799000000001ull), "2000-02-29T23:59:59.000000001Z");
  EXPECT_EQ(fmt(951868800000000000ull), "2000-03-01T00:00:00.000000000Z");
  EXPECT_EQ(fmt(4107542400999999999ull), "2100-03-01T00:00:00.999999999Z");
  // The cached second must not leak into another second.
  EXPECT_EQ(fmt(1795278600000000000ull), "2026-11-21T16:30:00.000000000Z");
  EXPECT_EQ(fmt(1795278659500000000ull), "2026-11-21T16:30:59.500000000Z");
  EXPECT_EQ(fmt(1795278600000000007ull), "2026-11-21T16:30:00.000000007Z");
}

// ---------------------------------------------------------------------------------------------

std::shared_ptr<ProcessInfo> make_process() {
  auto p = std::make_shared<ProcessInfo>();
  p->exec_id = "OjEyMzQ6MTIzNDU2Nzg5";
  p->pid = 1234;
  p->ppid = 1;
  p->uid = 1000;
  p->gid = 100;
  p->comm = "ls";
  p->binary = "/usr/bin/ls";
  p->args = {"ls", "-l", "/tmp"};
  p->cwd = "/home/user";
  p->cgroup_id = 4242;
  p->start_time_ns = 1795278599000000042ull;
  p->start_boottime_ns = 5000;
  return p;
}

// Renders one event, checks it is exactly one line, parses it.
ordered_json render(const Event& e) {
  std::string out = "previous line\n";
  append_json_event(out, e);
  const std::string line = out.substr(14);
  EXPECT_FALSE(line.empty());
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1) << line;
  return ordered_json::parse(line);
}

std::vector<std::string> keys(const ordered_json& j) {
  std::vector<std::string> out;
  for (const auto& [k, v] : j.items()) out.push_back(k);
  return out;
}

TEST(JsonEvents, ExecFieldsAndOrder) {
  auto p = make_process();
  ExecEvent e;
  e.time_ns = 1795278600123456789ull;
  e.tid = 1235;
  e.process = p;
  e.parent = {"cGFyZW50", 1, "/usr/bin/bash"};
  const ordered_json j = render(e);
  EXPECT_EQ(keys(j), (std::vector<std::string>{"time", "type", "process", "parent"}));
  EXPECT_EQ(j["time"], "2026-11-21T16:30:00.123456789Z");
  EXPECT_EQ(j["type"], "process.exec");
  const ordered_json& proc = j["process"];
  EXPECT_EQ(keys(proc),
            (std::vector<std::string>{"exec_id", "pid", "tid", "ppid", "uid", "gid", "comm", "binary", "args",
                                      "cwd", "cgroup_id", "container_id", "start_time"}));
  EXPECT_EQ(proc["exec_id"], "OjEyMzQ6MTIzNDU2Nzg5");
  EXPECT_EQ(proc["pid"], 1234);
  EXPECT_EQ(proc["tid"], 1235);
  EXPECT_EQ(proc["ppid"], 1);
  EXPECT_EQ(proc["uid"], 1000);
  EXPECT_EQ(proc["gid"], 100);
  EXPECT_EQ(proc["comm"], "ls");
  EXPECT_EQ(proc["binary"], "/usr/bin/ls");
  EXPECT_EQ(proc["args"], ordered_json({"ls", "-l", "/tmp"}));
  EXPECT_EQ(proc["cwd"], "/home/user");
  EXPECT_EQ(proc["cgroup_id"], 4242);
  EXPECT_TRUE(proc["container_id"].is_null());
  EXPECT_EQ(proc["start_time"], "2026-11-21T16:29:59.000000042Z");
  EXPECT_EQ(keys(j["parent"]), (std::vector<std::string>{"exec_id", "pid", "binary"}));
  EXPECT_EQ(j["parent"]["exec_id"], "cGFyZW50");
  EXPECT_EQ(j["parent"]["pid"], 1);
  EXPECT_EQ(j["parent"]["binary"], "/usr/bin/bash");
}

TEST(JsonEvents, UnknownParentContainerAndTruncation) {
  auto p = make_process();
  p->container_id = "0123456789ab";
  p->binary_truncated = true;
  p->args_truncated = true;
  p->cwd_truncated = true;
  ExecEvent e;
  e.time_ns = 1;
  e.tid = 1234;
  e.process = p;
  e.parent.pid = 77;
  e.parent.binary = "";
  const ordered_json j = render(e);
  EXPECT_EQ(j["process"]["container_id"], "0123456789ab");
  EXPECT_EQ(j["process"]["binary_truncated"], true);
  EXPECT_EQ(j["process"]["args_truncated"], true);
  EXPECT_EQ(j["process"]["cwd_truncated"], true);
  const auto k = keys(j["process"]);
  EXPECT_EQ(std::vector<std::string>(k.end() - 3, k.end()),
            (std::vector<std::string>{"binary_truncated", "args_truncated", "cwd_truncated"}));
  EXPECT_TRUE(j["parent"]["exec_id"].is_null());
  EXPECT_EQ(j["parent"]["pid"], 77);
  EXPECT_EQ(j["parent"]["binary"], "");
  EXPECT_EQ(j["time"], "1970-01-01T00:00:00.000000001Z");
}

TEST(JsonEvents, FalseFlagsAndB64AreAbsent) {
  ExecEvent e;
  e.process = make_process();
  const ordered_json j = render(e);
  for (const char* key : {"binary_truncated", "args_truncated", "cwd_truncated", "comm_b64", "binary_b64",
                          "args_b64", "cwd_b64"}) {
    EXPECT_FALSE(j["process"].contains(key)) << key;
  }
  EXPECT_FALSE(j["parent"].contains("binary_b64"));
}

TEST(JsonEvents, ArgvWithSpacesQuotesEmptyAndControlChars) {
  auto p = make_process();
  p->args = {"/bin/sh",
             "-c",
             "echo \"hello world\" 'single'",
             "",
             "tab\there\nnewline\r\x01\x1f\x7f",
             "back\\slash",
             std::string("nul\0byte", 8),
             "caf\xC3\xA9 \xF0\x9F\x98\x80"};
  ExecEvent e;
  e.process = p;
  const ordered_json j = render(e);
  ASSERT_EQ(j["process"]["args"].size(), p->args.size());
  for (size_t i = 0; i < p->args.size(); ++i) {
    EXPECT_EQ(j["process"]["args"][i].get<std::string>(), p->args[i]) << i;
  }
  EXPECT_FALSE(j["process"].contains("args_b64"));
}

TEST(JsonEvents, EmptyArgv) {
  auto p = make_process();
  p->args.clear();
  ExecEvent e;
  e.process = p;
  EXPECT_EQ(render(e)["process"]["args"], ordered_json::array());
}

TEST(JsonEvents, NonUtf8GetsReplacementAndExactBase64) {
  auto p = make_process();
  p->comm = "bad\xFF";
  p->binary =
      "/tmp/\xC0\xAF"
      "evil";
  p->args = {"prog", "\xED\xA0\x80", "fine", "\xE2\x82"};
  p->cwd = "/x\xF4\x90\x80\x80";
  ExecEvent e;
  e.process = p;
  e.parent.binary = "/p\x80";
  const ordered_json j = render(e);
  const ordered_json& proc = j["process"];
  EXPECT_EQ(proc["comm"], "bad" + kFffd);
  EXPECT_EQ(proc["binary"], "/tmp/" + kFffd + kFffd + "evil");
  EXPECT_EQ(proc["args"], ordered_json({"prog", kFffd + kFffd + kFffd, "fine", kFffd + kFffd}));
  EXPECT_EQ(proc["cwd"], "/x" + kFffd + kFffd + kFffd + kFffd);
  EXPECT_EQ(decode_base64(proc["comm_b64"]), p->comm);
  EXPECT_EQ(decode_base64(proc["binary_b64"]), p->binary);
  EXPECT_EQ(decode_base64(proc["cwd_b64"]), p->cwd);
  ASSERT_EQ(proc["args_b64"].size(), p->args.size());
  for (size_t i = 0; i < p->args.size(); ++i) {
    EXPECT_EQ(decode_base64(proc["args_b64"][i]), p->args[i]) << i;
  }
  const auto k = keys(proc);
  EXPECT_EQ(std::vector<std::string>(k.end() - 4, k.end()),
            (std::vector<std::string>{"comm_b64", "binary_b64", "args_b64", "cwd_b64"}));
  EXPECT_EQ(j["parent"]["binary"], "/p" + kFffd);
  EXPECT_EQ(decode_base64(j["parent"]["binary_b64"]), e.parent.binary);
}

TEST(JsonEvents, ExitWithCode) {
  ExitEvent e;
  e.time_ns = 1795278600200000000ull;
  e.tid = 1234;
  e.process = make_process();
  e.exit_code = 3;
  e.duration_ns = 77000000;
  const ordered_json j = render(e);
  EXPECT_EQ(keys(j), (std::vector<std::string>{"time", "type", "process", "exit_code", "signal",
                                               "core_dumped", "duration_ns"}));
  EXPECT_EQ(j["type"], "process.exit");
  EXPECT_EQ(j["exit_code"], 3);
  EXPECT_TRUE(j["signal"].is_null());
  EXPECT_EQ(j["core_dumped"], false);
  EXPECT_EQ(j["duration_ns"], 77000000);
}

TEST(JsonEvents, ExitBySignal) {
  ExitEvent e;
  e.process = make_process();
  e.signal = SIGSEGV;
  e.core_dumped = true;
  e.duration_ns = 18446744073709551615ull;
  const ordered_json j = render(e);
  EXPECT_TRUE(j["exit_code"].is_null());
  EXPECT_EQ(j["signal"], "SIGSEGV");
  EXPECT_EQ(j["core_dumped"], true);
  EXPECT_EQ(j["duration_ns"].get<uint64_t>(), 18446744073709551615ull);

  e.signal = SIGKILL;
  e.core_dumped = false;
  EXPECT_EQ(render(e)["signal"], "SIGKILL");
  e.signal = 45;  // real-time, no abbreviation
  EXPECT_EQ(render(e)["signal"], "SIG45");
  e.signal.reset();
  e.exit_code = -1;
  EXPECT_EQ(render(e)["exit_code"], -1);
}

TEST(JsonEvents, EventWithoutProcess) {
  ExitEvent e;
  e.tid = 99;
  e.exit_code = 0;
  const ordered_json j = render(e);
  EXPECT_EQ(j["process"], ordered_json({{"tid", 99}}));
  EXPECT_EQ(j["exit_code"], 0);
}

// The network events, byte for byte (their field contract is in json_network_events.cpp).
TEST(JsonEvents, TcpWithoutProcessExactly) {
  TcpEvent e;
  e.time_ns = 1795278600000000042ull;
  e.direction = TcpDirection::kAccepted;
  e.end = TcpEnd::kResetSent;
  e.local = {"10.0.0.1", 80};
  e.remote = {"fe80::1", 65535};
  e.bytes_sent = 1;
  e.bytes_received = 18446744073709551615ull;
  e.retransmits = 3;
  std::string out = "x";
  append_json_event(out, e);
  EXPECT_EQ(out,
            "x{\"time\":\"2026-11-21T16:30:00.000000042Z\",\"type\":\"network.tcp\",\"process\":null,"
            "\"direction\":\"accepted\",\"end\":\"reset_sent\",\"local\":{\"address\":\"10.0.0.1\",\"port\":80},"
            "\"remote\":{\"address\":\"fe80::1\",\"port\":65535},\"bytes_sent\":1,"
            "\"bytes_received\":18446744073709551615,\"retransmits\":3,\"duration_ns\":null}\n");
}

TEST(JsonEvents, HttpRequestExactlyAfterItsProcess) {
  HttpEvent e;
  e.time_ns = 1795278600500000000ull;
  e.process = make_process();
  e.server = false;
  e.method = "GET";
  e.route = "/users/{id}";
  e.target = "/users/42?q=\"x\"";
  e.status = 404;
  e.duration_ns = 1500000;
  e.request_bytes = 78;
  e.response_bytes = 0;
  e.local = {"127.0.0.1", 41000};
  e.remote = {"127.0.0.1", 8080};
  e.trace = TraceContext{};
  for (uint8_t i = 0; i < 16; i++) e.trace->trace_id[i] = static_cast<uint8_t>(i * 17);
  for (uint8_t i = 0; i < 8; i++) e.trace->parent_id[i] = static_cast<uint8_t>(0xf0 + i);
  std::string out;
  append_json_event(out, e);
  const std::string head = "{\"time\":\"2026-11-21T16:30:00.500000000Z\",\"type\":\"http.request\",\"process\":{";
  ASSERT_EQ(out.substr(0, head.size()), head);
  EXPECT_EQ(ordered_json::parse(out)["process"]["pid"], 1234);
  const std::string tail = out.substr(out.find("},\"role\"") + 1);
  EXPECT_EQ(tail,
            ",\"role\":\"client\",\"method\":\"GET\",\"route\":\"/users/{id}\",\"target\":\"/users/42?q=\\\"x\\\"\","
            "\"status\":404,\"duration_ns\":1500000,\"request_bytes\":78,\"response_bytes\":0,"
            "\"local\":{\"address\":\"127.0.0.1\",\"port\":41000},\"remote\":{\"address\":\"127.0.0.1\",\"port\":8080},"
            "\"trace_id\":\"00112233445566778899aabbccddeeff\",\"parent_span_id\":\"f0f1f2f3f4f5f6f7\"}\n");
}

TEST(JsonEvents, DnsQueryExactlyWithAndWithoutAnAnswer) {
  DnsEvent e;
  e.time_ns = 1795278600000000000ull;
  e.name = "a\"b.example";
  e.type = "AAAA";
  e.server = {"127.0.0.53", 53};
  e.transport = "udp";
  std::string out;
  append_json_event(out, e);
  EXPECT_EQ(out,
            "{\"time\":\"2026-11-21T16:30:00.000000000Z\",\"type\":\"dns.query\",\"process\":null,"
            "\"name\":\"a\\\"b.example\",\"query_type\":\"AAAA\",\"rcode\":null,\"answers\":[],\"latency_ns\":null,"
            "\"server\":{\"address\":\"127.0.0.53\",\"port\":53},\"transport\":\"udp\"}\n");
  e.rcode = "NOERROR";
  e.answers = {"CNAME b.example", "AAAA ::1"};
  e.latency_ns = 250000;
  out.clear();
  append_json_event(out, e);
  EXPECT_NE(out.find(",\"rcode\":\"NOERROR\",\"answers\":[\"CNAME b.example\",\"AAAA ::1\"],\"latency_ns\":250000,"),
            std::string::npos)
      << out;
}

TEST(JsonEvents, FileOpenSuccess) {
  FileOpenEvent e;
  e.time_ns = 1795278600300000000ull;
  e.tid = 1236;
  e.process = make_process();
  e.syscall = OpenSyscall::kOpenat;
  e.path = "/etc/passwd";
  e.given_path = "../../etc/passwd";
  e.flags = O_RDONLY | O_CLOEXEC;
  e.mode = 0777;  // ignored without O_CREAT
  e.fd = 3;
  const ordered_json j = render(e);
  EXPECT_EQ(keys(j), (std::vector<std::string>{"time", "type", "process", "syscall", "path", "given_path",
                                               "flags", "fd"}));
  EXPECT_EQ(j["type"], "file.open");
  EXPECT_EQ(j["process"]["tid"], 1236);
  EXPECT_EQ(j["syscall"], "openat");
  EXPECT_EQ(j["path"], "/etc/passwd");
  EXPECT_EQ(j["given_path"], "../../etc/passwd");
  EXPECT_EQ(j["flags"], ordered_json({"O_RDONLY", "O_CLOEXEC"}));
  EXPECT_EQ(j["fd"], 3);
}

TEST(JsonEvents, FileOpenErrorModeAndTruncation) {
  FileOpenEvent e;
  e.process = make_process();
  e.syscall = OpenSyscall::kCreat;
  e.path = "/root/secret";
  e.given_path = "secret";
  e.path_truncated = true;
  e.flags = O_WRONLY | O_CREAT | O_TRUNC | 0x40000000;
  e.mode = 0644;
  e.error = EACCES;
  const ordered_json j = render(e);
  EXPECT_EQ(keys(j), (std::vector<std::string>{"time", "type", "process", "syscall", "path", "given_path",
                                               "flags", "mode", "error", "path_truncated"}));
  EXPECT_EQ(j["syscall"], "creat");
  EXPECT_EQ(j["flags"], ordered_json({"O_WRONLY", "O_CREAT", "O_TRUNC", "0x40000000"}));
  EXPECT_EQ(j["mode"], 0644);
  EXPECT_EQ(j["error"], "EACCES");
  EXPECT_EQ(j["path_truncated"], true);

  e.flags = O_RDWR | O_TMPFILE;
  e.mode = 0600;
  e.error = ENOENT;
  e.path_truncated = false;
  e.syscall = OpenSyscall::kOpenat2;
  const ordered_json k = render(e);
  EXPECT_EQ(k["syscall"], "openat2");
  EXPECT_EQ(k["flags"], ordered_json({"O_RDWR", "O_TMPFILE"}));
  EXPECT_EQ(k["mode"], 0600);
  EXPECT_EQ(k["error"], "ENOENT");
  EXPECT_FALSE(k.contains("path_truncated"));
  EXPECT_FALSE(k.contains("fd"));

  e.syscall = OpenSyscall::kOpen;
  EXPECT_EQ(render(e)["syscall"], "open");
}

TEST(JsonEvents, FileOpenNonUtf8Paths) {
  FileOpenEvent e;
  e.process = make_process();
  e.path = "/tmp/\xFF\xFEname";
  e.given_path = "\x80rel";
  e.fd = 4;
  const ordered_json j = render(e);
  EXPECT_EQ(j["path"], "/tmp/" + kFffd + kFffd + "name");
  EXPECT_EQ(j["given_path"], kFffd + "rel");
  EXPECT_EQ(decode_base64(j["path_b64"]), e.path);
  EXPECT_EQ(decode_base64(j["given_path_b64"]), e.given_path);
  const auto k = keys(j);
  EXPECT_EQ(std::vector<std::string>(k.end() - 2, k.end()),
            (std::vector<std::string>{"path_b64", "given_path_b64"}));

  e.given_path = "ok";
  const ordered_json m = render(e);
  EXPECT_TRUE(m.contains("path_b64"));
  EXPECT_FALSE(m.contains("given_path_b64"));
}

TEST(JsonEvents, MemoIsFilledAndReused) {
  auto p = make_process();
  p->args = {"a b", "\"q\"", ""};
  FileOpenEvent e;
  e.time_ns = 1795278600000000000ull;
  e.tid = 1234;
  e.process = p;
  e.path = "/etc/hosts";
  e.given_path = "/etc/hosts";
  e.fd = 5;

  EXPECT_TRUE(p->rendered_json.empty());
  std::string first;
  append_json_event(first, e);
  ASSERT_FALSE(p->rendered_json.empty());
  const std::string memo = p->rendered_json;

  std::string second;
  append_json_event(second, e);
  EXPECT_EQ(first, second);
  EXPECT_EQ(p->rendered_json, memo);

  // The memo is what gets used: a (forbidden in real use) change to the process does not show.
  p->comm = "changed";
  std::string third;
  append_json_event(third, e);
  EXPECT_EQ(third, first);

  // Other events of the same process share the process object, tid aside.
  ExitEvent x;
  x.time_ns = e.time_ns;
  x.tid = 1240;
  x.process = p;
  x.exit_code = 0;
  const ordered_json jx = render(x);
  ordered_json proc_open = ordered_json::parse(first)["process"];
  ordered_json proc_exit = jx["process"];
  EXPECT_EQ(proc_exit["tid"], 1240);
  proc_open.erase("tid");
  proc_exit.erase("tid");
  EXPECT_EQ(proc_open, proc_exit);
  EXPECT_EQ(proc_exit["comm"], "ls");
  EXPECT_EQ(proc_exit["args"], ordered_json({"a b", "\"q\"", ""}));

  // A fresh process renders fresh.
  auto q = make_process();
  q->comm = "changed";
  x.process = q;
  EXPECT_EQ(render(x)["process"]["comm"], "changed");
}

TEST(JsonEvents, ManyEventsAppendOneLineEach) {
  auto p = make_process();
  std::string out;
  for (int i = 0; i < 100; ++i) {
    FileOpenEvent e;
    e.time_ns = 1795278600000000000ull + static_cast<uint64_t>(i) * 400000000ull;
    e.tid = static_cast<uint32_t>(i);
    e.process = p;
    e.path = "/f" + std::to_string(i);
    e.fd = i;
    append_json_event(out, e);
  }
  size_t start = 0;
  int n = 0;
  while (start < out.size()) {
    const size_t nl = out.find('\n', start);
    ASSERT_NE(nl, std::string::npos);
    const json j = json::parse(out.substr(start, nl - start));
    EXPECT_EQ(j["fd"], n);
    EXPECT_EQ(j["path"], "/f" + std::to_string(n));
    std::string want_time;
    append_rfc3339(want_time, 1795278600000000000ull + static_cast<uint64_t>(n) * 400000000ull);
    EXPECT_EQ(j["time"], want_time);
    start = nl + 1;
    ++n;
  }
  EXPECT_EQ(n, 100);
  std::string t;
  append_rfc3339(t, 1795278600000000000ull + 99 * 400000000ull);
  EXPECT_EQ(t, "2026-11-21T16:30:39.600000000Z");
}

}  // namespace
}  // namespace waggle
