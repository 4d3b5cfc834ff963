// A profile as pprof's profile.proto (github.com/google/pprof/proto/profile.proto), gzipped:
// the file `go tool pprof`, Parca and Pyroscope read.
#pragma once

#include <string>

#include "core/profile.hpp"

namespace waggle {

// Two sample types, samples/count and cpu/nanoseconds (samples * period_ns(); the last one, so
// pprof shows it by default), period cpu/nanoseconds = period_ns(), time and duration from the
// profile. One Sample per (process, pid, stack) with the labels process (comm) and pid (a
// numeric label; pprof's decoder drops a numeric label of 0, so the idle task shows only its
// process label). One Mapping per module (a kernel frame without one: [kernel.kallsyms]), one
// Function per (name, module), one Location per frame, leaf first in each Sample. Frames carry
// no address (a Profile has none), so mappings are marked as already symbolized: pprof must not
// try to re-symbolize them. Throws std::bad_alloc if zlib runs out of memory.
std::string render_pprof(const Profile& profile);

}  // namespace waggle
