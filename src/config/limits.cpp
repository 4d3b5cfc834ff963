#include "config/limits.hpp"

#include <fmt/format.h>
#include <linux/types.h>

#include <charconv>
#include <cmath>
#include <string_view>
#include <unordered_set>

#include "config/yaml_check.hpp"
#include "core/net_address.hpp"
#include "protocols/route_namer.hpp"
#include "records.h"

namespace waggle {
namespace limits {
namespace {

constexpr size_t kPrefixMax = WG_FILTER_PATH_MAX;
constexpr size_t kExactMax = WG_FILTER_PATH_MAX - 1;  // stored with its terminating NUL
constexpr size_t kSuffixMax = WG_FILTER_SUFFIX_MAX;
constexpr size_t kCommMax = WG_COMM_LEN - 1;

using yaml_check::quote;

bool has_nul(std::string_view s) { return s.find('\0') != std::string_view::npos; }

// "\"text\" (N bytes)": the value and its length, for length errors.
std::string quote_sized(std::string_view s) {
  std::string out = quote(s);
  if (!out.ends_with(" bytes)")) out += " (" + std::to_string(s.size()) + " bytes)";
  return out;
}

// 65536 -> "64 KiB", 3000 -> "3000 bytes".
std::string format_size(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"GiB", "MiB", "KiB"};
  for (int i = 0; i < 3; i++) {
    uint64_t unit = 1ull << (30 - 10 * i);
    if (bytes >= unit && bytes % unit == 0) return std::to_string(bytes / unit) + " " + kUnits[i];
  }
  return std::to_string(bytes) + (bytes == 1 ? " byte" : " bytes");
}

std::string format_seconds(double seconds) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), seconds);
  if (ec != std::errc()) return "?s";
  return std::string(buf, end) + "s";
}

std::string check_path(std::string_view value, size_t max) {
  if (value.empty() || value[0] != '/') {
    return "expected an absolute path (starting with '/'), got " + quote(value);
  }
  if (value.size() > max) {
    return "expected a path of at most " + std::to_string(max) + " bytes, got " + quote_sized(value);
  }
  if (has_nul(value)) return "expected a path without NUL bytes, got " + quote(value);
  return {};
}

}  // namespace

std::string check_prefix(std::string_view value) { return check_path(value, kPrefixMax); }

std::string check_exact(std::string_view value) { return check_path(value, kExactMax); }

std::string check_suffix(std::string_view value) {
  if (value.empty()) return "expected a non-empty suffix, got \"\"";
  if (value.size() > kSuffixMax) {
    return "expected a suffix of at most " + std::to_string(kSuffixMax) + " bytes, got " + quote_sized(value);
  }
  if (has_nul(value)) return "expected a suffix without NUL bytes, got " + quote(value);
  return {};
}

std::string check_filter_count(uint64_t distinct) {
  if (distinct <= kFilterValuesMax) return {};
  return "expected at most " + std::to_string(kFilterValuesMax) + " distinct values, got " +
         std::to_string(distinct);
}

std::string check_output_file(std::string_view value) {
  if (has_nul(value)) return "expected a file path without NUL bytes, got " + quote(value);
  return {};
}

std::string check_rotate_bytes(uint64_t bytes) {
  if (bytes >= kRotateMin) return {};
  return "expected a size of at least " + std::to_string(kRotateMin) + " bytes, got " + format_size(bytes);
}

std::string check_rotate_keep(int64_t keep) {
  if (keep >= 1 && keep <= kKeepMax) return {};
  return "expected " + std::string(kKeepExpected) + ", got " + std::to_string(keep);
}

std::string check_pid(int64_t pid) {
  if (pid >= 1 && pid <= kPidMax) return {};
  return "expected " + std::string(kPidExpected) + ", got " + std::to_string(pid);
}

std::string check_comm(std::string_view comm) {
  if (!comm.empty() && comm.size() <= kCommMax && !has_nul(comm)) return {};
  return "expected a process name of 1 to " + std::to_string(kCommMax) + " bytes without NUL bytes, got " +
         (comm.empty() ? "\"\"" : quote_sized(comm));
}

std::string check_ring_buffer(uint64_t bytes) {
  if (bytes >= kRingMin && bytes <= kRingMax && (bytes & (bytes - 1)) == 0) return {};
  return "expected a power of two between 4 KiB and 1 GiB, got " + format_size(bytes);
}

std::string check_duration(double seconds) {
  if (std::isfinite(seconds) && seconds > 0 && seconds <= kDurationMax) return {};
  return "expected a duration greater than 0 and at most 8760h (365 days), got " + format_seconds(seconds);
}

std::string check_network_ports(size_t count) {
  if (count <= kNetworkPortsMax) return {};
  return fmt::format("expected at most {} ports, got {}", kNetworkPortsMax, count);
}

std::string check_binary_path(std::string_view path) {
  if (path.starts_with('/') && path.size() < WG_FILTER_PATH_MAX) return {};
  return fmt::format("expected an absolute executable path shorter than {} bytes, got \"{}\"",
                     WG_FILTER_PATH_MAX, path);
}

std::string check_container_id(std::string_view id) {
  bool hex =
      !id.empty() && id.size() <= 64 && id.find_first_not_of("0123456789abcdef") == std::string_view::npos;
  if (hex) return {};
  return fmt::format("expected a container id or a prefix of one (1 to 64 lowercase hex digits), got \"{}\"",
                     id);
}

std::string check_route_pattern(std::string_view pattern) {
  std::string error;
  if (protocols::RouteNamer::create({std::string(pattern)}, &error)) return {};
  return error;
}

std::string check_listen_address(std::string_view address) {
  std::string host, why;
  uint16_t port = 0;
  if (split_host_port(address, &host, &port, &why)) return {};
  return fmt::format("expected an IP address and a port (e.g. 127.0.0.1:9464 or [::1]:9464), got \"{}\": {}",
                     address, why);
}

uint64_t distinct_count(const std::vector<std::string>& values) {
  std::unordered_set<std::string_view> seen(values.begin(), values.end());
  return seen.size();
}

std::optional<LimitError> check_limits(const Config& config) {
  std::optional<LimitError> found;
  auto check = [&found](std::string path, std::string message) {
    if (!found && !message.empty()) found = LimitError{std::move(path), std::move(message)};
  };
  check("output.file", check_output_file(config.output.file));
  check("output.rotate.max_size", check_rotate_bytes(config.output.rotate_bytes));
  check("output.rotate.keep", check_rotate_keep(config.output.rotate_keep));
  auto check_list = [&](const std::string& path, const std::vector<std::string>& values,
                        std::string (*check_one)(std::string_view)) {
    for (size_t i = 0; i < values.size() && !found; i++) {
      check(path + "[" + std::to_string(i) + "]", check_one(values[i]));
    }
    check(path, check_filter_count(distinct_count(values)));
  };
  check_list("sensors.file.prefix", config.file_filter.prefix, check_prefix);
  check_list("sensors.file.exact", config.file_filter.exact, check_exact);
  check_list("sensors.file.suffix", config.file_filter.suffix, check_suffix);
  if (config.pid) check("select.pid", check_pid(*config.pid));
  if (config.comm) check("select.comm", check_comm(*config.comm));
  check("ring_buffer_size", check_ring_buffer(config.ring_buffer_bytes));
  if (config.duration_s) check("duration", check_duration(*config.duration_s));
  return found;
}

}  // namespace limits

std::string validate_limits(const Config& config) {
  auto error = limits::check_limits(config);
  return error ? error->path + ": " + error->message : std::string();
}

std::optional<uint64_t> parse_size(std::string_view text) {
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') digits++;
  if (digits == 0) return std::nullopt;
  uint64_t number = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + digits, number);
  if (ec != std::errc() || end != text.data() + digits) return std::nullopt;  // too large
  std::string_view unit = text.substr(digits);
  while (unit.starts_with(' ')) unit.remove_prefix(1);
  int shift;
  if (unit.empty() || unit == "B") {
    if (digits < text.size() && unit.empty()) return std::nullopt;  // trailing spaces alone
    shift = 0;
  } else if (unit == "K" || unit == "KiB") {
    shift = 10;
  } else if (unit == "M" || unit == "MiB") {
    shift = 20;
  } else if (unit == "G" || unit == "GiB") {
    shift = 30;
  } else {
    return std::nullopt;
  }
  if (number > (UINT64_MAX >> shift)) return std::nullopt;
  return number << shift;
}

std::optional<double> parse_duration(std::string_view text) {
  size_t i = 0;
  auto skip_digits = [&] {
    size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') i++;
    return i > start;
  };
  if (!skip_digits()) return std::nullopt;
  if (i < text.size() && text[i] == '.') {
    i++;
    if (!skip_digits()) return std::nullopt;
  }
  double number = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + i, number, std::chars_format::fixed);
  if (ec != std::errc() || end != text.data() + i || !std::isfinite(number)) return std::nullopt;
  std::string_view unit = text.substr(i);
  while (unit.starts_with(' ')) unit.remove_prefix(1);
  if (unit.empty()) {
    if (i < text.size()) return std::nullopt;  // trailing spaces alone
    return number;
  }
  if (unit == "ms") return number / 1000;
  if (unit == "s") return number;
  if (unit == "m") return number * 60;
  if (unit == "h") return number * 3600;
  return std::nullopt;
}

}  // namespace waggle
