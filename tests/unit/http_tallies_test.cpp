// The bounds the kernel buckets tallied durations by: each the largest whole ns that the
// metrics would put within the bound (a duration of d ns is observed as d / 1e9 seconds).
#include "sensors/network/http_tallies.hpp"

#include <gtest/gtest.h>

namespace waggle {
namespace {

TEST(HttpTallies, BoundsInNanosecondsSplitDurationsAsTheMetricsDo) {
  for (double bound : kHttpDurationBounds) {
    SCOPED_TRACE(bound);
    const uint64_t ns = http_bound_ns(bound);
    EXPECT_LE(double(ns) / 1e9, bound);
    EXPECT_GT(double(ns + 1) / 1e9, bound);
    EXPECT_NEAR(double(ns), bound * 1e9, 1);
  }
  // Bounds that are no whole number of ns.
  EXPECT_EQ(http_bound_ns(1.5e-9), 1u);
  EXPECT_EQ(http_bound_ns(0.9e-9), 0u);
  EXPECT_EQ(http_bound_ns(0), 0u);
}

}  // namespace
}  // namespace waggle
