#include "export/speedscope.hpp"

#include <nlohmann/json.hpp>

namespace waggle {

std::string render_speedscope(const Profile& profile) {
  using nlohmann::json;
  const int64_t period = profile.period_ns();
  const bool timed = period > 0;

  json frames = json::array();
  for (const ProfileFrame& f : profile.frames()) {
    json frame = {{"name", f.function.empty() ? "[unknown]" : f.function}};
    if (!f.module.empty()) frame["file"] = f.module;
    frames.push_back(std::move(frame));
  }

  json profiles = json::array();
  const std::string* process = nullptr;
  uint32_t pid = 0;
  json* current = nullptr;
  uint64_t end = 0;
  auto finish = [&] {
    if (current) (*current)["endValue"] = end;
  };
  const auto stacks = profile.stacks();
  for (const ProfileStack& s : stacks) {
    if (!current || *process != s.process || pid != s.pid) {
      finish();
      process = &s.process;
      pid = s.pid;
      end = 0;
      std::string comm = s.process.empty() ? "[unknown]" : s.process;
      profiles.push_back({{"type", "sampled"},
                          {"name", comm + " (pid " + std::to_string(s.pid) + ")"},
                          {"unit", timed ? "nanoseconds" : "none"},
                          {"startValue", 0},
                          {"endValue", 0},
                          {"samples", json::array()},
                          {"weights", json::array()}});
      current = &profiles.back();
    }
    const uint64_t weight = timed ? s.samples * uint64_t(period) : s.samples;
    (*current)["samples"].push_back(s.frames);
    (*current)["weights"].push_back(weight);
    end += weight;
  }
  finish();

  json doc = {{"$schema", "https://www.speedscope.app/file-format-schema.json"},
              {"exporter", "waggle"},
              {"name", "waggle profile"},
              {"activeProfileIndex", 0},
              {"shared", {{"frames", std::move(frames)}}},
              {"profiles", std::move(profiles)}};
  return doc.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace waggle
