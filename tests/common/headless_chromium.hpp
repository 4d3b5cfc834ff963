// Debian's Chromium, headless, for the tests that look at pages in a real browser (the flame
// graph's SVG, the web UI), and where the screenshots they take are kept.
#pragma once

#include <filesystem>
#include <string>

namespace waggle::test {

inline constexpr const char* kChromium = "/usr/bin/chromium";

// Runs Chromium headless on `url` with `args` (e.g. "--dump-dom --virtual-time-budget=3000"),
// its profile and log under `work_dir` (named after `profile`); returns its standard output.
std::string chromium(const std::filesystem::path& work_dir, const std::string& profile, const std::string& args,
                     const std::string& url);

// Where screenshots stay for people to look at: $WAGGLE_ARTIFACTS, else the build directory's
// artifacts/ (the current directory's when built by hand).
std::filesystem::path artifact_dir();

}  // namespace waggle::test
