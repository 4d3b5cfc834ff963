// speedscope's file format: shared frames, one sampled profile per process, weights.
#include <gtest/gtest.h>

#include "sample_profile.hpp"

#include <nlohmann/json.hpp>

#include "export/speedscope.hpp"

namespace waggle {
namespace {

using nlohmann::json;

Profile sample_profile() { return test::sample_profile(); }

TEST(SpeedscopeExport, SharedFramesAndOneSampledProfilePerProcess) {
  Profile p = sample_profile();
  p.frequency_hz = 100;  // 10 ms a sample
  json doc = json::parse(render_speedscope(p));
  EXPECT_EQ(doc["$schema"], "https://www.speedscope.app/file-format-schema.json");
  EXPECT_EQ(doc["activeProfileIndex"], 0);
  EXPECT_EQ(doc["shared"]["frames"], json::parse(R"([
    {"name": "main", "file": "/bin/app"},
    {"name": "work", "file": "/bin/app"},
    {"name": "do_syscall_64", "file": "[kernel.kallsyms]"},
    {"name": "LazyCompile:foo", "file": "[jit]"},
    {"name": "app+0x1234", "file": "/bin/app"}])"));
  EXPECT_EQ(doc["profiles"], json::parse(R"j([
    {"type": "sampled", "name": "app (pid 10)", "unit": "nanoseconds", "startValue": 0,
     "endValue": 40000000, "samples": [[0, 1], [0, 2]], "weights": [30000000, 10000000]},
    {"type": "sampled", "name": "app (pid 11)", "unit": "nanoseconds", "startValue": 0,
     "endValue": 20000000, "samples": [[0, 1]], "weights": [20000000]},
    {"type": "sampled", "name": "node (pid 12)", "unit": "nanoseconds", "startValue": 0,
     "endValue": 40000000, "samples": [[0, 3, 4]], "weights": [40000000]}])j"));
}

TEST(SpeedscopeExport, WithoutAFrequencyWeightsAreSampleCounts) {
  Profile p = sample_profile();
  p.frequency_hz = 0;
  json doc = json::parse(render_speedscope(p));
  ASSERT_EQ(doc["profiles"].size(), 3u);
  EXPECT_EQ(doc["profiles"][0]["unit"], "none");
  EXPECT_EQ(doc["profiles"][0]["weights"], json::parse("[3, 1]"));
  EXPECT_EQ(doc["profiles"][0]["endValue"], 4);
  EXPECT_EQ(doc["profiles"][2]["weights"], json::parse("[4]"));
}

TEST(SpeedscopeExport, OddNamesStayValidJson) {
  Profile p;
  uint32_t f = p.intern({"quote\" back\\slash\n\xff", "", FrameKind::kUser});
  uint32_t empty = p.intern({"", "/bin/x", FrameKind::kUser});
  uint32_t stack[] = {f, empty};
  p.add("", 7, stack, 1);
  json doc = json::parse(render_speedscope(p));
  EXPECT_EQ(
      doc["shared"]["frames"],
      json::parse(R"([{"name": "quote\" back\\slash\n\ufffd"}, {"name": "[unknown]", "file": "/bin/x"}])"));
  EXPECT_EQ(doc["profiles"][0]["name"], "[unknown] (pid 7)");
}

TEST(SpeedscopeExport, EmptyProfileHasNoProfiles) {
  json doc = json::parse(render_speedscope(Profile{}));
  EXPECT_EQ(doc["profiles"], json::array());
  EXPECT_EQ(doc["shared"]["frames"], json::array());
}

}  // namespace
}  // namespace waggle
