#include <fcntl.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <csignal>
#include <ctime>
#include <memory>
#include <string>

#include "export/text_events.hpp"

namespace waggle {
namespace {

constexpr uint64_t kTime = 1795278600123456789ull;  // 2026-11-21T16:30:00.123456789Z

// The local wall-clock prefix the renderer should produce for a time.
std::string local_prefix(uint64_t ns) {
  const time_t t = static_cast<time_t>(ns / 1000000000ull);
  struct tm tm {};
  localtime_r(&t, &tm);
  char buf[32];
  snprintf(buf, sizeof buf, "%02d:%02d:%02d.%06u", tm.tm_hour, tm.tm_min, tm.tm_sec,
           static_cast<unsigned>(ns % 1000000000ull / 1000));
  return buf;
}

std::shared_ptr<ProcessInfo> make_process() {
  auto p = std::make_shared<ProcessInfo>();
  p->exec_id = "id";
  p->pid = 1234;
  p->ppid = 1;
  p->uid = 0;
  p->comm = "ls";
  p->binary = "/usr/bin/ls";
  p->args = {"ls", "-l", "/tmp"};
  p->cwd = "/";
  return p;
}

std::string text(const Event& e) {
  std::string out;
  append_text_event(out, e);
  return out;
}

std::string word(std::string_view raw) {
  std::string out;
  append_shell_word(out, raw);
  return out;
}

TEST(TextEvents, Exec) {
  ExecEvent e;
  e.time_ns = kTime;
  e.tid = 1234;
  e.process = make_process();
  EXPECT_EQ(text(e), local_prefix(kTime) + " exec   1234 ppid=1 uid=0 /usr/bin/ls -l /tmp\n");
}

TEST(TextEvents, ExecQuotesArgs) {
  auto p = make_process();
  p->binary = "/bin/sh";
  p->args = {"sh", "-c", "echo \"hi there\"", "", "it's", "a\tb", "plain=ok,@%+:./-"};
  p->args_truncated = true;
  ExecEvent e;
  e.time_ns = kTime;
  e.process = p;
  EXPECT_EQ(text(e), local_prefix(kTime) +
                         " exec   1234 ppid=1 uid=0 /bin/sh -c 'echo \"hi there\"' '' 'it'\\''s' "
                         "$'a\\x09b' plain=ok,@%+:./- [...]\n");
}

TEST(TextEvents, ExitWithCode) {
  ExitEvent e;
  e.time_ns = 1795278600200000000ull;
  e.process = make_process();
  e.exit_code = 0;
  e.duration_ns = 77000000;
  EXPECT_EQ(text(e), local_prefix(e.time_ns) + " exit   1234 ls code=0 0.077s\n");
}

TEST(TextEvents, ExitBySignal) {
  auto p = make_process();
  p->comm = "sleep";
  ExitEvent e;
  e.time_ns = kTime;
  e.process = p;
  e.signal = SIGKILL;
  e.duration_ns = 2001000000;
  EXPECT_EQ(text(e), local_prefix(kTime) + " exit   1234 sleep signal=SIGKILL 2.001s\n");
  e.signal = SIGSEGV;
  e.core_dumped = true;
  e.duration_ns = 12345678901;
  EXPECT_EQ(text(e), local_prefix(kTime) + " exit   1234 sleep signal=SIGSEGV core-dumped 12.345s\n");
}

TEST(TextEvents, Open) {
  auto p = make_process();
  p->comm = "cat";
  FileOpenEvent e;
  e.time_ns = 1795278600300000000ull;
  e.process = p;
  e.path = "/etc/passwd";
  e.flags = O_RDONLY;
  e.fd = 3;
  EXPECT_EQ(text(e), local_prefix(e.time_ns) + " open   1234 cat /etc/passwd O_RDONLY fd=3\n");
  e.fd.reset();
  e.error = ENOENT;
  e.path = "/nope";
  EXPECT_EQ(text(e), local_prefix(e.time_ns) + " open   1234 cat /nope O_RDONLY error=ENOENT\n");
  e.flags = O_WRONLY | O_CREAT | O_TRUNC;
  e.mode = 0644;
  e.error = EACCES;
  e.path = "/root/my file";
  e.path_truncated = true;
  EXPECT_EQ(text(e), local_prefix(e.time_ns) +
                         " open   1234 cat '/root/my file'[...] O_WRONLY|O_CREAT|O_TRUNC mode=0644 "
                         "error=EACCES\n");
}

TEST(TextEvents, NoProcess) {
  FileOpenEvent e;
  e.time_ns = kTime;
  e.tid = 77;
  e.path = "/x";
  e.fd = 1;
  EXPECT_EQ(text(e), local_prefix(kTime) + " open     77 ? /x O_RDONLY fd=1\n");
}

TEST(TextEvents, ShellWords) {
  EXPECT_EQ(word("simple"), "simple");
  EXPECT_EQ(word("/usr/bin/x-y_z.1"), "/usr/bin/x-y_z.1");
  EXPECT_EQ(word(""), "''");
  EXPECT_EQ(word("a b"), "'a b'");
  EXPECT_EQ(word("say \"hi\""), "'say \"hi\"'");
  EXPECT_EQ(word("it's"), "'it'\\''s'");
  EXPECT_EQ(word("$HOME;rm *"), "'$HOME;rm *'");
  EXPECT_EQ(word("caf\xC3\xA9"), "caf\xC3\xA9");
  EXPECT_EQ(word("\x1b[31mred"), "$'\\x1b[31mred'");
  EXPECT_EQ(word("a\nb"), "$'a\\x0ab'");
  EXPECT_EQ(word("del\x7f"), "$'del\\x7f'");
  EXPECT_EQ(word("bad\xFF"), "$'bad\\xff'");
  EXPECT_EQ(word("q'\\\x01"), "$'q\\'\\\\\\x01'");
  EXPECT_EQ(word("csi\xC2\x9B"
                 "2J"),
            "$'csi\\xc2\\x9b2J'");                                              // C1 control
  EXPECT_EQ(word("evil\xE2\x80\xAEtxt.exe"), "$'evil\\xe2\\x80\\xaetxt.exe'");  // RLO
  EXPECT_EQ(word("\xE2\x82"), "$'\\xe2\\x82'");                                 // truncated
  EXPECT_EQ(word("\xC3\xA9\x01"), "$'\xC3\xA9\\x01'");                          // valid UTF-8 kept
  EXPECT_EQ(word(std::string_view("a\0b", 3)), "$'a\\x00b'");
}

TEST(TextEvents, TerminalNeverSeesControlBytes) {
  auto p = make_process();
  p->comm = "\x1b]0;x\x07";
  p->binary = "/tmp/\x1b[2J\x9b";
  p->args = {"x", "\r\x1b[1A", "\xC2\x85", "\x7f\x08"};
  ExecEvent e;
  e.time_ns = kTime;
  e.process = p;
  ExitEvent x;
  x.time_ns = kTime;
  x.process = p;
  x.exit_code = 1;
  FileOpenEvent o;
  o.time_ns = kTime;
  o.process = p;
  o.path = "/\x1b\x9b\xFF";
  o.fd = 3;
  for (const std::string& line : {text(e), text(x), text(o)}) {
    ASSERT_FALSE(line.empty());
    EXPECT_EQ(line.back(), '\n');
    for (size_t i = 0; i + 1 < line.size(); ++i) {
      const auto c = static_cast<unsigned char>(line[i]);
      EXPECT_TRUE(c >= 0x20 && c != 0x7f) << line << " at " << i;
    }
    EXPECT_EQ(line.find("\xC2\x85"), std::string::npos);
    EXPECT_EQ(line.find('\x9b'), std::string::npos);
  }
}

}  // namespace
}  // namespace waggle
