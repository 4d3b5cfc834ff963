// Security policies: what a policy file says, once read and validated. The kernel-side
// representation (maps of rule bitmaps) is built from this by the policy compiler.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/net_values.hpp"

namespace waggle {

enum class PolicyMode { kEnforce, kMonitor };
enum class RuleEvent { kFileOpen, kProcessExec, kNetworkConnect, kNetworkAccept };
enum class RuleAction { kLog, kKill, kDeny, kCount };

// `in` or `notIn` of binaries or cgroup paths. A binary value written with a trailing '*' is a
// prefix (stored here without the '*').
struct StringSetSelector {
  bool negate = false;  // notIn
  std::vector<std::string> exact;
  std::vector<std::string> prefix;
};

struct IdSetSelector {
  bool negate = false;  // notIn
  std::vector<uint32_t> ids;
};

struct PathSelector {
  std::vector<std::string> prefix;
  std::vector<std::string> exact;
  std::vector<std::string> suffix;
};

struct DestinationSelector {
  bool negate = false;  // notCidr
  std::vector<Cidr> cidrs;
};

struct Rule {
  std::string name;  // given, or "rule-N" (1-based position)
  RuleEvent on = RuleEvent::kFileOpen;
  RuleAction action = RuleAction::kLog;
  std::optional<PathSelector> path;
  std::optional<StringSetSelector> binary;
  std::optional<StringSetSelector> parent_binary;
  std::optional<IdSetSelector> uid;
  std::optional<IdSetSelector> gid;
  std::optional<StringSetSelector> cgroup;     // exact cgroup v2 paths, e.g. "/system.slice/x.service"
  std::optional<StringSetSelector> args;       // process.exec: exact argument values (any argument)
  std::optional<StringSetSelector> container;  // container ids or prefixes of them (in `exact`)
  // The peer: a connect's destination, or where an inbound connection comes from (`source`).
  std::optional<DestinationSelector> destination;
  std::vector<PortRange> ports;  // empty: any port; inbound: the local port
  bool tcp = true, udp = true;   // protocol selector; both when not given
  double rate_limit_per_s = 0;   // events a rule posts (not count); 0: no limit
  uint32_t rate_window_s = 1;    // as written: N/s (1) or N/m (60)
};

struct Policy {
  std::string name;
  PolicyMode mode = PolicyMode::kEnforce;
  std::vector<Rule> rules;
  std::string source;  // the file it came from, for messages
};

// The names policies use: "file.open", "kill", ...
std::string_view event_name(RuleEvent event);
std::string_view action_name(RuleAction action);

// Host-wide limits, enforced with an error (never by truncation).
inline constexpr size_t kMaxRulesPerHost = 64;
inline constexpr size_t kMaxValuesPerSelector = 65536;
inline constexpr size_t kMaxPolicyName = 63;

// Reads and validates one policy. On error returns nothing and sets *error to
// "FILE:LINE:COLUMN: what was wrong and what was expected".
std::optional<Policy> load_policy(const std::string& path, std::string* error);
std::optional<Policy> parse_policy(const std::string& yaml, const std::string& name, std::string* error);

// Checks what holds across the policies in force together: unique names, at most
// kMaxRulesPerHost rules. Returns an empty string when valid.
std::string check_policy_set(const std::vector<Policy>& policies);

}  // namespace waggle
