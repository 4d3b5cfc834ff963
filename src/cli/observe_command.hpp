// `waggle observe`: recent and live events of a running agent (its control socket), filtered
// like Hubble's observe: by type, process, container, port, HTTP status, policy verdict and
// text; in text or JSON; following with -f.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace waggle {

struct ObserveFilter {
  std::vector<std::string> types;  // event types, e.g. http.request (any of them)
  std::optional<uint32_t> pid;
  std::string process;    // comm, or the executable's file name
  std::string container;  // container id prefix
  std::optional<uint16_t> port;     // a local, remote or DNS server port
  std::optional<int> status;        // HTTP status
  std::string verdict;    // a policy match's outcome (logged, killed, denied, ...)
  std::string text;       // anywhere in the event's JSON
  // Whether `event` (its JSON line `line`) passes every filter given.
  bool matches(const nlohmann::json& event, const std::string& line) const;
};

struct ObserveOptions {
  ObserveFilter filter;
  std::string socket;
  bool follow = false;
  std::optional<double> since_s;  // only events of the last this many seconds
  std::optional<size_t> last;     // only the last N matching events already there
  bool json = false;
  double poll_s = 0.2;
};

// One line for a terminal: time, type, process, and what the event says.
std::string observe_text(const nlohmann::json& event);

int run_observe(const ObserveOptions& options);

}  // namespace waggle
