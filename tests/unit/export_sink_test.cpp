#include <fcntl.h>
#include <gtest/gtest.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "export/exporter.hpp"
#include "export/sink.hpp"

namespace waggle {
namespace {

namespace fs = std::filesystem;

class ExportSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "waggle-sink-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr) << std::strerror(errno);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  static std::string read(const std::string& file) {
    std::ifstream in(file, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  static std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start < text.size()) {
      const size_t nl = text.find('\n', start);
      EXPECT_NE(nl, std::string::npos) << "file does not end with a newline";
      if (nl == std::string::npos) break;
      out.push_back(text.substr(start, nl - start));
      start = nl + 1;
    }
    return out;
  }

  fs::path dir_;
};

// "line <n> <padding>" with lengths that vary.
std::string make_line(int n) {
  std::string line = "line " + std::to_string(n) + " ";
  line.append(static_cast<size_t>(n * 37 % 90), 'x');
  line.push_back('\n');
  return line;
}

TEST_F(ExportSinkTest, OpenErrorNamesFileAndReason) {
  OutputConfig config;
  config.file = path("missing/dir/out.json");
  std::string error;
  EXPECT_EQ(OutputSink::open(config, &error), nullptr);
  EXPECT_NE(error.find(config.file), std::string::npos) << error;
  EXPECT_NE(error.find(std::strerror(ENOENT)), std::string::npos) << error;
}

TEST_F(ExportSinkTest, CreatesWith0640AndAppends) {
  const mode_t old_umask = umask(022);
  OutputConfig config;
  config.file = path("out.json");
  std::string error;
  {
    auto sink = OutputSink::open(config, &error);
    EXPECT_NE(sink, nullptr) << error;
    if (sink) {
      EXPECT_TRUE(sink->write("first\n"));
      EXPECT_TRUE(sink->flush());
    }
  }
  umask(old_umask);
  struct stat st {};
  ASSERT_EQ(stat(config.file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
  {
    auto sink = OutputSink::open(config, &error);
    ASSERT_NE(sink, nullptr) << error;
    EXPECT_TRUE(sink->write("second\nthird\n"));
    // Buffered until flushed.
    EXPECT_EQ(read(config.file), "first\n");
    EXPECT_TRUE(sink->flush());
    EXPECT_EQ(read(config.file), "first\nsecond\nthird\n");
    EXPECT_TRUE(sink->write("fourth\n"));
  }  // the destructor flushes
  EXPECT_EQ(read(config.file), "first\nsecond\nthird\nfourth\n");
}

TEST_F(ExportSinkTest, FlushesOnItsOwnPastTheBufferSize) {
  OutputConfig config;
  config.file = path("big.json");
  std::string error;
  auto sink = OutputSink::open(config, &error);
  ASSERT_NE(sink, nullptr) << error;
  std::string expected;
  const std::string line(1000, 'y');
  while (expected.size() < OutputSink::kBufferBytes + 5000) {
    ASSERT_TRUE(sink->write(line + "\n"));
    expected += line + "\n";
  }
  const std::string on_disk = read(config.file);
  EXPECT_GE(on_disk.size(), OutputSink::kBufferBytes);
  EXPECT_EQ(on_disk, expected.substr(0, on_disk.size()));
  // A chunk bigger than the buffer goes straight through.
  std::string chunk;
  for (int i = 0; chunk.size() < 3 * OutputSink::kBufferBytes; ++i) chunk += make_line(i);
  ASSERT_TRUE(sink->write(chunk));
  expected += chunk;
  ASSERT_TRUE(sink->flush());
  EXPECT_EQ(read(config.file), expected);
}

TEST_F(ExportSinkTest, RotatesWithoutSplittingLinesAndConservesThem) {
  OutputConfig config;
  config.file = path("rot.json");
  config.rotate_bytes = 1000;
  config.rotate_keep = 1000;  // keep everything: every line must be found again
  std::string error;
  auto sink = OutputSink::open(config, &error);
  ASSERT_NE(sink, nullptr) << error;

  std::mt19937 rng(7);
  const int kLines = 2000;
  int n = 0;
  while (n < kLines) {
    // Between 1 and 40 lines per write, so chunks cross the limit in every way.
    std::string chunk;
    const int count = 1 + static_cast<int>(rng() % 40);
    for (int i = 0; i < count && n < kLines; ++i) chunk += make_line(n++);
    ASSERT_TRUE(sink->write(chunk)) << sink->error();
  }
  ASSERT_TRUE(sink->flush());
  ASSERT_GT(sink->rotations(), 10u);
  const uint64_t files = sink->rotations() + 1;

  // Oldest is file.N, newest the file itself.
  std::vector<std::string> all;
  for (uint64_t i = files - 1; i >= 1; --i) {
    const std::string name = config.file + "." + std::to_string(i);
    ASSERT_TRUE(fs::exists(name)) << name;
    const std::string content = read(name);
    EXPECT_LE(content.size(), config.rotate_bytes) << name;
    EXPECT_GT(content.size() + 130, config.rotate_bytes) << name << " was rotated too early";
    ASSERT_EQ(content.back(), '\n') << name;
    for (auto& line : lines_of(content)) all.push_back(std::move(line));
  }
  EXPECT_FALSE(fs::exists(config.file + "." + std::to_string(files)));
  const std::string current = read(config.file);
  EXPECT_LE(current.size(), config.rotate_bytes);
  for (auto& line : lines_of(current)) all.push_back(std::move(line));

  ASSERT_EQ(all.size(), static_cast<size_t>(kLines));
  for (int i = 0; i < kLines; ++i) {
    ASSERT_EQ(all[static_cast<size_t>(i)] + "\n", make_line(i)) << i;
  }
}

TEST_F(ExportSinkTest, RotationHonoursKeep) {
  OutputConfig config;
  config.file = path("keep.json");
  config.rotate_bytes = 300;
  config.rotate_keep = 2;
  std::string error;
  auto sink = OutputSink::open(config, &error);
  ASSERT_NE(sink, nullptr) << error;
  const int kLines = 200;
  for (int i = 0; i < kLines; ++i) ASSERT_TRUE(sink->write(make_line(i)));
  ASSERT_TRUE(sink->flush());
  ASSERT_GT(sink->rotations(), 3u);
  EXPECT_TRUE(fs::exists(config.file + ".1"));
  EXPECT_TRUE(fs::exists(config.file + ".2"));
  EXPECT_FALSE(fs::exists(config.file + ".3"));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 3);

  // What is kept is the most recent lines, contiguous, ending with the last one.
  std::vector<std::string> kept;
  for (const char* suffix : {".2", ".1", ""}) {
    const std::string content = read(config.file + suffix);
    EXPECT_LE(content.size(), config.rotate_bytes);
    for (auto& line : lines_of(content)) kept.push_back(std::move(line));
  }
  ASSERT_FALSE(kept.empty());
  const int first = kLines - static_cast<int>(kept.size());
  for (size_t i = 0; i < kept.size(); ++i) {
    EXPECT_EQ(kept[i] + "\n", make_line(first + static_cast<int>(i)));
  }
}

TEST_F(ExportSinkTest, KeepZeroDropsTheOldFile) {
  OutputConfig config;
  config.file = path("zero.json");
  config.rotate_bytes = 100;
  config.rotate_keep = 0;
  std::string error;
  auto sink = OutputSink::open(config, &error);
  ASSERT_NE(sink, nullptr) << error;
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(sink->write(make_line(i)));
  ASSERT_TRUE(sink->flush());
  EXPECT_GT(sink->rotations(), 0u);
  EXPECT_FALSE(fs::exists(config.file + ".1"));
  const auto lines = lines_of(read(config.file));
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back() + "\n", make_line(49));
}

TEST_F(ExportSinkTest, LongLineGetsItsOwnFileAndExistingBigFileRotatesFirst) {
  OutputConfig config;
  config.file = path("long.json");
  config.rotate_bytes = 20;
  config.rotate_keep = 5;
  {
    std::ofstream(config.file) << std::string(50, 'o') << "\n";  // already past the limit
  }
  std::string error;
  auto sink = OutputSink::open(config, &error);
  ASSERT_NE(sink, nullptr) << error;
  const std::string long_line = std::string(45, 'L') + "\n";
  ASSERT_TRUE(sink->write("a\n" + long_line + "b\nc\n"));
  ASSERT_TRUE(sink->flush());
  EXPECT_EQ(read(config.file + ".3"), std::string(50, 'o') + "\n");
  EXPECT_EQ(read(config.file + ".2"), "a\n");
  EXPECT_EQ(read(config.file + ".1"), long_line);
  EXPECT_EQ(read(config.file), "b\nc\n");
  EXPECT_FALSE(fs::exists(config.file + ".4"));
}

TEST_F(ExportSinkTest, WriteErrorsAreReported) {
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  OutputConfig config;
  config.file = "/dev/full";
  config.rotate_bytes = 10;  // ignored: not a regular file
  std::string error;
  auto sink = OutputSink::open(config, &error);
  ASSERT_NE(sink, nullptr) << error;
  EXPECT_TRUE(sink->write("buffered\n"));
  EXPECT_FALSE(sink->flush());
  EXPECT_NE(sink->error().find("/dev/full"), std::string::npos) << sink->error();
  EXPECT_NE(sink->error().find(std::strerror(ENOSPC)), std::string::npos) << sink->error();
  EXPECT_EQ(sink->errors(), 1u);
  // Big writes fail at once.
  EXPECT_FALSE(sink->write(std::string(OutputSink::kBufferBytes, 'z')));
  EXPECT_EQ(sink->errors(), 2u);
  EXPECT_TRUE(sink->flush());  // nothing left buffered
}

TEST_F(ExportSinkTest, RotationFailureKeepsWritingAndReports) {
  OutputConfig config;
  config.file = path("stuck.json");
  config.rotate_bytes = 10;
  config.rotate_keep = 1;
  // A directory where file.1 should go makes the rename fail.
  fs::create_directory(config.file + ".1");
  fs::create_directory(config.file + ".1/occupied");
  std::string error;
  auto sink = OutputSink::open(config, &error);
  ASSERT_NE(sink, nullptr) << error;
  EXPECT_TRUE(sink->write("aaaa\n"));
  EXPECT_FALSE(sink->write("bbbbbbbb\n"));
  EXPECT_NE(sink->error().find("rename"), std::string::npos) << sink->error();
  ASSERT_TRUE(sink->flush());
  EXPECT_EQ(read(config.file), "aaaa\nbbbbbbbb\n");
}

// Partial writes and EINTR: a slow reader on a FIFO while a timer interrupts write(2).
volatile sig_atomic_t g_alarms = 0;
void on_alarm(int) { g_alarms = g_alarms + 1; }

// Writes `expected` through a sink into `fifo`; a helper so that ASSERTs return here.
void write_through_sink(const std::string& fifo, std::string* expected) {
  OutputConfig config;
  config.file = fifo;
  std::string error;
  auto sink = OutputSink::open(config, &error);
  ASSERT_NE(sink, nullptr) << error;
  for (int i = 0; expected->size() < 8u << 20; ++i) {
    std::string chunk;
    for (int k = 0; k < 500; ++k) chunk += make_line(i * 500 + k);
    *expected += chunk;
    ASSERT_TRUE(sink->write(chunk)) << sink->error();
  }
  ASSERT_TRUE(sink->flush()) << sink->error();
}

TEST_F(ExportSinkTest, SurvivesPartialWritesAndEintr) {
  const std::string fifo = path("fifo");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0) << std::strerror(errno);

  // The reader must not take the signals.
  sigset_t alrm, old_mask;
  sigemptyset(&alrm);
  sigaddset(&alrm, SIGALRM);
  pthread_sigmask(SIG_BLOCK, &alrm, &old_mask);
  std::string received;
  std::thread reader([&] {
    const int fd = ::open(fifo.c_str(), O_RDONLY);
    if (fd < 0) return;
    char buf[4096];
    int reads = 0;
    for (;;) {
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      received.append(buf, static_cast<size_t>(n));
      if (++reads % 64 == 0) usleep(1000);
    }
    ::close(fd);
  });
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);

  struct sigaction sa {
  }, old_sa{};
  sa.sa_handler = on_alarm;
  sa.sa_flags = 0;  // no SA_RESTART: write(2) returns short or fails with EINTR
  sigemptyset(&sa.sa_mask);
  sigaction(SIGALRM, &sa, &old_sa);
  struct itimerval timer {};
  timer.it_interval.tv_usec = 500;
  timer.it_value.tv_usec = 500;
  setitimer(ITIMER_REAL, &timer, nullptr);

  std::string expected;
  write_through_sink(fifo, &expected);

  // Always undo the timer and let the reader finish, even after a failed assertion.
  timer = {};
  setitimer(ITIMER_REAL, &timer, nullptr);
  sigaction(SIGALRM, &old_sa, nullptr);
  const int unblock = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);  // if the sink never opened
  if (unblock >= 0) ::close(unblock);
  reader.join();

  EXPECT_GT(g_alarms, 0);
  EXPECT_EQ(received.size(), expected.size());
  EXPECT_TRUE(received == expected);
}

volatile sig_atomic_t g_stop = 0;
void on_stop_alarm(int) { g_stop = 1; }

// Writes `size` bytes through a sink on a fifo whose reader runs `read_loop(fd)`; SIGALRM, 200 ms
// in, plays the agent's stop request. Returns whether the write and a later one succeeded, the
// sink's error, and what the reader got.
struct StopRun {
  bool wrote = false;
  bool wrote_after = false;
  std::string error;
  size_t received = 0;
  double seconds = 0;
};

StopRun write_and_stop(const std::string& fifo, size_t size,
                       const std::function<size_t(int fd, const std::atomic<bool>& writer_done)>& read_loop) {
  StopRun run;
  std::atomic<bool> writer_done{false};
  if (mkfifo(fifo.c_str(), 0600) != 0) {
    run.error = std::string("mkfifo: ") + std::strerror(errno);
    return run;
  }
  sigset_t alrm, old_mask;  // the reader takes no signal
  sigemptyset(&alrm);
  sigaddset(&alrm, SIGALRM);
  pthread_sigmask(SIG_BLOCK, &alrm, &old_mask);
  std::thread reader([&] {
    const int fd = ::open(fifo.c_str(), O_RDONLY);
    if (fd < 0) return;
    run.received = read_loop(fd, writer_done);
    ::close(fd);
  });
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);

  OutputConfig config;
  config.file = fifo;
  auto sink = OutputSink::open(config, &run.error);
  g_stop = 0;
  struct sigaction sa {
  }, old_sa{};
  sa.sa_handler = on_stop_alarm;
  sa.sa_flags = 0;  // no SA_RESTART: a blocked write(2) returns short or fails with EINTR
  sigemptyset(&sa.sa_mask);
  sigaction(SIGALRM, &sa, &old_sa);
  struct itimerval timer {};
  timer.it_value.tv_usec = 200'000;  // once
  setitimer(ITIMER_REAL, &timer, nullptr);
  const auto start = std::chrono::steady_clock::now();
  if (sink) {
    sink->give_up_when(&g_stop);
    run.wrote = sink->write(std::string(size, 'x'));
    run.wrote_after = sink->write("late\n") && sink->flush();
    run.error = sink->error();
    sink.reset();  // the reader sees the end of the pipe
  }
  writer_done = true;
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  timer = {};
  setitimer(ITIMER_REAL, &timer, nullptr);
  sigaction(SIGALRM, &old_sa, nullptr);
  if (!sink) {  // the reader may still wait in open()
    const int unblock = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
    if (unblock >= 0) ::close(unblock);
  }
  reader.join();
  EXPECT_EQ(g_stop, 1);
  return run;
}

TEST_F(ExportSinkTest, AStopRequestGivesUpAWriteToAReaderThatStoppedReading) {
  StopRun run = write_and_stop(path("stuck"), 4 << 20, [](int fd, const std::atomic<bool>& writer_done) {
    // Reads nothing until the writer is done, or after 10 s: the test then fails, not hangs.
    for (int waited = 0; waited < 10000 && !writer_done; ++waited) usleep(1000);
    size_t got = 0;
    char buf[65536];
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) got += static_cast<size_t>(n);
    return got;
  });
  EXPECT_FALSE(run.wrote);
  EXPECT_FALSE(run.wrote_after);  // at once
  EXPECT_LT(run.seconds, 5.0);    // the stop request, then 2 s without room
  EXPECT_EQ(run.error,
            "write " + path("stuck") + ": given up at a stop request, after 2 s in which it took nothing");
}

TEST_F(ExportSinkTest, AStopRequestWaitsForASlowReaderAndLosesNothing) {
  // 4 KiB every 2 ms: 2 MiB take about a second, all of it well after the stop request.
  StopRun run = write_and_stop(path("slow"), 2 << 20, [](int fd, const std::atomic<bool>&) {
    size_t got = 0;
    char buf[4096];
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0; usleep(2000)) got += static_cast<size_t>(n);
    return got;
  });
  EXPECT_TRUE(run.wrote) << run.error;
  EXPECT_TRUE(run.wrote_after) << run.error;
  EXPECT_EQ(run.received, (2u << 20) + 5);
}

// ---------------------------------------------------------------------------------------------

std::shared_ptr<ProcessInfo> make_process() {
  auto p = std::make_shared<ProcessInfo>();
  p->exec_id = "id";
  p->pid = 42;
  p->comm = "cat";
  p->binary = "/bin/cat";
  p->args = {"cat", "my file"};
  return p;
}

TEST_F(ExportSinkTest, ExporterWritesJsonLines) {
  OutputConfig config;
  config.file = path("events.json");
  config.rotate_bytes = 64 * 1024;
  config.rotate_keep = 100;
  std::string error;
  auto exporter = Exporter::open(config, &error);
  ASSERT_NE(exporter, nullptr) << error;
  auto p = make_process();
  const int kEvents = 5000;
  for (int i = 0; i < kEvents; ++i) {
    FileOpenEvent e;
    e.time_ns = 1795278600000000000ull + static_cast<uint64_t>(i);
    e.tid = 42;
    e.process = p;
    e.path = "/data/" + std::to_string(i);
    e.fd = i;
    exporter->on_event(e);
  }
  EXPECT_EQ(exporter->events(), static_cast<uint64_t>(kEvents));
  ASSERT_TRUE(exporter->flush()) << exporter->error();

  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir_)) names.push_back(entry.path().string());
  ASSERT_GT(names.size(), 2u);  // rotated
  std::vector<bool> seen(kEvents, false);
  for (const auto& name : names) {
    const std::string content = read(name);
    EXPECT_LE(content.size(), config.rotate_bytes);
    for (const auto& line : lines_of(content)) {
      const auto j = nlohmann::json::parse(line);
      const int fd = j["fd"];
      ASSERT_GE(fd, 0);
      ASSERT_LT(fd, kEvents);
      EXPECT_FALSE(seen[static_cast<size_t>(fd)]);
      seen[static_cast<size_t>(fd)] = true;
      EXPECT_EQ(j["path"], "/data/" + std::to_string(fd));
      EXPECT_EQ(j["process"]["args"][1], "my file");
    }
  }
  for (int i = 0; i < kEvents; ++i) EXPECT_TRUE(seen[static_cast<size_t>(i)]) << i;
}

TEST_F(ExportSinkTest, ExporterWritesText) {
  OutputConfig config;
  config.format = OutputFormat::kText;
  config.file = path("events.txt");
  std::string error;
  auto exporter = Exporter::open(config, &error);
  ASSERT_NE(exporter, nullptr) << error;
  ExitEvent e;
  e.time_ns = 1795278600000000000ull;
  e.process = make_process();
  e.exit_code = 0;
  e.duration_ns = 1500000000;
  exporter->on_event(e);
  exporter->on_event(e);
  ASSERT_TRUE(exporter->flush());
  const auto lines = lines_of(read(config.file));
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[0].find(" exit     42 cat code=0 1.500s"), std::string::npos) << lines[0];
  EXPECT_EQ(exporter->events(), 2u);
}

TEST_F(ExportSinkTest, ExporterOpenError) {
  OutputConfig config;
  config.file = path("no/such/dir/x.json");
  std::string error;
  EXPECT_EQ(Exporter::open(config, &error), nullptr);
  EXPECT_NE(error.find(config.file), std::string::npos) << error;
}

TEST_F(ExportSinkTest, ExporterReportsWriteErrors) {
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  OutputConfig config;
  config.file = "/dev/full";
  std::string error;
  auto exporter = Exporter::open(config, &error);
  ASSERT_NE(exporter, nullptr) << error;
  ExitEvent e;
  e.process = make_process();
  exporter->on_event(e);
  EXPECT_FALSE(exporter->flush());
  EXPECT_NE(exporter->error().find(std::strerror(ENOSPC)), std::string::npos);
  EXPECT_TRUE(exporter->flush());  // reported once
  EXPECT_EQ(exporter->errors(), 1u);
}

}  // namespace
}  // namespace waggle
