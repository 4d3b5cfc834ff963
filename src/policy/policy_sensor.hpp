// Enforcement of policies in the kernel: loads the file policy programs with the compiled
// rules, keeps the executable of every process for the binary selectors, and turns the
// kernel's match records into policy events.
#pragma once

#include <functional>
#include <vector>

#include "policy/policy.hpp"
#include "sensors/sensor.hpp"

namespace waggle {

SensorPlan plan_policy_sensor(const KernelFeatures& features);
// The enforcer, with these policies in force (possibly none).
std::unique_ptr<Sensor> open_policy_sensor(const SensorEnv& env, const std::vector<Policy>& policies,
                                           std::string* error);

// Puts `policies` in force on the enforcer made by open_policy_sensor, in place of the set in
// force: the new set is attached before the old one is detached, so that no event goes
// unjudged. On failure the old set stays in force. Records of the old set still in the ring
// decode as before; call release_replaced_policies once the ring has been drained.
// `between` runs between the slow steps of loading the new set (drain the ring there).
bool replace_policies(Sensor& enforcer, const std::vector<Policy>& policies,
                      const std::function<void()>& between, std::string* error);
void release_replaced_policies(Sensor& enforcer);

// How often each rule in force has matched, counted in the kernel ("policy/rule", count):
// the metric of `count` rules, and of every other.
std::vector<std::pair<std::string, uint64_t>> policy_rule_hits(const Sensor& enforcer);

}  // namespace waggle
