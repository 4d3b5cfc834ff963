// Process sensor: exec, exit and fork from the sched tracepoints, feeding the process cache.
#pragma once

#include "sensors/sensor.hpp"

namespace waggle {

SensorPlan plan_process_sensor(const KernelFeatures& features);
std::unique_ptr<Sensor> open_process_sensor(const SensorEnv& env, std::string* error);

// Splits argv as laid out in memory ("a\0b\0"): every NUL ends an argument. A last piece
// without its NUL (cut by the size limit) is kept.
std::vector<std::string> split_args(std::string_view raw);

// Splits a wait status into exit code, or signal and core dump flag.
void decode_exit_status(int status, ExitEvent& event);

}  // namespace waggle
