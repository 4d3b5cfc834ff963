// `waggle profile`: samples the CPU for a while and writes one profile.
#pragma once

#include <string>

#include "sensors/profile/sampler.hpp"

namespace waggle {

struct ProfileCommand {
  SamplerOptions sampler;
  double duration_s = 10;
  std::vector<std::string> containers;  // container ids (or unique prefixes)
  std::string format = "folded";        // folded | pprof | svg | speedscope
  std::string output;                   // file; empty: standard output
  std::string debug_root = "/usr/lib/debug";
  bool per_pid = false;                 // one root frame per process, not per command name
  bool stats = false;                   // what the profiler did, on standard error
};

// The cgroup ids of a container: every cgroup under the cgroup2 mount whose name holds the
// id. Empty with *error when there is none.
std::vector<uint64_t> container_cgroups(const std::string& id, std::string* error);

int run_profile(ProfileCommand command);

}  // namespace waggle
