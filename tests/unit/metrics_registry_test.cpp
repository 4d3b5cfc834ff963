#include "export/metrics_registry.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "core/events.hpp"
#include "export/prometheus_text.hpp"

namespace waggle::metrics {

using waggle::kHttpDurationBounds;
namespace {

using Labels = std::vector<std::string>;

const FamilySnapshot* find_family(const std::vector<FamilySnapshot>& families, std::string_view name) {
  for (const FamilySnapshot& f : families) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

// The value of one series of a counter or gauge family in a fresh collect(); NaN when absent.
double value_of(const Registry& registry, std::string_view family, const Labels& labels) {
  const auto families = registry.collect();
  const FamilySnapshot* f = find_family(families, family);
  if (f == nullptr) return std::nan("");
  for (const SeriesSnapshot& s : f->series) {
    if (s.label_values == labels) return s.value;
  }
  return std::nan("");
}

TEST(MetricsRegistry, CreatesSeriesOnFirstUpdate) {
  Registry registry;
  std::string error;
  Counter* c = registry.counter("requests_total", "Requests.", {"method", "code"}, &error);
  ASSERT_NE(c, nullptr) << error;
  EXPECT_EQ(c->series_count(), 0u);
  c->add({"GET", "200"});
  c->add({"GET", "200"}, 2);
  c->add({"POST", "500"}, 0.5);
  EXPECT_EQ(c->series_count(), 2u);
  EXPECT_EQ(value_of(registry, "requests_total", {"GET", "200"}), 3);
  EXPECT_EQ(value_of(registry, "requests_total", {"POST", "500"}), 0.5);

  // Label values from the caller's own storage.
  const std::string method = "GET";
  const std::string_view values[] = {method, "200"};
  c->add(values, 1);
  EXPECT_EQ(value_of(registry, "requests_total", {"GET", "200"}), 4);
}

TEST(MetricsRegistry, CounterIgnoresNegativeAndNaN) {
  Registry registry;
  Counter* c = registry.counter("c_total", "C.", {});
  ASSERT_NE(c, nullptr);
  c->add({}, 5);
  c->add({}, -1);
  c->add({}, std::nan(""));
  EXPECT_EQ(value_of(registry, "c_total", {}), 5);
}

TEST(MetricsRegistry, FamilyWithoutLabelsHasItsSeriesFromTheStart) {
  Registry registry;
  ASSERT_NE(registry.counter("idle_total", "Never updated.", {}), nullptr);
  ASSERT_NE(registry.counter("labelled_total", "Never updated.", {"x"}), nullptr);
  const auto families = registry.collect();
  const FamilySnapshot* idle = find_family(families, "idle_total");
  ASSERT_NE(idle, nullptr);
  ASSERT_EQ(idle->series.size(), 1u);
  EXPECT_EQ(idle->series[0].value, 0);
  EXPECT_EQ(find_family(families, "labelled_total"), nullptr);  // no series: left out
}

TEST(MetricsRegistry, GaugeSetAndAdd) {
  Registry registry;
  Gauge* g = registry.gauge("queue_depth", "Depth.", {"queue"});
  ASSERT_NE(g, nullptr);
  g->set({"a"}, 10);
  g->add({"a"}, -2.5);
  g->add({"b"}, 1);
  EXPECT_EQ(value_of(registry, "queue_depth", {"a"}), 7.5);
  EXPECT_EQ(value_of(registry, "queue_depth", {"b"}), 1);
}

TEST(MetricsRegistry, HistogramBuckets) {
  Registry registry;
  const double bounds[] = {0.1, 1, 10};
  Histogram* h = registry.histogram("d_seconds", "D.", {"route"}, bounds);
  ASSERT_NE(h, nullptr);
  for (double v : {0.05, 0.1, 0.5, 1.0, 9.0, 11.0, 1e9}) h->observe({"/x"}, v);
  h->observe({"/x"}, std::nan(""));  // ignored
  const auto families = registry.collect();
  const FamilySnapshot* f = find_family(families, "d_seconds");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->type, Type::kHistogram);
  EXPECT_EQ(f->bounds, (std::vector<double>{0.1, 1, 10}));
  ASSERT_EQ(f->series.size(), 1u);
  // A value equal to a bound belongs to that bound's bucket (le: less or equal).
  EXPECT_EQ(f->series[0].buckets, (std::vector<uint64_t>{2, 2, 1, 2}));
  EXPECT_DOUBLE_EQ(f->series[0].sum, 0.05 + 0.1 + 0.5 + 1.0 + 9.0 + 11.0 + 1e9);
}

TEST(MetricsRegistry, HistogramBoundsAreValidated) {
  Registry registry;
  std::string error;
  const double inf = std::numeric_limits<double>::infinity();
  const double with_inf[] = {1, 2, inf};
  Histogram* h = registry.histogram("h1", "H.", {}, with_inf, &error);
  ASSERT_NE(h, nullptr) << error;
  EXPECT_EQ(h->bounds(), (std::vector<double>{1, 2}));  // +Inf is implied

  const double decreasing[] = {1, 0.5};
  EXPECT_EQ(registry.histogram("h2", "H.", {}, decreasing, &error), nullptr);
  EXPECT_EQ(error, "metric family \"h2\": bucket bounds must be finite and increasing");
  const double repeated[] = {1, 1};
  EXPECT_EQ(registry.histogram("h3", "H.", {}, repeated, &error), nullptr);
  const double nan[] = {std::nan("")};
  EXPECT_EQ(registry.histogram("h4", "H.", {}, nan, &error), nullptr);
  EXPECT_NE(registry.histogram("h5", "No bounds: only +Inf.", {}, std::span<const double>(), &error),
            nullptr);
  EXPECT_NE(registry.histogram("h6", "Default.", {}, kHttpDurationBounds, &error), nullptr);
}

TEST(MetricsRegistry, SameShapeReturnsSameFamilyOtherShapeIsAnError) {
  Registry registry;
  std::string error;
  Counter* a = registry.counter("x_total", "X.", {"a", "b"}, &error);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(registry.counter("x_total", "X.", {"a", "b"}, &error), a);

  EXPECT_EQ(registry.counter("x_total", "X.", {"b", "a"}, &error), nullptr);
  EXPECT_EQ(error,
            "metric family \"x_total\": already registered with another type, help, label names or buckets");
  EXPECT_EQ(registry.counter("x_total", "Other help.", {"a", "b"}, &error), nullptr);
  EXPECT_EQ(registry.gauge("x_total", "X.", {"a", "b"}, &error), nullptr);

  const double b1[] = {1, 2};
  const double b2[] = {1, 3};
  Histogram* h = registry.histogram("y", "Y.", {}, b1, &error);
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(registry.histogram("y", "Y.", {}, b1, &error), h);
  EXPECT_EQ(registry.histogram("y", "Y.", {}, b2, &error), nullptr);
}

TEST(MetricsRegistry, HistogramSeriesNamesCannotBeTaken) {
  Registry registry;
  std::string error;
  ASSERT_NE(registry.histogram("lat", "L.", {}, kHttpDurationBounds, &error), nullptr);
  EXPECT_EQ(registry.counter("lat_count", "C.", {}, &error), nullptr);
  EXPECT_EQ(error, "metric family \"lat_count\": clashes with the series of histogram \"lat\"");
  EXPECT_EQ(registry.gauge("lat_bucket", "B.", {}, &error), nullptr);
  ASSERT_NE(registry.counter("size_sum", "S.", {}, &error), nullptr);
  EXPECT_EQ(registry.histogram("size", "S.", {}, kHttpDurationBounds, &error), nullptr);
  EXPECT_EQ(error, "metric family \"size\": clashes with the series of histogram \"size\"");
}

TEST(MetricsRegistry, NamesFollowPrometheusRules) {
  for (std::string_view ok : {"a", "_a", "a:b", ":a", "http_server_request_duration_seconds", "A9_:"}) {
    EXPECT_TRUE(valid_metric_name(ok)) << ok;
  }
  for (std::string_view bad : {"", "9a", "a-b", "a b", "a.b", "é"})
    EXPECT_FALSE(valid_metric_name(bad)) << bad;
  for (std::string_view ok : {"a", "_a", "service_name", "A9"}) EXPECT_TRUE(valid_label_name(ok)) << ok;
  for (std::string_view bad : {"", "9a", "a:b", "__name__", "__x", "a-b"}) {
    EXPECT_FALSE(valid_label_name(bad)) << bad;
  }

  Registry registry;
  std::string error;
  EXPECT_EQ(registry.counter("bad-name", "X.", {}, &error), nullptr);
  EXPECT_EQ(error, "metric family \"bad-name\": invalid name");
  EXPECT_EQ(registry.counter("x", "X.", {"ok", "__reserved"}, &error), nullptr);
  EXPECT_EQ(error, "metric family \"x\": invalid label name \"__reserved\"");
  EXPECT_EQ(registry.counter("x", "X.", {"a", "a"}, &error), nullptr);
  EXPECT_EQ(error, "metric family \"x\": label name \"a\" given twice");
  EXPECT_EQ(registry.histogram("x", "X.", {"le"}, kHttpDurationBounds, &error), nullptr);
  EXPECT_EQ(error, "metric family \"x\": a histogram cannot have label \"le\"");
  EXPECT_NE(registry.counter("x", "X.", {"le"}, &error), nullptr);  // only histograms reserve it
}

TEST(MetricsRegistry, SeriesBeyondTheBoundAreCountedAsDropped) {
  Registry registry(2);
  EXPECT_EQ(registry.max_series_per_family(), 2u);
  Counter* c = registry.counter("c_total", "C.", {"k"});
  Histogram* h = registry.histogram("h", "H.", {"k", "l"}, kHttpDurationBounds);
  ASSERT_NE(c, nullptr);
  ASSERT_NE(h, nullptr);
  c->add({"a"});
  c->add({"b"});
  c->add({"c"}, 5);  // a third series: dropped
  c->add({"c"});
  c->add({"a"});  // existing series still update
  EXPECT_EQ(c->series_count(), 2u);
  h->observe({"x", "y"}, 1);
  h->observe({"only one value"}, 1);  // wrong number of label values: dropped too
  h->observe({"x", "y", "z"}, 1);

  EXPECT_EQ(value_of(registry, "c_total", {"a"}), 2);
  EXPECT_TRUE(std::isnan(value_of(registry, "c_total", {"c"})));          // never created
  EXPECT_EQ(value_of(registry, Registry::kDroppedName, {"c_total"}), 2);  // updates, not their amounts
  EXPECT_EQ(value_of(registry, Registry::kDroppedName, {"h"}), 2);
}

// Observations counted elsewhere are added bucket by bucket; a wrong number of buckets drops
// them all (each counted as dropped).
TEST(MetricsRegistry, AHistogramSeriesTakesObservationsCountedElsewhere) {
  Registry registry;
  Histogram* h = registry.histogram("h", "H.", {}, std::array<double, 2>{1, 2});
  ASSERT_NE(h, nullptr);
  HistogramSeries s = h->series({});
  s.observe(1.5);
  const uint64_t counts[] = {4, 0, 2};
  s.add(counts, 9.5);
  const uint64_t too_few[] = {1, 2};
  s.add(too_few, 1);
  bool seen = false;
  for (const FamilySnapshot& f : registry.collect()) {
    if (f.name != "h") continue;
    seen = true;
    ASSERT_EQ(f.series.size(), 1u);
    EXPECT_EQ(f.series[0].buckets, (std::vector<uint64_t>{4, 1, 2}));
    EXPECT_DOUBLE_EQ(f.series[0].sum, 11);
  }
  EXPECT_TRUE(seen);
  EXPECT_EQ(value_of(registry, Registry::kDroppedName, {"h"}), 3);
}

TEST(MetricsRegistry, SeriesHandlesUpdateTheirSeriesAndCountDropsOncePerUpdate) {
  Registry registry(1);
  Counter* c = registry.counter("c_total", "C.", {"k"});
  Histogram* h = registry.histogram("h", "H.", {"k"}, kHttpDurationBounds);
  ASSERT_NE(c, nullptr);
  ASSERT_NE(h, nullptr);
  const std::string_view a = "a", b = "b";
  CounterSeries ca = c->series(LabelValues(&a, 1));
  ca.add();
  ca.add(2);
  ca.add(-1);  // a counter only goes up
  c->add({"a"});
  EXPECT_EQ(value_of(registry, "c_total", {"a"}), 4);
  CounterSeries cb = c->series(LabelValues(&b, 1));  // the family is full: an empty handle
  cb.add();
  cb.add(7);
  EXPECT_EQ(c->series_count(), 1u);
  EXPECT_EQ(value_of(registry, Registry::kDroppedName, {"c_total"}), 2);  // its updates, not the lookup
  HistogramSeries ha = h->series(LabelValues(&a, 1));
  ha.observe(0.007);
  ha.observe(std::nan(""));  // ignored
  h->observe({"a"}, 20);
  HistogramSeries hb = h->series(LabelValues(&b, 1));
  hb.observe(1);
  const auto families = registry.collect();
  const FamilySnapshot* hf = find_family(families, "h");
  ASSERT_NE(hf, nullptr);
  ASSERT_EQ(hf->series.size(), 1u);
  const SeriesSnapshot& s = hf->series[0];
  EXPECT_EQ(s.buckets[1], 1u);  // 0.007 in (0.005, 0.01]
  EXPECT_EQ(s.buckets.back(), 1u);  // 20 past the last bound
  EXPECT_EQ(s.sum, 20.007);
  EXPECT_EQ(value_of(registry, Registry::kDroppedName, {"h"}), 1);
  CounterSeries{}.add();  // a default handle belongs to no family: nothing happens
  HistogramSeries{}.observe(1);
}

TEST(MetricsRegistry, CollectorsEmitFamiliesAtRenderTime) {
  Registry registry;
  ASSERT_NE(registry.counter("m_registered_total", "R.", {}), nullptr);
  int runs = 0;
  registry.add_collector([&runs](Collector& c) {
    ++runs;
    auto& programs = c.counter("waggle_bpf_program_runs_total", "Runs.", {"program"});
    programs.sample({"exec"}, 7);
    programs.sample({"open"}, 3);
    c.gauge("a_gauge", "G.").sample({}, -1);
  });
  const auto families = registry.collect();
  EXPECT_EQ(runs, 1);
  ASSERT_EQ(families.size(), 3u);
  EXPECT_EQ(families[0].name, "a_gauge");  // sorted by name, collected and registered alike
  EXPECT_EQ(families[0].type, Type::kGauge);
  EXPECT_EQ(families[1].name, "m_registered_total");
  EXPECT_EQ(families[2].name, "waggle_bpf_program_runs_total");
  ASSERT_EQ(families[2].series.size(), 2u);
  EXPECT_EQ(families[2].series[0].label_values, Labels{"exec"});
  EXPECT_EQ(families[2].series[0].value, 7);
  EXPECT_EQ(registry.last_collector_error(), "");
}

TEST(MetricsRegistry, CollectorErrorsAreCountedAndDescribed) {
  Registry registry;
  ASSERT_NE(registry.counter("taken_total", "Registered.", {}), nullptr);
  ASSERT_NE(registry.histogram("lat", "L.", {}, kHttpDurationBounds), nullptr);
  registry.add_collector([](Collector& c) {
    c.counter("taken_total", "Collected.").sample({}, 99);  // the registered one wins
    c.gauge("lat_sum", "Clash.").sample({}, 1);
    c.gauge("bad name", "Invalid.").sample({}, 1);
    c.gauge("twice", "First.").sample({}, 1);
    c.gauge("twice", "Second.").sample({}, 2);
    auto& f = c.counter("samples_total", "S.", {"k"});
    f.sample({"a"}, 1);
    f.sample({}, 2);          // wrong number of label values
    f.sample({"a"}, 3);       // repeated: the first one stays
    f.sample({"b", "c"}, 4);  // wrong number of label values
  });
  const auto families = registry.collect();
  EXPECT_EQ(value_of(registry, "taken_total", {}), 0);
  const FamilySnapshot* twice = find_family(families, "twice");
  ASSERT_NE(twice, nullptr);
  EXPECT_EQ(twice->help, "First.");
  const FamilySnapshot* samples = find_family(families, "samples_total");
  ASSERT_NE(samples, nullptr);
  ASSERT_EQ(samples->series.size(), 1u);
  EXPECT_EQ(samples->series[0].value, 1);
  EXPECT_EQ(find_family(families, "lat_sum"), nullptr);
  EXPECT_EQ(find_family(families, "bad name"), nullptr);

  const FamilySnapshot* errors = find_family(families, Registry::kCollectorErrorsName);
  ASSERT_NE(errors, nullptr);
  std::vector<std::pair<Labels, double>> got;
  for (const SeriesSnapshot& s : errors->series) got.emplace_back(s.label_values, s.value);
  EXPECT_EQ(got, (std::vector<std::pair<Labels, double>>{{{"bad name"}, 1},
                                                         {{"lat_sum"}, 1},
                                                         {{"samples_total"}, 3},
                                                         {{"taken_total"}, 1},
                                                         {{"twice"}, 1}}));
  EXPECT_EQ(registry.last_collector_error(),
            "collected metric family \"samples_total\": repeated label values");
}

TEST(MetricsRegistry, CollectedFamiliesAreBounded) {
  Registry registry(3);
  registry.add_collector([](Collector& c) {
    auto& f = c.gauge("many", "M.", {"i"});
    for (int i = 0; i < 5; ++i) f.sample({std::to_string(i)}, i);
  });
  const auto families = registry.collect();
  const FamilySnapshot* many = find_family(families, "many");
  ASSERT_NE(many, nullptr);
  EXPECT_EQ(many->series.size(), 3u);
  EXPECT_EQ(value_of(registry, Registry::kDroppedName, {"many"}), 4);  // 2 per collect, two collects
}

TEST(MetricsRegistry, CollectorMayUseTheRegistry) {
  Registry registry;
  registry.add_collector([&registry](Collector& c) {
    Counter* renders = registry.counter("renders_total", "Renders.", {});
    if (renders != nullptr) renders->add({});
    c.gauge("g", "G.").sample({}, 1);
  });
  registry.collect();
  EXPECT_EQ(value_of(registry, "renders_total", {}), 2);
}

TEST(MetricsRegistry, ConcurrentUpdatesAndRenders) {
  Registry registry;
  Counter* c = registry.counter("events_total", "Events.", {"sensor"});
  Histogram* h = registry.histogram("d_seconds", "D.", {"route"}, kHttpDurationBounds);
  ASSERT_NE(c, nullptr);
  ASSERT_NE(h, nullptr);
  constexpr int kIterations = 20000;
  const std::vector<std::string> names = {"process", "file", "network", "dns"};
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (int i = 0; i < kIterations; ++i) {
      c->add({names[i % names.size()]});
      h->observe({names[i % names.size()]}, 0.001 * (i % 100));
    }
    done = true;
  });
  size_t renders = 0;
  while (!done || renders == 0) {
    const std::string text = render_prometheus_text(registry);
    EXPECT_EQ(text.find("NaN"), std::string::npos);
    ++renders;
  }
  writer.join();
  for (const std::string& name : names) {
    EXPECT_EQ(value_of(registry, "events_total", {name}), static_cast<double>(kIterations / names.size()));
  }
  const auto families = registry.collect();
  const FamilySnapshot* d = find_family(families, "d_seconds");
  ASSERT_NE(d, nullptr);
  uint64_t total = 0;
  for (const SeriesSnapshot& s : d->series) {
    for (uint64_t n : s.buckets) total += n;
  }
  EXPECT_EQ(total, static_cast<uint64_t>(kIterations));
  EXPECT_GT(renders, 0u);
}

}  // namespace
}  // namespace waggle::metrics
