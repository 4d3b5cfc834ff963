// A self-contained, interactive SVG flame graph of a profile, drawn by waggle itself (no
// flamegraph.pl): open it in a browser.
#pragma once

#include <string>

#include "core/profile.hpp"

namespace waggle {

struct FlameGraphOptions {
  std::string title = "waggle profile";
  int width = 1200;      // of the image, in pixels
  bool per_pid = false;  // root frames "comm-PID" rather than one per comm
};

// Root at the bottom: one frame per process (its comm, or "comm-PID" with per_pid), then the
// stack outermost first, leaf on top; a frame's width is proportional to its samples. Frames
// narrower than 0.1% of the width are left out (their samples still count in their parents).
//
// Every frame is a <g class="frame"> with data-name, data-module, data-kind (process, user,
// kernel, jit, unknown), data-samples, data-depth and data-offset (samples to its left), holding
// a <rect>, a <title> and a <text>. Embedded JavaScript: hovering shows a frame's details in
// #details; a click zooms into it (#unzoom resets); #search prompts for a regular expression, and
// frames whose name matches gain class "match" and the search colour, with the share of samples
// they cover in #matched. A URL hash "#search=REGEX" or query "?s=REGEX" (percent-encoded)
// searches at load time.
std::string render_flamegraph_svg(const Profile& profile, const FlameGraphOptions& options = {});

}  // namespace waggle
