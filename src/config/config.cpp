// Reading the YAML configuration: the schema walk. Strict value reading lives in
// yaml_check.cpp, the limits every configuration must respect in limits.cpp.
#include "config/config.hpp"

#include <fcntl.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <charconv>
#include <system_error>

#include "config/limits.hpp"
#include "config/otlp_reader.hpp"
#include "config/yaml_check.hpp"

namespace waggle {
namespace {

using yaml_check::Entry;
using yaml_check::Reader;
using yaml_check::SchemaError;
using yaml_check::Value;

constexpr std::string_view kSizeExpected =
    "a size (an integer number of bytes, optionally followed by B, K, KiB, M, MiB, G or GiB)";
constexpr std::string_view kDurationExpected =
    "a duration (a number followed by ms, s, m or h; a plain number means seconds)";

constexpr std::string_view kPrefixesExpected = "a sequence of path prefixes (e.g. [/etc/], or [] for none)";
constexpr std::string_view kExactExpected = "a sequence of paths (e.g. [/etc/shadow], or [] for none)";
constexpr std::string_view kSuffixesExpected = "a sequence of suffixes (e.g. [.pem], or [] for none)";

// Reports a limit broken by `value` at its node.
void check(const Value& value, const std::string& problem) {
  if (!problem.empty()) Reader::fail_message(value, problem);
}

uint64_t read_size(Reader& r, const Value& value) {
  auto bytes = parse_size(r.string(value, kSizeExpected));
  if (!bytes) r.fail(value, kSizeExpected);
  return *bytes;
}

std::vector<std::string> read_filter(Reader& r, const Value& value, std::string_view expected,
                                     std::string (*check_one)(std::string_view)) {
  std::vector<std::string> values;
  for (const Value& item : r.sequence(value, expected)) {
    std::string s = r.string(item);
    check(item, check_one(s));
    values.push_back(std::move(s));
  }
  check(value, limits::check_filter_count(limits::distinct_count(values)));
  return values;
}

void read_rotate(Reader& r, const Value& value, OutputConfig& output) {
  for (const Entry& e : r.mapping(value, {"max_size", "keep"})) {
    if (e.key == "max_size") {
      output.rotate_bytes = read_size(r, e.value);
      check(e.value, limits::check_rotate_bytes(output.rotate_bytes));
    } else {
      int64_t keep = r.integer(e.value, limits::kKeepExpected);
      check(e.value, limits::check_rotate_keep(keep));
      output.rotate_keep = static_cast<uint32_t>(keep);
    }
  }
}

void read_output(Reader& r, const Value& value, OutputConfig& output) {
  for (const Entry& e : r.mapping(value, {"format", "file", "rotate"})) {
    if (e.key == "format") {
      std::string format = r.string(e.value, "json or text");
      if (format == "json") {
        output.format = OutputFormat::kJson;
      } else if (format == "text") {
        output.format = OutputFormat::kText;
      } else {
        r.fail(e.value, "json or text");
      }
    } else if (e.key == "file") {
      output.file = r.string(e.value, "a file path");
      if (output.file.empty()) {
        r.fail(e.value, "a file path (leave output.file out to write to standard output)");
      }
      check(e.value, limits::check_output_file(output.file));
    } else {
      read_rotate(r, e.value, output);
    }
  }
}

// A sequence of non-empty strings, each checked by `check_one` (which returns a problem or "").
std::vector<std::string> read_strings(Reader& r, const Value& value, std::string_view expected,
                                      std::string (*check_one)(std::string_view)) {
  std::vector<std::string> values;
  for (const Value& item : r.sequence(value, expected)) {
    std::string s = r.string(item, expected);
    if (s.empty()) r.fail(item, expected);
    check(item, check_one(s));
    values.push_back(std::move(s));
  }
  return values;
}

// `all`, `none` or `sampled N`: one exchange in N becomes an event (0 for none).
uint32_t http_events(Reader& r, const Value& value) {
  constexpr std::string_view kExpected = "all, none or \"sampled N\" with N from 1 to 1000000 (e.g. sampled 100)";
  std::string s = r.string(value, kExpected);
  if (s == "all") return 1;
  if (s == "none") return 0;
  constexpr std::string_view kSampled = "sampled ";
  if (s.rfind(kSampled, 0) != 0) r.fail(value, kExpected);
  std::string_view digits = std::string_view(s).substr(kSampled.size());
  uint32_t n = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc() || end != digits.data() + digits.size() || digits.empty() || n < 1 || n > 1000000)
    r.fail(value, kExpected);
  return n;
}

void read_network(Reader& r, const Value& value, Config& config) {
  NetworkConfig& n = config.network;
  for (const Entry& e :
       r.mapping(value, {"enabled", "tcp", "http", "http_events", "http_parsing", "dns", "ports", "binaries", "containers",
                       "routes"})) {
    if (e.key == "enabled") {
      config.network_enabled = r.boolean(e.value);
    } else if (e.key == "tcp") {
      n.tcp = r.boolean(e.value);
    } else if (e.key == "http") {
      n.http = r.boolean(e.value);
    } else if (e.key == "http_events") {
      n.http_events_every = http_events(r, e.value);
    } else if (e.key == "http_parsing") {
      constexpr std::string_view kParsing = "kernel or user";
      std::string where = r.string(e.value, kParsing);
      if (where != "kernel" && where != "user") r.fail(e.value, kParsing);
      n.http_in_kernel = where == "kernel";
    } else if (e.key == "dns") {
      n.dns = r.boolean(e.value);
    } else if (e.key == "ports") {
      constexpr std::string_view kPorts = "a sequence of ports from 1 to 65535 (e.g. [80, 8080])";
      for (const Value& item : r.sequence(e.value, kPorts)) {
        int64_t port = r.integer(item, kPorts);
        if (port < 1 || port > 65535) r.fail(item, kPorts);
        n.ports.push_back(static_cast<uint16_t>(port));
      }
      check(e.value, limits::check_network_ports(n.ports.size()));
    } else if (e.key == "binaries") {
      n.binaries = read_strings(r, e.value, "a sequence of executable paths (e.g. [/usr/sbin/nginx])",
                                limits::check_binary_path);
    } else if (e.key == "containers") {
      n.containers =
          read_strings(r, e.value, "a sequence of container ids or id prefixes", limits::check_container_id);
    } else {
      n.routes = read_strings(r, e.value, "a sequence of route patterns (e.g. [/users/{id}])",
                              limits::check_route_pattern);
    }
  }
}

void read_metrics(Reader& r, const Value& value, MetricsConfig& metrics) {
  for (const Entry& e : r.mapping(value, {"enabled", "address", "program_stats", "ui"})) {
    if (e.key == "enabled") {
      metrics.enabled = r.boolean(e.value);
    } else if (e.key == "ui") {
      metrics.ui = r.boolean(e.value);
    } else if (e.key == "program_stats") {
      metrics.program_stats = r.boolean(e.value);
    } else {
      constexpr std::string_view kAddress = "an address and port (e.g. 127.0.0.1:9464 or [::1]:9464)";
      metrics.address = r.string(e.value, kAddress);
      check(e.value, limits::check_listen_address(metrics.address));
    }
  }
}

void read_profiler(Reader& r, const Value& value, ProfilerConfig& p) {
  for (const Entry& e : r.mapping(value, {"enabled", "frequency", "kernel_stacks", "user_stacks", "stack_bytes",
                                          "max_seconds", "debug_root", "max_processes"})) {
    if (e.key == "enabled") {
      p.enabled = r.boolean(e.value);
    } else if (e.key == "kernel_stacks") {
      p.kernel_stacks = r.boolean(e.value);
    } else if (e.key == "user_stacks") {
      p.user_stacks = r.boolean(e.value);
    } else if (e.key == "debug_root") {
      p.debug_root = r.string(e.value, "a directory (e.g. /usr/lib/debug)");
    } else {
      struct Range {
        const char* key;
        int64_t min, max;
        const char* expected;
      };
      static const Range ranges[] = {
          {"frequency", 1, 999, "samples per second per CPU, an integer from 1 to 999"},
          {"stack_bytes", 512, 32768, "bytes of user stack copied per sample, an integer from 512 to 32768"},
          {"max_seconds", 1, 3600, "seconds, an integer from 1 to 3600"},
          {"max_processes", 1, 100000, "an integer from 1 to 100000"},
      };
      for (const Range& range : ranges) {
        if (e.key != range.key) continue;
        int64_t v = r.integer(e.value, range.expected);
        if (v < range.min || v > range.max) r.fail(e.value, range.expected);
        if (e.key == "frequency") p.frequency_hz = uint32_t(v);
        if (e.key == "stack_bytes") p.stack_bytes = uint32_t(v);
        if (e.key == "max_seconds") p.max_seconds = double(v);
        if (e.key == "max_processes") p.max_processes = uint32_t(v);
      }
    }
  }
  if (!p.kernel_stacks && !p.user_stacks)
    Reader::fail_message(value, "kernel_stacks and user_stacks are both false: nothing would be sampled");
}

void read_xdp(Reader& r, const Value& value, std::vector<XdpAttachConfig>& out) {
  constexpr std::string_view kModes = "auto, native or generic";
  for (const Value& item : r.sequence(value, "a sequence of {interface, rules} entries")) {
    XdpAttachConfig x;
    x.line = item.mark.line + 1;
    for (const Entry& e : r.mapping(item, {"interface", "rules", "netns", "mode", "keep_attached"})) {
      if (e.key == "interface") {
        x.interface = r.string(e.value, "an interface name (1 to 15 bytes)");
        if (x.interface.empty() || x.interface.size() > 15) r.fail(e.value, "an interface name (1 to 15 bytes)");
      } else if (e.key == "rules") {
        x.rules = r.string(e.value, "the path of a packet rules file (kind: PacketRules)");
      } else if (e.key == "netns") {
        x.netns = r.string(e.value, "a network namespace: a name under /run/netns, or a path");
      } else if (e.key == "mode") {
        x.mode = r.string(e.value, kModes);
        if (x.mode != "auto" && x.mode != "native" && x.mode != "generic") r.fail(e.value, kModes);
      } else {
        x.keep_attached = r.boolean(e.value);
      }
    }
    if (x.interface.empty() || x.rules.empty())
      Reader::fail_message(item, "expected both interface and rules (e.g. {interface: ens5, rules: /etc/waggle/edge.yaml})");
    for (const XdpAttachConfig& other : out)
      if (other.interface == x.interface && other.netns == x.netns)
        Reader::fail_message(item, "interface " + x.interface + " is given twice");
    out.push_back(x);
  }
}

void read_sensors(Reader& r, const Value& value, Config& config) {
  for (const Entry& sensor : r.mapping(value, {"process", "file", "network"})) {
    if (sensor.key == "network") {
      read_network(r, sensor.value, config);
      continue;
    }
    if (sensor.key == "process") {
      for (const Entry& e : r.mapping(sensor.value, {"enabled"})) {
        config.process_enabled = r.boolean(e.value);
      }
      continue;
    }
    for (const Entry& e : r.mapping(sensor.value, {"enabled", "prefix", "exact", "suffix"})) {
      FileFilterConfig& filter = config.file_filter;
      if (e.key == "enabled") {
        config.file_enabled = r.boolean(e.value);
      } else if (e.key == "prefix") {
        filter.prefix = read_filter(r, e.value, kPrefixesExpected, limits::check_prefix);
      } else if (e.key == "exact") {
        filter.exact = read_filter(r, e.value, kExactExpected, limits::check_exact);
      } else {
        filter.suffix = read_filter(r, e.value, kSuffixesExpected, limits::check_suffix);
      }
    }
  }
}

void read_select(Reader& r, const Value& value, Config& config) {
  for (const Entry& e : r.mapping(value, {"pid", "comm"})) {
    if (e.key == "pid") {
      int64_t pid = r.integer(e.value, limits::kPidExpected);
      check(e.value, limits::check_pid(pid));
      config.pid = static_cast<uint32_t>(pid);
    } else {
      std::string comm = r.string(e.value, "a process name");
      check(e.value, limits::check_comm(comm));
      config.comm = std::move(comm);
    }
  }
}

Config read_config(Reader& r, const YAML::Node& root) {
  Config config;
  const Value top = r.root(root);
  for (const Entry& e :
       r.mapping(top, {"output", "sensors", "select", "ring_buffer_size", "duration", "stats", "metrics", "profiler",
                       "xdp", "otlp"})) {
    if (e.key == "output") {
      read_output(r, e.value, config.output);
    } else if (e.key == "otlp") {
      read_otlp(r, e.value, config.otlp);
    } else if (e.key == "xdp") {
      read_xdp(r, e.value, config.xdp);
    } else if (e.key == "profiler") {
      read_profiler(r, e.value, config.profiler);
    } else if (e.key == "metrics") {
      read_metrics(r, e.value, config.metrics);
    } else if (e.key == "sensors") {
      read_sensors(r, e.value, config);
    } else if (e.key == "select") {
      read_select(r, e.value, config);
    } else if (e.key == "ring_buffer_size") {
      config.ring_buffer_bytes = read_size(r, e.value);
      check(e.value, limits::check_ring_buffer(config.ring_buffer_bytes));
    } else if (e.key == "duration") {
      auto seconds = parse_duration(r.string(e.value, kDurationExpected));
      if (!seconds) r.fail(e.value, kDurationExpected);
      check(e.value, limits::check_duration(*seconds));
      config.duration_s = *seconds;
    } else {
      config.stats = r.boolean(e.value);
    }
  }
  // Every value was checked as it was read; this is the same check the command line gets,
  // kept so that the two can never disagree.
  if (auto broken = limits::check_limits(config)) {
    auto it = r.marks().find(broken->path);
    throw SchemaError{it != r.marks().end() ? it->second : top.mark, broken->path + ": " + broken->message};
  }
  return config;
}

void set_error(std::string* error, std::string message) {
  if (error) *error = std::move(message);
}

}  // namespace

std::optional<Config> parse_config(const std::string& yaml, const std::string& name, std::string* error) {
  // yaml-cpp counts positions after a UTF-8 byte order mark: drop it so that the text the
  // reader looks at lines up with the marks.
  const std::string text = yaml.starts_with("\xEF\xBB\xBF") ? yaml.substr(3) : yaml;
  try {
    std::vector<YAML::Node> documents = YAML::LoadAll(text);
    if (documents.empty()) return Config{};  // empty, or only comments
    for (size_t i = 1; i < documents.size(); i++) {
      if (!documents[i].IsNull()) {
        throw SchemaError{documents[i].Mark(),
                          "expected a single YAML document, got a second one (after ---)"};
      }
    }
    Reader reader(text);
    return read_config(reader, documents[0]);
  } catch (const SchemaError& e) {
    set_error(error, yaml_check::format_error(name, e.mark, e.message));
  } catch (const YAML::Exception& e) {
    set_error(error, yaml_check::format_error(name, e.mark, "invalid YAML: " + e.msg));
  }
  return std::nullopt;
}

std::optional<Config> load_config(const std::string& path, std::string* error) {
  std::string text;
  if (!yaml_check::read_file(path, &text, error)) return std::nullopt;
  return parse_config(text, path, error);
}

}  // namespace waggle
