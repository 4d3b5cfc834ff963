// Network sensor: TCP connections (sock:inet_sock_set_state and accept), and HTTP/1.x and DNS
// from the data of socket reads and writes (syscall tracepoints).
#pragma once

#include "sensors/sensor.hpp"

namespace waggle {

SensorPlan plan_network_sensor(const KernelFeatures& features);
std::unique_ptr<Sensor> open_network_sensor(const SensorEnv& env, std::string* error);

}  // namespace waggle
