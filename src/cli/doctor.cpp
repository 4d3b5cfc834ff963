#include "cli/doctor.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sys/utsname.h>

#include "core/feature_probe.hpp"
#include "policy/policy_sensor.hpp"
#include "sensors/file/file_sensor.hpp"
#include "sensors/network/network_sensor.hpp"
#include "sensors/process/process_sensor.hpp"
#include "sensors/profile/sampler.hpp"
#include "xdp/xdp_support.hpp"

namespace waggle {

int run_doctor() {
  utsname uts{};
  uname(&uts);
  fmt::print("waggle doctor: Linux {} ({})\n\n", uts.release, uts.machine);
  KernelFeatures k = probe_kernel();
  fmt::print("{:<18} {:<4} {}\n", "FEATURE", "OK", "HOW IT WAS PROBED / WHY NOT");
  for (const Feature* f : k.all()) fmt::print("{:<18} {:<4} {}\n", f->name, f->ok ? "yes" : "no", f->detail);
  fmt::print("{:<18} {:<4} {}\n", "lockdown", "-", k.lockdown);
  std::string caps;
  for (const auto& [name, held] : k.capabilities)
    caps += fmt::format("{}{}={}", caps.empty() ? "" : " ", name, held ? "yes" : "no");
  fmt::print("{:<18} {:<4} {}\n\n", "capabilities", "-", caps);

  fmt::print("{:<10} {:<9} {}\n", "SENSOR", "STATUS", "HOOK / REASON");
  int ready = 0;
  const std::pair<const char*, SensorPlan> sensors[] = {{"process", plan_process_sensor(k)},
                                                        {"file", plan_file_sensor(k)},
                                                        {"network", plan_network_sensor(k)}};
  for (const auto& [name, plan] : sensors) {
    fmt::print("{:<10} {:<9} {}\n", name, plan.can_run ? "ready" : "disabled",
               plan.can_run ? plan.hook : plan.reason);
    ready += plan.can_run;
  }
  // Policies are not a sensor the agent needs to run, but users want to know before applying.
  // Nor is the profiler: `waggle profile`, and its endpoint in `waggle run`.
  const std::pair<const char*, SensorPlan> optional[] = {{"policy", plan_policy_sensor(k)},
                                                         {"profiler", plan_profiler(k)},
                                                         {"off-cpu", plan_offcpu_profiler(k)}};
  for (const auto& [name, plan] : optional)
    fmt::print("{:<10} {:<9} {}\n", name, plan.can_run ? "ready" : "disabled", plan.can_run ? plan.hook : plan.reason);
  // Packet rules: where they would run in the driver (asked of the kernel, nothing attached).
  std::string why;
  std::vector<XdpInterfaceSupport> interfaces = xdp_interface_support(&why);
  if (!k.xdp.ok) {
    fmt::print("{:<10} {:<9} {}\n", "xdp", "disabled", k.xdp.detail);
  } else if (interfaces.empty()) {
    fmt::print("{:<10} {:<9} {}\n", "xdp", "ready", why.empty() ? "no interface" : why);
  } else {
    std::vector<std::string> native, generic;
    for (const XdpInterfaceSupport& i : interfaces) (i.native ? native : generic).push_back(i.name);
    fmt::print("{:<10} {:<9} native XDP on: {}; generic mode only on: {}\n", "xdp", "ready",
               native.empty() ? "none" : fmt::format("{}", fmt::join(native, ", ")),
               generic.empty() ? "none" : fmt::format("{}", fmt::join(generic, ", ")));
  }
  // What puts the whole host on the syscall tracing path.
  fmt::print("\n{:<10} {}\n", "SENSOR", "SYSCALL TRACEPOINTS (while one is attached, every syscall takes the kernel's "
                                        "slower tracing path)");
  auto syscalls_of = [](const SensorPlan& p) { return p.syscalls.empty() ? std::string("none") : p.syscalls; };
  for (const auto& [name, plan] : sensors) fmt::print("{:<10} {}\n", name, syscalls_of(plan));
  for (const auto& [name, plan] : optional) fmt::print("{:<10} {}\n", name, syscalls_of(plan));
  bool ok = k.can_load_bpf() && ready > 0;
  fmt::print("\n{}\n",
             ok ? fmt::format("the agent can run: {} of {} sensors ready", ready, std::size(sensors))
                : std::string("the agent cannot run here"));
  return ok ? 0 : 1;
}

}  // namespace waggle
