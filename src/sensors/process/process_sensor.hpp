// Process sensor: exec, exit and fork from the sched tracepoints, feeding the process cache.
#pragma once

#include "sensors/sensor.hpp"

namespace waggle {

SensorPlan plan_process_sensor(const KernelFeatures& features);
std::unique_ptr<Sensor> open_process_sensor(const SensorEnv& env, std::string* error);

// Splits a wait status into exit code, or signal and core dump flag.
void decode_exit_status(int status, ExitEvent& event);

}  // namespace waggle
