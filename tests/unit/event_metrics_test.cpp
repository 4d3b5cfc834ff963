// Metrics derived from events: every HTTP exchange counted in the series of its own labels,
// also when the cache of recent series keeps only some of them.
#include "export/event_metrics.hpp"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace waggle {
namespace {

using Labels = std::vector<std::string>;

// Observations per series of a histogram family (the sum of its buckets).
std::map<Labels, uint64_t> counts_of(const metrics::Registry& registry, std::string_view family) {
  std::map<Labels, uint64_t> out;
  for (const metrics::FamilySnapshot& f : registry.collect()) {
    if (f.name != family) continue;
    for (const metrics::SeriesSnapshot& s : f.series) {
      uint64_t n = 0;
      for (uint64_t b : s.buckets) n += b;
      out[s.label_values] = n;
    }
  }
  return out;
}

ProcessRef process(const std::string& binary) {
  auto p = std::make_shared<ProcessInfo>();
  p->binary = binary;
  p->comm = "c";
  return p;
}

HttpEvent exchange(const ProcessRef& p, bool server, std::string method, std::string route, int status,
                   std::string address = "10.0.0.1", uint16_t port = 80) {
  HttpEvent e;
  e.process = p;
  e.server = server;
  e.method = std::move(method);
  e.route = std::move(route);
  e.status = status;
  e.duration_ns = 2'000'000;
  e.remote = {std::move(address), port};
  return e;
}

TEST(EventMetrics, CountsEachExchangeInItsOwnSeries) {
  metrics::Registry registry;
  EventMetrics m(registry);
  ProcessRef nginx = process("/usr/sbin/nginx"), curl = process("/usr/bin/curl");
  // More distinct label sets than the cache has slots, interleaved with ones that differ from
  // each other in one label only.
  const int kRoutes = 3000;
  for (int round = 0; round < 3; round++) {
    for (int i = 0; i < kRoutes; i++) {
      m.on_event(Event{exchange(nginx, true, "GET", "/r" + std::to_string(i), 200)});
      m.on_event(Event{exchange(nginx, true, "GET", "/same", 200)});
      m.on_event(Event{exchange(nginx, true, "POST", "/same", 200)});
      m.on_event(Event{exchange(nginx, true, "GET", "/same", 404)});
      m.on_event(Event{exchange(curl, true, "GET", "/same", 200)});
      m.on_event(Event{exchange(curl, false, "GET", "/same", 200)});
      m.on_event(Event{exchange(curl, false, "GET", "/same", 200, "10.0.0.2")});
      m.on_event(Event{exchange(curl, false, "GET", "/same", 200, "10.0.0.1", 81)});
    }
  }
  auto server = counts_of(registry, "http_server_request_duration_seconds");
  ASSERT_EQ(server.size(), size_t(kRoutes) + 4);
  for (int i = 0; i < kRoutes; i++)
    ASSERT_EQ((server[{"GET", "/r" + std::to_string(i), "200", "nginx", "nginx"}]), 3u) << i;
  EXPECT_EQ((server[{"GET", "/same", "200", "nginx", "nginx"}]), 3u * kRoutes);
  EXPECT_EQ((server[{"POST", "/same", "200", "nginx", "nginx"}]), 3u * kRoutes);
  EXPECT_EQ((server[{"GET", "/same", "404", "nginx", "nginx"}]), 3u * kRoutes);
  EXPECT_EQ((server[{"GET", "/same", "200", "curl", "curl"}]), 3u * kRoutes);
  auto client = counts_of(registry, "http_client_request_duration_seconds");
  ASSERT_EQ(client.size(), 3u);
  EXPECT_EQ((client[{"GET", "/same", "200", "curl", "curl", "10.0.0.1", "80"}]), 3u * kRoutes);
  EXPECT_EQ((client[{"GET", "/same", "200", "curl", "curl", "10.0.0.2", "80"}]), 3u * kRoutes);
  EXPECT_EQ((client[{"GET", "/same", "200", "curl", "curl", "10.0.0.1", "81"}]), 3u * kRoutes);
  // Every event counted by type.
  double events = 0;
  for (const metrics::FamilySnapshot& f : registry.collect())
    if (f.name == "waggle_events_total")
      for (const metrics::SeriesSnapshot& s : f.series)
        if (s.label_values == Labels{"http.request"}) events = s.value;
  EXPECT_EQ(events, 8.0 * 3 * kRoutes);
}

// An event that carries a tally stands for its exchanges: its buckets and sum added to its
// series, and its count to the events counted.
TEST(EventMetrics, ATallyAddsItsExchangesToItsSeries) {
  metrics::Registry registry;
  EventMetrics m(registry);
  ProcessRef nginx = process("/usr/sbin/nginx");
  m.on_event(Event{exchange(nginx, true, "GET", "/a", 200)});  // 2 ms: the first bucket
  HttpEvent e = exchange(nginx, true, "GET", "/a", 200);
  e.metrics_only = true;
  auto tally = std::make_shared<HttpTally>();
  tally->count = 7;
  tally->sum_ns = 3'500'000'000;
  tally->buckets[0] = 2;
  tally->buckets[5] = 4;                        // within 0.1 s
  tally->buckets[kHttpDurationBounds.size()] = 1;  // above 10 s
  e.tally = tally;
  m.on_event(Event{e});
  for (const metrics::FamilySnapshot& f : registry.collect()) {
    if (f.name == "http_server_request_duration_seconds") {
      ASSERT_EQ(f.series.size(), 1u);
      std::vector<uint64_t> expected(kHttpDurationBounds.size() + 1, 0);
      expected[0] = 3;
      expected[5] = 4;
      expected.back() = 1;
      EXPECT_EQ(f.series[0].buckets, expected);
      EXPECT_DOUBLE_EQ(f.series[0].sum, 0.002 + 3.5);
    } else if (f.name == "waggle_events_total") {
      ASSERT_EQ(f.series.size(), 1u);
      EXPECT_EQ(f.series[0].value, 8);
    }
  }
}

TEST(EventMetrics, CountsExchangesBeyondTheSeriesBoundAsDropped) {
  metrics::Registry registry(2);
  EventMetrics m(registry);
  ProcessRef nginx = process("/usr/sbin/nginx");
  for (int round = 0; round < 2; round++)
    for (const char* route : {"/a", "/b", "/c"}) m.on_event(Event{exchange(nginx, true, "GET", route, 200)});
  auto server = counts_of(registry, "http_server_request_duration_seconds");
  EXPECT_EQ(server.size(), 2u);
  EXPECT_EQ((server[{"GET", "/a", "200", "nginx", "nginx"}]), 2u);
  double dropped = 0;
  for (const metrics::FamilySnapshot& f : registry.collect())
    if (f.name == metrics::Registry::kDroppedName)
      for (const metrics::SeriesSnapshot& s : f.series)
        if (s.label_values == Labels{"http_server_request_duration_seconds"}) dropped = s.value;
  EXPECT_EQ(dropped, 2.0);  // both exchanges of /c
}

}  // namespace
}  // namespace waggle
