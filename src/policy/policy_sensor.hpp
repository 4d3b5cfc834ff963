// Enforcement of policies in the kernel: loads the file policy programs with the compiled
// rules, keeps the executable of every process for the binary selectors, and turns the
// kernel's match records into policy events.
#pragma once

#include <vector>

#include "policy/policy.hpp"
#include "sensors/sensor.hpp"

namespace waggle {

SensorPlan plan_policy_sensor(const KernelFeatures& features);
std::unique_ptr<Sensor> open_policy_sensor(const SensorEnv& env, const std::vector<Policy>& policies,
                                           std::string* error);

}  // namespace waggle
