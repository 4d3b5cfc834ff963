// The configuration: YAML schema, strict types, limits, and error positions.
#include "config/config.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

namespace waggle {
namespace {

// Parses `yaml`, expecting success.
Config parse_ok(const std::string& yaml) {
  std::string error;
  std::optional<Config> config = parse_config(yaml, "waggle.yaml", &error);
  EXPECT_TRUE(config.has_value()) << "unexpected error: " << error;
  EXPECT_EQ(error, "");
  return config.value_or(Config{});
}

// Parses `yaml`, expecting an error, and returns it.
std::string parse_error(const std::string& yaml) {
  std::string error;
  std::optional<Config> config = parse_config(yaml, "waggle.yaml", &error);
  EXPECT_FALSE(config.has_value()) << "accepted:\n" << yaml;
  return error;
}

void expect_defaults(const Config& c) {
  EXPECT_EQ(c.output.format, OutputFormat::kJson);
  EXPECT_EQ(c.output.file, "");
  EXPECT_EQ(c.output.rotate_bytes, 100ull << 20);
  EXPECT_EQ(c.output.rotate_keep, 5u);
  EXPECT_TRUE(c.process_enabled);
  EXPECT_TRUE(c.file_enabled);
  EXPECT_TRUE(c.file_filter.prefix.empty());
  EXPECT_TRUE(c.file_filter.exact.empty());
  EXPECT_TRUE(c.file_filter.suffix.empty());
  EXPECT_FALSE(c.pid.has_value());
  EXPECT_FALSE(c.comm.has_value());
  EXPECT_EQ(c.ring_buffer_bytes, 8ull << 20);
  EXPECT_FALSE(c.duration_s.has_value());
  EXPECT_FALSE(c.stats);
}

std::string source_dir() {
#ifdef WAGGLE_SOURCE_DIR
  return WAGGLE_SOURCE_DIR;
#else
  std::string file = __FILE__;  // .../tests/unit/config_test.cpp
  for (int i = 0; i < 3; i++) {
    size_t slash = file.rfind('/');
    if (slash == std::string::npos) return ".";
    file.resize(slash);
  }
  return file.empty() ? "." : file;
#endif
}

// --- Defaults -----------------------------------------------------------------------------

TEST(Config, BuiltInDefaultsAreValid) {
  expect_defaults(Config{});
  EXPECT_EQ(validate_limits(Config{}), "");
}

TEST(Config, EmptyDocumentsGiveDefaults) {
  for (const char* yaml : {"", "\n\n", "# only a comment\n", "---\n", "~\n", "---\n...\n"}) {
    SCOPED_TRACE(yaml);
    expect_defaults(parse_ok(yaml));
  }
}

TEST(Config, EmptySectionsGiveDefaults) {
  expect_defaults(parse_ok("output:\nsensors:\n  process:\n  file: {}\nselect: {}\n"));
  expect_defaults(parse_ok("output:\n  rotate:\n"));
}

TEST(Config, FullValidFile) {
  Config c = parse_ok(R"(# every key
output:
  format: text
  file: /var/log/waggle/events.jsonl
  rotate:
    max_size: 10MiB
    keep: 9
sensors:
  process:
    enabled: false
  file:
    enabled: true
    prefix: [/etc/, /root/.ssh/]
    exact:
      - /etc/shadow
      - "/etc/sudoers"
    suffix: [.pem, .key]
select:
  pid: 1234
  comm: nginx
ring_buffer_size: 128MiB
duration: 1.5m
stats: true
)");
  EXPECT_EQ(c.output.format, OutputFormat::kText);
  EXPECT_EQ(c.output.file, "/var/log/waggle/events.jsonl");
  EXPECT_EQ(c.output.rotate_bytes, 10ull << 20);
  EXPECT_EQ(c.output.rotate_keep, 9u);
  EXPECT_FALSE(c.process_enabled);
  EXPECT_TRUE(c.file_enabled);
  EXPECT_EQ(c.file_filter.prefix, (std::vector<std::string>{"/etc/", "/root/.ssh/"}));
  EXPECT_EQ(c.file_filter.exact, (std::vector<std::string>{"/etc/shadow", "/etc/sudoers"}));
  EXPECT_EQ(c.file_filter.suffix, (std::vector<std::string>{".pem", ".key"}));
  EXPECT_EQ(c.pid, 1234u);
  EXPECT_EQ(c.comm, "nginx");
  EXPECT_EQ(c.ring_buffer_bytes, 128ull << 20);
  ASSERT_TRUE(c.duration_s.has_value());
  EXPECT_DOUBLE_EQ(*c.duration_s, 90.0);
  EXPECT_TRUE(c.stats);
}

TEST(Config, ShippedFileIsValidAndMatchesDefaultsButForThePrefix) {
  std::string path = source_dir() + "/config/waggle.yaml";
  std::string error;
  std::optional<Config> c = load_config(path, &error);
  ASSERT_TRUE(c.has_value()) << error;
  EXPECT_EQ(c->file_filter.prefix, std::vector<std::string>{"/etc/"});
  c->file_filter.prefix.clear();
  expect_defaults(*c);
}

TEST(Config, BooleanSpellings) {
  for (const char* t : {"true", "True", "TRUE", "!!bool true"}) {
    EXPECT_TRUE(parse_ok(std::string("stats: ") + t).stats) << t;
  }
  for (const char* f : {"false", "False", "FALSE"}) {
    EXPECT_FALSE(
        parse_ok(std::string("stats: ") + f + "\nsensors: {process: {enabled: " + f + "}}").process_enabled)
        << f;
  }
}

TEST(Config, AliasesAndQuotedStrings) {
  Config c = parse_ok(
      "select: {comm: 'sshd'}\nsensors:\n  file:\n    exact: [&p /etc/passwd]\n"
      "    prefix: [\"/etc/\", *p]\n");
  EXPECT_EQ(c.comm, "sshd");
  EXPECT_EQ(c.file_filter.exact, std::vector<std::string>{"/etc/passwd"});
  EXPECT_EQ(c.file_filter.prefix, (std::vector<std::string>{"/etc/", "/etc/passwd"}));
}

TEST(Config, DuplicateFilterValuesAreAllowed) {
  Config c = parse_ok("sensors: {file: {prefix: [/etc/, /etc/]}}");
  EXPECT_EQ(c.file_filter.prefix.size(), 2u);
}

// --- Sizes and durations ------------------------------------------------------------------

TEST(ParseSize, Units) {
  EXPECT_EQ(parse_size("0"), 0u);
  EXPECT_EQ(parse_size("4096"), 4096u);
  EXPECT_EQ(parse_size("4096B"), 4096u);
  EXPECT_EQ(parse_size("4K"), 4096u);
  EXPECT_EQ(parse_size("4KiB"), 4096u);
  EXPECT_EQ(parse_size("64M"), 64ull << 20);
  EXPECT_EQ(parse_size("64MiB"), 64ull << 20);
  EXPECT_EQ(parse_size("64 MiB"), 64ull << 20);
  EXPECT_EQ(parse_size("1G"), 1ull << 30);
  EXPECT_EQ(parse_size("3GiB"), 3ull << 30);
  EXPECT_EQ(parse_size("18446744073709551615"), UINT64_MAX);
}

TEST(ParseSize, Malformed) {
  for (const char* s : {"", "MiB", "1.5MiB", "-1", "+1", "64MB", "64mib", "64k", "64 ", " 64", "64MiBs",
                        "0x10", "1e3", "18446744073709551616", "17179869184G"}) {
    EXPECT_FALSE(parse_size(s).has_value()) << s;
  }
}

TEST(ParseDuration, Units) {
  EXPECT_DOUBLE_EQ(*parse_duration("10"), 10);
  EXPECT_DOUBLE_EQ(*parse_duration("1.5"), 1.5);
  EXPECT_DOUBLE_EQ(*parse_duration("250ms"), 0.25);
  EXPECT_DOUBLE_EQ(*parse_duration("10s"), 10);
  EXPECT_DOUBLE_EQ(*parse_duration("10 s"), 10);
  EXPECT_DOUBLE_EQ(*parse_duration("2m"), 120);
  EXPECT_DOUBLE_EQ(*parse_duration("1.5h"), 5400);
  EXPECT_DOUBLE_EQ(*parse_duration("0"), 0);
}

TEST(ParseDuration, Malformed) {
  for (const char* s : {"", "s", "-1s", "+1s", ".5s", "1.s", "1e3", "10 days", "10sec", "10S", "1h30m", "inf",
                        "nan", "10 "}) {
    EXPECT_FALSE(parse_duration(s).has_value()) << s;
  }
}

TEST(Config, SizesAndDurationsInYaml) {
  Config c = parse_ok("ring_buffer_size: 4096\noutput: {rotate: {max_size: 1G}}\nduration: 250ms");
  EXPECT_EQ(c.ring_buffer_bytes, 4096u);
  EXPECT_EQ(c.output.rotate_bytes, 1ull << 30);
  EXPECT_DOUBLE_EQ(*c.duration_s, 0.25);
  EXPECT_EQ(parse_ok("ring_buffer_size: 1GiB").ring_buffer_bytes, 1ull << 30);
  EXPECT_EQ(parse_ok("ring_buffer_size: \"4 KiB\"").ring_buffer_bytes, 4096u);
  EXPECT_DOUBLE_EQ(*parse_ok("duration: 10").duration_s, 10);
  EXPECT_DOUBLE_EQ(*parse_ok("duration: 8760h").duration_s, 8760.0 * 3600);
}

// --- Errors: positions and messages -------------------------------------------------------

TEST(ConfigError, PrefixNotAbsolute) {
  EXPECT_EQ(parse_error("output:\n  format: json\n\nsensors:\n  file:\n    enabled: true\n"
                        "    prefix: [/etc/, etc]\n"),
            "waggle.yaml:7:21: sensors.file.prefix[1]: expected an absolute path (starting "
            "with '/'), got \"etc\"");
  EXPECT_EQ(parse_error("sensors:\n  file:\n    exact:\n      - /etc/shadow\n      - shadow\n"),
            "waggle.yaml:5:9: sensors.file.exact[1]: expected an absolute path (starting with "
            "'/'), got \"shadow\"");
}

TEST(Config, NetworkAndMetricsSettingsAreRead) {
  std::string error;
  auto config = parse_config(
      "sensors:\n  network:\n    dns: false\n    ports: [80, 8080]\n    binaries: [/usr/sbin/nginx]\n"
      "    containers: [abc123]\n    routes: [\"/users/{id}\", /static/*]\n"
      "metrics: {address: \"[::1]:9100\", program_stats: false}\n",
      "waggle.yaml", &error);
  ASSERT_TRUE(config) << error;
  EXPECT_TRUE(config->network_enabled);
  EXPECT_TRUE(config->network.tcp);
  EXPECT_FALSE(config->network.dns);
  EXPECT_EQ(config->network.ports, (std::vector<uint16_t>{80, 8080}));
  EXPECT_EQ(config->network.binaries, (std::vector<std::string>{"/usr/sbin/nginx"}));
  EXPECT_EQ(config->network.containers, (std::vector<std::string>{"abc123"}));
  EXPECT_EQ(config->network.routes, (std::vector<std::string>{"/users/{id}", "/static/*"}));
  EXPECT_TRUE(config->metrics.enabled);
  EXPECT_EQ(config->metrics.address, "[::1]:9100");
  EXPECT_FALSE(config->metrics.program_stats);
}

TEST(Config, HttpParsingInTheKernelOrInUserSpace) {
  std::string error;
  auto defaults = parse_config("sensors: {}\n", "waggle.yaml", &error);
  ASSERT_TRUE(defaults) << error;
  EXPECT_TRUE(defaults->network.http_in_kernel);
  auto user = parse_config("sensors:\n  network: {http_parsing: user}\n", "waggle.yaml", &error);
  ASSERT_TRUE(user) << error;
  EXPECT_FALSE(user->network.http_in_kernel);
  EXPECT_EQ(parse_error("sensors:\n  network:\n    http_parsing: bpf\n"),
            "waggle.yaml:3:19: sensors.network.http_parsing: expected kernel or user, got \"bpf\"");
}

TEST(Config, HttpEventsAllNoneOrSampled) {
  auto every = [](const std::string& value) {
    std::string error;
    auto config = parse_config("sensors:\n  network:\n    http_events: " + value + "\n", "waggle.yaml", &error);
    EXPECT_TRUE(config) << error;
    return config ? config->network.http_events_every : 99u;
  };
  EXPECT_EQ(every("all"), 1u);
  EXPECT_EQ(every("none"), 0u);
  EXPECT_EQ(every("sampled 100"), 100u);
  EXPECT_EQ(every("\"sampled 1\""), 1u);
  std::string error;
  auto defaults = parse_config("sensors: {}\n", "waggle.yaml", &error);
  ASSERT_TRUE(defaults) << error;
  EXPECT_EQ(defaults->network.http_events_every, 1u);
  const std::string expected =
      "sensors.network.http_events: expected all, none or \"sampled N\" with N from 1 to 1000000 (e.g. sampled "
      "100), got ";
  EXPECT_EQ(parse_error("sensors:\n  network:\n    http_events: some\n"), "waggle.yaml:3:18: " + expected + "\"some\"");
  for (const char* bad : {"sampled 0", "sampled 1000001", "sampled x", "sampled 5x", "sampled", "sampled -3"})
    EXPECT_EQ(parse_error(std::string("sensors:\n  network:\n    http_events: ") + bad + "\n"),
              "waggle.yaml:3:18: " + expected + "\"" + bad + "\"")
        << bad;
}

TEST(ConfigError, NetworkAndMetricsValuesAreCheckedWhereTheyAre) {
  EXPECT_EQ(parse_error("sensors:\n  network: {ports: [80, 70000]}\n"),
            "waggle.yaml:2:25: sensors.network.ports[1]: expected a sequence of ports from 1 to 65535 (e.g. "
            "[80, 8080]), got \"70000\"");
  EXPECT_EQ(parse_error("sensors:\n  network:\n    binaries: [nginx]\n"),
            "waggle.yaml:3:16: sensors.network.binaries[0]: expected an absolute executable path shorter "
            "than 256 bytes, got \"nginx\"");
  EXPECT_EQ(parse_error("sensors:\n  network:\n    containers: [ABC]\n"),
            "waggle.yaml:3:18: sensors.network.containers[0]: expected a container id or a prefix of one (1 "
            "to 64 lowercase hex digits), "
            "got \"ABC\"");
  EXPECT_NE(parse_error("sensors:\n  network:\n    routes: [\"users/{id}\"]\n").find("waggle.yaml:3:14: "),
            std::string::npos);
  EXPECT_EQ(parse_error("metrics: {address: localhost:9464}\n"),
            "waggle.yaml:1:20: metrics.address: expected an IP address and a port (e.g. 127.0.0.1:9464 or "
            "[::1]:9464), got "
            "\"localhost:9464\": the host must be an IPv4 address or [ipv6]");
}

TEST(ConfigError, UnknownKeysAtEachLevel) {
  EXPECT_EQ(parse_error("stats: false\nouptut: {}\n"),
            "waggle.yaml:2:1: unknown key \"ouptut\" at the top level (expected one of: output, "
            "sensors, select, ring_buffer_size, duration, stats, metrics, profiler, xdp, otlp)");
  EXPECT_EQ(parse_error("output:\n  fromat: json\n"),
            "waggle.yaml:2:3: unknown key \"fromat\" in output (expected one of: format, file, "
            "rotate)");
  EXPECT_EQ(parse_error("output:\n  rotate:\n    max: 1M\n"),
            "waggle.yaml:3:5: unknown key \"max\" in output.rotate (expected one of: max_size, "
            "keep)");
  EXPECT_EQ(parse_error("sensors:\n  netwrok: {}\n"),
            "waggle.yaml:2:3: unknown key \"netwrok\" in sensors (expected one of: process, "
            "file, network)");
  EXPECT_EQ(parse_error("sensors:\n  process:\n    enable: true\n"),
            "waggle.yaml:3:5: unknown key \"enable\" in sensors.process (expected one of: "
            "enabled)");
  EXPECT_EQ(parse_error("sensors:\n  file:\n    enabled: true\n    prefx: [/etc/]\n"),
            "waggle.yaml:4:5: unknown key \"prefx\" in sensors.file (expected one of: enabled, "
            "prefix, exact, suffix)");
  EXPECT_EQ(parse_error("select: {pid: 1, uid: 0}\n"),
            "waggle.yaml:1:18: unknown key \"uid\" in select (expected one of: pid, comm)");
}

TEST(ConfigError, DuplicateAndNonStringKeys) {
  EXPECT_EQ(parse_error("output:\n  format: json\n  format: text\n"),
            "waggle.yaml:3:3: duplicate key \"format\" in output (first given at line 2, "
            "column 3)");
  EXPECT_EQ(parse_error("? [a, b]\n: 1\n"),
            "waggle.yaml:1:3: expected a key name at the top level, got a sequence");
}

TEST(ConfigError, TopLevelMustBeAMapping) {
  EXPECT_EQ(parse_error("- output\n"),
            "waggle.yaml:1:1: expected a mapping (key: value lines) at the top level, got a "
            "sequence");
  EXPECT_EQ(parse_error("output json\n"),
            "waggle.yaml:1:1: expected a mapping (key: value lines) at the top level, got "
            "\"output json\"");
  EXPECT_EQ(parse_error("stats: true\n---\nstats: false\n"),
            "waggle.yaml:3:1: expected a single YAML document, got a second one (after ---)");
}

TEST(ConfigError, SectionsMustBeMappings) {
  EXPECT_EQ(parse_error("output: json\n"),
            "waggle.yaml:1:9: output: expected a mapping (key: value lines), got \"json\"");
  EXPECT_EQ(parse_error("sensors:\n  - process\n"),
            "waggle.yaml:2:3: sensors: expected a mapping (key: value lines), got a sequence");
}

TEST(ConfigError, StrictBooleans) {
  EXPECT_EQ(parse_error("stats: yes\n"),
            "waggle.yaml:1:8: stats: expected a boolean (true or false), got \"yes\"");
  EXPECT_EQ(parse_error("sensors:\n  process:\n    enabled: on\n"),
            "waggle.yaml:3:14: sensors.process.enabled: expected a boolean (true or false), got "
            "\"on\"");
  EXPECT_EQ(parse_error("stats: \"true\"\n"),
            "waggle.yaml:1:8: stats: expected a boolean (true or false), got \"true\" (a quoted "
            "string)");
  EXPECT_EQ(parse_error("stats: !!str true\n"),
            "waggle.yaml:1:8: stats: expected a boolean (true or false), got \"true\" (tagged "
            "!!str)");
  EXPECT_EQ(parse_error("stats: 1\n"),
            "waggle.yaml:1:8: stats: expected a boolean (true or false), got \"1\"");
  EXPECT_EQ(parse_error("stats: [true]\n"),
            "waggle.yaml:1:8: stats: expected a boolean (true or false), got a sequence");
  EXPECT_EQ(parse_error("stats: ~\n"),
            "waggle.yaml:1:8: stats: expected a boolean (true or false), got null");
  // An empty value has no position of its own: the error points at its key.
  EXPECT_EQ(parse_error("duration: 1s\nstats:\n"),
            "waggle.yaml:2:1: stats: expected a boolean (true or false), got an empty value");
}

TEST(ConfigError, StrictIntegers) {
  const std::string pid = "select.pid: expected a process id (an integer between 1 and 4194304)";
  EXPECT_EQ(parse_error("select:\n  pid: 1.5\n"), "waggle.yaml:2:8: " + pid + ", got \"1.5\"");
  EXPECT_EQ(parse_error("select:\n  pid: abc\n"), "waggle.yaml:2:8: " + pid + ", got \"abc\"");
  EXPECT_EQ(parse_error("select:\n  pid: -3\n"), "waggle.yaml:2:8: " + pid + ", got -3");
  EXPECT_EQ(parse_error("select:\n  pid: 0\n"), "waggle.yaml:2:8: " + pid + ", got 0");
  EXPECT_EQ(parse_error("select:\n  pid: 4194305\n"), "waggle.yaml:2:8: " + pid + ", got 4194305");
  EXPECT_EQ(parse_error("select:\n  pid: '12'\n"),
            "waggle.yaml:2:8: " + pid + ", got \"12\" (a quoted string)");
  EXPECT_EQ(parse_error("select:\n  pid: 0x10\n"), "waggle.yaml:2:8: " + pid + ", got \"0x10\"");
  EXPECT_EQ(parse_error("select:\n  pid: 010\n"), "waggle.yaml:2:8: " + pid + ", got \"010\"");
  EXPECT_EQ(parse_error("select:\n  pid: 99999999999999999999\n"),
            "waggle.yaml:2:8: " + pid + ", got \"99999999999999999999\"");
  EXPECT_EQ(parse_error("output: {rotate: {keep: 0}}\n"),
            "waggle.yaml:1:25: output.rotate.keep: expected an integer between 1 and 1000, got 0");
  EXPECT_EQ(parse_error("output: {rotate: {keep: 1001}}\n"),
            "waggle.yaml:1:25: output.rotate.keep: expected an integer between 1 and 1000, got "
            "1001");
  EXPECT_EQ(parse_ok("select: {pid: 4194304}").pid, 4194304u);
  EXPECT_EQ(parse_ok("output: {rotate: {keep: 1000}}").output.rotate_keep, 1000u);
}

TEST(ConfigError, StringsAndEnums) {
  EXPECT_EQ(parse_error("output:\n  format: xml\n"),
            "waggle.yaml:2:11: output.format: expected json or text, got \"xml\"");
  EXPECT_EQ(parse_error("output:\n  format: [json]\n"),
            "waggle.yaml:2:11: output.format: expected json or text, got a sequence");
  EXPECT_EQ(parse_error("output:\n  file: {path: /tmp/x}\n"),
            "waggle.yaml:2:9: output.file: expected a file path, got a mapping");
  EXPECT_EQ(parse_error("output:\n  file: \"\"\n"),
            "waggle.yaml:2:9: output.file: expected a file path (leave output.file out to write "
            "to standard output), got \"\"");
  EXPECT_EQ(parse_error("select:\n  comm: [nginx]\n"),
            "waggle.yaml:2:9: select.comm: expected a process name, got a sequence");
  EXPECT_EQ(parse_error("select:\n  comm: abcdefghijklmnop\n"),
            "waggle.yaml:2:9: select.comm: expected a process name of 1 to 15 bytes without NUL "
            "bytes, got \"abcdefghijklmnop\" (16 bytes)");
  EXPECT_EQ(parse_error("select:\n  comm: ''\n"),
            "waggle.yaml:2:9: select.comm: expected a process name of 1 to 15 bytes without NUL "
            "bytes, got \"\"");
  EXPECT_EQ(parse_ok("select: {comm: abcdefghijklmno}").comm, "abcdefghijklmno");
  // A plain scalar that looks like a number is still a valid string.
  EXPECT_EQ(parse_ok("select: {comm: 1234}").comm, "1234");
}

TEST(ConfigError, Sequences) {
  EXPECT_EQ(parse_error("sensors:\n  file:\n    prefix:\n"),
            "waggle.yaml:3:5: sensors.file.prefix: expected a sequence of path prefixes (e.g. "
            "[/etc/], or [] for none), got an empty value");
  EXPECT_EQ(parse_error("sensors:\n  file:\n    prefix: ~\n"),
            "waggle.yaml:3:13: sensors.file.prefix: expected a sequence of path prefixes (e.g. "
            "[/etc/], or [] for none), got null");
  EXPECT_EQ(parse_error("sensors:\n  file:\n    suffix: .pem\n"),
            "waggle.yaml:3:13: sensors.file.suffix: expected a sequence of suffixes (e.g. [.pem], "
            "or [] for none), got \".pem\"");
  EXPECT_EQ(parse_error("sensors:\n  file:\n    exact: {a: b}\n"),
            "waggle.yaml:3:12: sensors.file.exact: expected a sequence of paths (e.g. "
            "[/etc/shadow], or [] for none), got a mapping");
  EXPECT_EQ(parse_error("sensors:\n  file:\n    prefix:\n      - /etc/\n      - {a: b}\n"),
            "waggle.yaml:5:9: sensors.file.prefix[1]: expected a string, got a mapping");
  EXPECT_EQ(parse_error("sensors:\n  file:\n    prefix:\n      - /etc/\n      -\n      - /x/\n"),
            "waggle.yaml:5:7: sensors.file.prefix[1]: expected a string, got an empty value");
  EXPECT_EQ(parse_error("sensors:\n  file:\n    prefix: [/etc/, ~]\n"),
            "waggle.yaml:3:21: sensors.file.prefix[1]: expected a string, got null");
  EXPECT_TRUE(parse_ok("sensors: {file: {prefix: []}}").file_filter.prefix.empty());
}

TEST(ConfigError, SizesAndDurations) {
  EXPECT_EQ(parse_error("ring_buffer_size: 64MB\n"),
            "waggle.yaml:1:19: ring_buffer_size: expected a size (an integer number of bytes, "
            "optionally followed by B, K, KiB, M, MiB, G or GiB), got \"64MB\"");
  EXPECT_EQ(parse_error("ring_buffer_size: 1.5GiB\n"),
            "waggle.yaml:1:19: ring_buffer_size: expected a size (an integer number of bytes, "
            "optionally followed by B, K, KiB, M, MiB, G or GiB), got \"1.5GiB\"");
  EXPECT_EQ(parse_error("ring_buffer_size: 3000000\n"),
            "waggle.yaml:1:19: ring_buffer_size: expected a power of two between 4 KiB and 1 "
            "GiB, got 3000000 bytes");
  EXPECT_EQ(parse_error("ring_buffer_size: 2K\n"),
            "waggle.yaml:1:19: ring_buffer_size: expected a power of two between 4 KiB and 1 "
            "GiB, got 2 KiB");
  EXPECT_EQ(parse_error("ring_buffer_size: 2GiB\n"),
            "waggle.yaml:1:19: ring_buffer_size: expected a power of two between 4 KiB and 1 "
            "GiB, got 2 GiB");
  EXPECT_EQ(parse_error("output:\n  rotate:\n    max_size: 4095\n"),
            "waggle.yaml:3:15: output.rotate.max_size: expected a size of at least 4096 bytes, "
            "got 4095 bytes");
  EXPECT_EQ(parse_ok("output: {rotate: {max_size: 4096}}").output.rotate_bytes, 4096u);
  EXPECT_EQ(parse_error("duration: 10 days\n"),
            "waggle.yaml:1:11: duration: expected a duration (a number followed by ms, s, m or "
            "h; a plain number means seconds), got \"10 days\"");
  EXPECT_EQ(parse_error("duration: -5s\n"),
            "waggle.yaml:1:11: duration: expected a duration (a number followed by ms, s, m or "
            "h; a plain number means seconds), got \"-5s\"");
  EXPECT_EQ(parse_error("duration: 0s\n"),
            "waggle.yaml:1:11: duration: expected a duration greater than 0 and at most 8760h "
            "(365 days), got 0s");
  EXPECT_EQ(parse_error("duration: 8761h\n"),
            "waggle.yaml:1:11: duration: expected a duration greater than 0 and at most 8760h "
            "(365 days), got 31539600s");
}

TEST(ConfigError, YamlSyntaxErrorsHavePositions) {
  EXPECT_EQ(parse_error("output:\n  format: json\n file: x\n"),
            "waggle.yaml:3:2: invalid YAML: end of map not found");
  EXPECT_EQ(parse_error("stats: true\nduration: '10s"),
            "waggle.yaml:2:15: invalid YAML: illegal EOF in scalar");
  EXPECT_EQ(parse_error("output:\n\tformat: json\n"), "waggle.yaml:2:8: invalid YAML: illegal map value");
  EXPECT_EQ(parse_error("sensors: {file: {prefix: [/etc/}}\n"),
            "waggle.yaml:1:32: invalid YAML: illegal flow end");
  EXPECT_EQ(parse_error("select:\n  pid: *nope\n"),
            "waggle.yaml:2:8: invalid YAML: the referenced anchor is not defined");
}

TEST(ConfigError, PositionsWithByteOrderMarkAndCrLf) {
  EXPECT_EQ(parse_error("\xEF\xBB\xBFstats: maybe\n"),
            "waggle.yaml:1:8: stats: expected a boolean (true or false), got \"maybe\"");
  EXPECT_EQ(parse_error("stats: true\r\nduration: 1.5x\r\n"),
            "waggle.yaml:2:11: duration: expected a duration (a number followed by ms, s, m or "
            "h; a plain number means seconds), got \"1.5x\"");
  EXPECT_EQ(parse_error("stats: true\r\nselect:\r\n  comm:\r\n"),
            "waggle.yaml:3:3: select.comm: expected a process name, got an empty value");
}

TEST(ConfigError, NothingHalfApplied) {
  // The first error wins, and nothing comes back even though earlier keys were fine.
  std::string error;
  std::optional<Config> c = parse_config("stats: true\nselect: {pid: 0}\nduration: x\n", "my.yaml", &error);
  EXPECT_FALSE(c.has_value());
  EXPECT_EQ(error,
            "my.yaml:2:15: select.pid: expected a process id (an integer between 1 and 4194304), "
            "got 0");
  // A null error pointer is allowed.
  EXPECT_FALSE(parse_config("stats: 3", "x", nullptr).has_value());
}

// --- Limits -------------------------------------------------------------------------------

std::string file_filter_yaml(const char* kind, const std::string& value) {
  return std::string("sensors:\n  file:\n    ") + kind + ": ['" + value + "']\n";
}

TEST(ConfigLimits, PrefixLength) {
  std::string ok = "/" + std::string(255, 'a');  // 256 bytes
  EXPECT_EQ(parse_ok(file_filter_yaml("prefix", ok)).file_filter.prefix, std::vector<std::string>{ok});
  std::string long_prefix = ok + "a";  // 257 bytes
  EXPECT_EQ(parse_error(file_filter_yaml("prefix", long_prefix)),
            "waggle.yaml:3:14: sensors.file.prefix[0]: expected a path of at most 256 bytes, got "
            "\"/" +
                std::string(63, 'a') + "...\" (257 bytes)");

  Config c;
  c.file_filter.prefix = {"/etc/", long_prefix};
  EXPECT_EQ(validate_limits(c), "sensors.file.prefix[1]: expected a path of at most 256 bytes, got \"/" +
                                    std::string(63, 'a') + "...\" (257 bytes)");
  c.file_filter.prefix = {ok};
  EXPECT_EQ(validate_limits(c), "");
}

TEST(ConfigLimits, ExactLength) {
  std::string ok = "/" + std::string(254, 'e');  // 255 bytes: 256 with its NUL
  EXPECT_EQ(parse_ok(file_filter_yaml("exact", ok)).file_filter.exact.at(0), ok);
  Config c;
  c.file_filter.exact = {ok + "e"};
  EXPECT_EQ(validate_limits(c), "sensors.file.exact[0]: expected a path of at most 255 bytes, got \"/" +
                                    std::string(63, 'e') + "...\" (256 bytes)");
  c.file_filter.exact = {"shadow"};
  EXPECT_EQ(validate_limits(c),
            "sensors.file.exact[0]: expected an absolute path (starting with '/'), got "
            "\"shadow\"");
}

TEST(ConfigLimits, SuffixLength) {
  std::string ok(64, 's');
  EXPECT_EQ(parse_ok(file_filter_yaml("suffix", ok)).file_filter.suffix.at(0), ok);
  EXPECT_EQ(parse_error(file_filter_yaml("suffix", ok + "s")),
            "waggle.yaml:3:14: sensors.file.suffix[0]: expected a suffix of at most 64 bytes, got "
            "\"" +
                ok + "...\" (65 bytes)");
  EXPECT_EQ(parse_error(file_filter_yaml("suffix", "")),
            "waggle.yaml:3:14: sensors.file.suffix[0]: expected a non-empty suffix, got \"\"");
  // A suffix need not be a path.
  EXPECT_EQ(parse_ok(file_filter_yaml("suffix", "id_rsa")).file_filter.suffix.at(0), "id_rsa");
}

TEST(ConfigLimits, EmptyPrefixAndNulBytes) {
  EXPECT_EQ(parse_error(file_filter_yaml("prefix", "")),
            "waggle.yaml:3:14: sensors.file.prefix[0]: expected an absolute path (starting with "
            "'/'), got \"\"");
  EXPECT_EQ(parse_error("sensors: {file: {exact: [\"/etc/\\0shadow\"]}}"),
            "waggle.yaml:1:26: sensors.file.exact[0]: expected a path without NUL bytes, got "
            "\"/etc/\\0shadow\"");
  Config c;
  c.file_filter.suffix = {std::string(".pem\0x", 6)};
  EXPECT_EQ(validate_limits(c),
            "sensors.file.suffix[0]: expected a suffix without NUL bytes, got \".pem\\0x\"");
  c = Config{};
  c.comm = std::string("ab\0c", 4);
  EXPECT_EQ(validate_limits(c),
            "select.comm: expected a process name of 1 to 15 bytes without NUL bytes, got "
            "\"ab\\0c\" (4 bytes)");
}

TEST(ConfigLimits, ValuesPerKind) {
  Config c;
  for (int i = 0; i < 65536; i++) c.file_filter.suffix.push_back("." + std::to_string(i));
  c.file_filter.suffix.push_back(".0");  // a duplicate does not count twice
  EXPECT_EQ(validate_limits(c), "");
  c.file_filter.suffix.push_back(".65536");
  EXPECT_EQ(validate_limits(c), "sensors.file.suffix: expected at most 65536 distinct values, got 65537");

  // From YAML, the error points at the sequence.
  std::string yaml = "sensors:\n  file:\n    prefix:\n";
  for (int i = 0; i <= 65536; i++) yaml += "      - /" + std::to_string(i) + "\n";
  EXPECT_EQ(parse_error(yaml),
            "waggle.yaml:4:7: sensors.file.prefix: expected at most 65536 distinct values, got "
            "65537");
}

TEST(ConfigLimits, CommandLineValues) {
  Config c;
  c.ring_buffer_bytes = 3 << 20;
  EXPECT_EQ(validate_limits(c),
            "ring_buffer_size: expected a power of two between 4 KiB and 1 GiB, got 3 MiB");
  c.ring_buffer_bytes = 2048;
  EXPECT_EQ(validate_limits(c),
            "ring_buffer_size: expected a power of two between 4 KiB and 1 GiB, got 2 KiB");
  c.ring_buffer_bytes = 4096;
  EXPECT_EQ(validate_limits(c), "");
  c.ring_buffer_bytes = 1ull << 30;
  EXPECT_EQ(validate_limits(c), "");

  c = Config{};
  c.pid = 0;
  EXPECT_EQ(validate_limits(c),
            "select.pid: expected a process id (an integer between 1 and 4194304), got 0");
  c = Config{};
  c.comm = "";
  EXPECT_EQ(validate_limits(c),
            "select.comm: expected a process name of 1 to 15 bytes without NUL bytes, got \"\"");
  c = Config{};
  c.duration_s = -1;
  EXPECT_EQ(validate_limits(c),
            "duration: expected a duration greater than 0 and at most 8760h (365 days), got -1s");
  c.duration_s = std::numeric_limits<double>::quiet_NaN();
  EXPECT_NE(validate_limits(c), "");
  c.duration_s = 0.001;
  EXPECT_EQ(validate_limits(c), "");

  c = Config{};
  c.output.rotate_bytes = 100;
  EXPECT_EQ(validate_limits(c),
            "output.rotate.max_size: expected a size of at least 4096 bytes, got 100 bytes");
  c = Config{};
  c.output.rotate_keep = 0;
  EXPECT_EQ(validate_limits(c), "output.rotate.keep: expected an integer between 1 and 1000, got 0");
}

// --- Files --------------------------------------------------------------------------------

class ConfigFile : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/waggle_config_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    for (const std::string& f : files_) unlink(f.c_str());
    rmdir(dir_.c_str());
  }
  std::string write(const std::string& name, const std::string& text) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    files_.push_back(path);
    return path;
  }
  std::string dir_;
  std::vector<std::string> files_;
};

TEST_F(ConfigFile, LoadsAFile) {
  std::string path = write("ok.yaml", "output:\n  format: text\n");
  std::string error;
  std::optional<Config> c = load_config(path, &error);
  ASSERT_TRUE(c.has_value()) << error;
  EXPECT_EQ(c->output.format, OutputFormat::kText);
}

TEST_F(ConfigFile, EmptyFileGivesDefaults) {
  std::string error;
  std::optional<Config> c = load_config(write("empty.yaml", ""), &error);
  ASSERT_TRUE(c.has_value()) << error;
  expect_defaults(*c);
}

TEST_F(ConfigFile, ErrorsNameTheFile) {
  std::string path = write("bad.yaml", "sensors:\n  file:\n    prefix: [etc]\n");
  std::string error;
  EXPECT_FALSE(load_config(path, &error).has_value());
  EXPECT_EQ(error, path +
                       ":3:14: sensors.file.prefix[0]: expected an absolute path (starting "
                       "with '/'), got \"etc\"");
}

TEST_F(ConfigFile, UnreadableFiles) {
  std::string error;
  EXPECT_FALSE(load_config(dir_ + "/missing.yaml", &error).has_value());
  EXPECT_EQ(error, dir_ + "/missing.yaml: cannot read: No such file or directory");
  EXPECT_FALSE(load_config(dir_, &error).has_value());
  EXPECT_EQ(error, dir_ + ": cannot read: Is a directory");
}

}  // namespace
}  // namespace waggle

namespace waggle {
namespace {

TEST(ProfilerConfig, DefaultsAndEveryKey) {
  Config d = parse_ok("stats: false\n");
  EXPECT_TRUE(d.profiler.enabled);
  EXPECT_EQ(d.profiler.frequency_hz, 19u);
  EXPECT_EQ(d.profiler.stack_bytes, 16384u);
  EXPECT_EQ(d.profiler.max_seconds, 60);
  EXPECT_EQ(d.profiler.debug_root, "/usr/lib/debug");
  Config c = parse_ok(
      "profiler:\n  enabled: false\n  frequency: 99\n  kernel_stacks: false\n  user_stacks: true\n"
      "  stack_bytes: 8192\n  max_seconds: 120\n  debug_root: /opt/debug\n  max_processes: 50\n");
  EXPECT_FALSE(c.profiler.enabled);
  EXPECT_EQ(c.profiler.frequency_hz, 99u);
  EXPECT_FALSE(c.profiler.kernel_stacks);
  EXPECT_EQ(c.profiler.stack_bytes, 8192u);
  EXPECT_EQ(c.profiler.max_seconds, 120);
  EXPECT_EQ(c.profiler.debug_root, "/opt/debug");
  EXPECT_EQ(c.profiler.max_processes, 50u);
}

TEST(ProfilerConfig, OutOfRangeValuesNameTheirPlace) {
  EXPECT_EQ(parse_error("profiler:\n  frequency: 1000\n"),
            "waggle.yaml:2:14: profiler.frequency: expected samples per second per CPU, an integer from 1 to 999, "
            "got \"1000\"");
  EXPECT_EQ(parse_error("profiler:\n  stack_bytes: 100\n"),
            "waggle.yaml:2:16: profiler.stack_bytes: expected bytes of user stack copied per sample, an integer "
            "from 512 to 32768, got \"100\"");
  EXPECT_NE(parse_error("profiler:\n  frequncy: 99\n").find("unknown key \"frequncy\""), std::string::npos);
}

TEST(XdpConfig, EntriesAndTheirErrors) {
  EXPECT_TRUE(parse_ok("stats: false\n").xdp.empty());
  Config c = parse_ok("xdp:\n  - {interface: ens5, rules: /etc/waggle/edge.yaml}\n"
                      "  - {interface: veth1, rules: r.yaml, netns: blue, mode: generic, keep_attached: true}\n");
  ASSERT_EQ(c.xdp.size(), 2u);
  EXPECT_EQ(c.xdp[0].interface, "ens5");
  EXPECT_EQ(c.xdp[0].mode, "auto");
  EXPECT_FALSE(c.xdp[0].keep_attached);
  EXPECT_EQ(c.xdp[0].line, 2);
  EXPECT_EQ(c.xdp[1].netns, "blue");
  EXPECT_EQ(c.xdp[1].mode, "generic");
  EXPECT_TRUE(c.xdp[1].keep_attached);
  EXPECT_EQ(parse_error("xdp:\n  - {interface: ens5}\n"),
            "waggle.yaml:2:5: xdp[0]: expected both interface and rules (e.g. {interface: ens5, rules: "
            "/etc/waggle/edge.yaml})");
  EXPECT_EQ(parse_error("xdp:\n  - {interface: ens5, rules: a, mode: fast}\n"),
            "waggle.yaml:2:39: xdp[0].mode: expected auto, native or generic, got \"fast\"");
  EXPECT_EQ(parse_error("xdp:\n  - {interface: a, rules: x}\n  - {interface: a, rules: y}\n"),
            "waggle.yaml:3:5: xdp[1]: interface a is given twice");
}

}  // namespace
}  // namespace waggle

namespace waggle {
namespace {

TEST(ProfilerConfig, BothStackSidesOffIsRefused) {
  EXPECT_EQ(parse_error("profiler:\n  kernel_stacks: false\n  user_stacks: false\n"),
            "waggle.yaml:2:3: profiler: kernel_stacks and user_stacks are both false: nothing would be sampled");
}

}  // namespace
}  // namespace waggle
