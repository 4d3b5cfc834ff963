// File sensor: open, openat, openat2 and creat, filtered in the kernel by path prefix,
// exact path and suffix.
#pragma once

#include "sensors/sensor.hpp"

namespace waggle {

SensorPlan plan_file_sensor(const KernelFeatures& features);
std::unique_ptr<Sensor> open_file_sensor(const SensorEnv& env, std::string* error);

}  // namespace waggle
