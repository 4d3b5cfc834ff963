// The limits a configuration must respect, one check per value, shared by validate_limits
// (command line) and the YAML reader (which reports them at the offending node). Each check
// returns an empty string when the value is valid, else "expected ..., got ...". Internal
// to src/config.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace waggle::limits {

inline constexpr uint64_t kFilterValuesMax = 65536;  // entries of each filter map
inline constexpr int64_t kPidMax = 4194304;          // PID_MAX_LIMIT on 64-bit kernels
inline constexpr int64_t kKeepMax = 1000;
inline constexpr uint64_t kRingMin = 4096;
inline constexpr uint64_t kRingMax = 1ull << 30;
inline constexpr uint64_t kRotateMin = 4096;
inline constexpr double kDurationMax = 365.0 * 24 * 3600;

// What an integer field expects, for errors about values that are not integers at all.
inline constexpr std::string_view kPidExpected = "a process id (an integer between 1 and 4194304)";
inline constexpr std::string_view kKeepExpected = "an integer between 1 and 1000";

std::string check_prefix(std::string_view value);
std::string check_exact(std::string_view value);
std::string check_suffix(std::string_view value);
std::string check_filter_count(uint64_t distinct);  // distinct values of one kind
std::string check_output_file(std::string_view value);
std::string check_rotate_bytes(uint64_t bytes);
std::string check_rotate_keep(int64_t keep);
std::string check_pid(int64_t pid);
std::string check_comm(std::string_view comm);
std::string check_ring_buffer(uint64_t bytes);
std::string check_duration(double seconds);
inline constexpr size_t kNetworkPortsMax = 1024;  // entries of the network sensor's port map
std::string check_network_ports(size_t count);
std::string check_binary_path(std::string_view path);
std::string check_container_id(std::string_view id);
std::string check_route_pattern(std::string_view pattern);
std::string check_listen_address(std::string_view address);

// Distinct values among `values`: duplicates share one map entry.
uint64_t distinct_count(const std::vector<std::string>& values);

// The first limit a configuration breaks: the dotted path of the value at fault (as in the
// YAML file, e.g. "sensors.file.prefix[1]") and what is wrong with it.
struct LimitError {
  std::string path;
  std::string message;
};
std::optional<LimitError> check_limits(const Config& config);

}  // namespace waggle::limits
