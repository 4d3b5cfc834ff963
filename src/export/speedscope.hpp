// A profile in speedscope's file format (https://www.speedscope.app/file-format-schema.json):
// open it at https://www.speedscope.app or with the speedscope CLI.
#pragma once

#include <string>

#include "core/profile.hpp"

namespace waggle {

// One "sampled" profile per process (comm and pid), named "comm (pid PID)", in the order of
// Profile::stacks(). shared.frames are the profile's frames, same indices, with the module as
// "file"; each sample is a stack of frame indices, outermost first. Weights are nanoseconds of CPU
// (samples * period_ns()), or plain sample counts (unit "none") when the frequency is unknown.
// Invalid UTF-8 in names becomes U+FFFD.
std::string render_speedscope(const Profile& profile);

}  // namespace waggle
