// The agent's run loop: opens the configured sensors, drains the ring into the exporter
// until a signal or the duration ends, then detaches everything and reports what was lost.
#pragma once

#include <set>
#include <string>

#include "config/config.hpp"
#include "policy/policy.hpp"

namespace waggle {

struct AgentOptions {
  Config config;
  // Event types written out ("process.exec", "process.exit", "file.open"); the other
  // sensors' records still feed the process cache.
  std::set<std::string, std::less<>> shown;  // looked up by name without a copy
  // `trace` stops when the sensor behind its events cannot start; `run` carries on with the
  // sensors it has (one missing feature never stops the whole agent).
  bool require_shown_sensors = false;
  // Policies to enforce (already validated and compiled once by the caller).
  std::vector<Policy> policies;
  // Where `waggle policy apply|delete|list` reach this agent (empty: nowhere), and the
  // directory that keeps the policies applied that way.
  std::string control_socket;
  std::string policy_dir;
};

// Returns the process exit status.
int run_agent(const AgentOptions& options);

}  // namespace waggle
