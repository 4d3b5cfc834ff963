#include "export/prometheus_text.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#include "core/events.hpp"
#include "export/metrics_registry.hpp"

namespace waggle {
namespace {

std::string number(double v) {
  std::string out;
  append_prometheus_number(out, v);
  return out;
}

std::string label_value(std::string_view v) {
  std::string out;
  append_prometheus_label_value(out, v);
  return out;
}

std::string help(std::string_view v) {
  std::string out;
  append_prometheus_help(out, v);
  return out;
}

TEST(PrometheusText, Numbers) {
  EXPECT_EQ(number(0), "0");
  EXPECT_EQ(number(-0.0), "0");
  EXPECT_EQ(number(42), "42");
  EXPECT_EQ(number(-3), "-3");
  EXPECT_EQ(number(1e15), "1000000000000000");
  EXPECT_EQ(number(1e17), "100000000000000000");  // integers: no exponent
  EXPECT_EQ(number(9007199254740993.0), "9007199254740992");
  EXPECT_EQ(number(1e19), "1e+19");  // beyond int64: shortest form
  EXPECT_EQ(number(0.0123), "0.0123");
  EXPECT_EQ(number(2.5), "2.5");
  EXPECT_EQ(number(0.1 + 0.2), "0.30000000000000004");  // round-trips
  EXPECT_EQ(number(1e-5), "1e-05");
  EXPECT_EQ(number(-1.5e-300), "-1.5e-300");
  EXPECT_EQ(number(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(number(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(number(std::nan("")), "NaN");
  for (double v : {0.0123, 0.1 + 0.2, 1e-5, 123456.789, 5e-324, 1.7976931348623157e308}) {
    EXPECT_EQ(std::strtod(number(v).c_str(), nullptr), v) << number(v);  // round-trips
  }
}

TEST(PrometheusText, Escaping) {
  EXPECT_EQ(label_value("plain /users/{id}"), "plain /users/{id}");
  EXPECT_EQ(label_value("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  EXPECT_EQ(help("a\\b\"c\nd"), "a\\\\b\"c\\nd");  // quotes stay in HELP
  EXPECT_EQ(label_value("tab\tcr\r"), "tab\tcr\r");
  EXPECT_EQ(label_value("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x90\x9D"),
            "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x90\x9D");
  // Invalid UTF-8 would make Prometheus reject the whole scrape.
  EXPECT_EQ(label_value("a\xFF"
                        "b\xC3"),
            "a\xEF\xBF\xBD"
            "b\xEF\xBF\xBD");
  EXPECT_EQ(help("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(PrometheusText, CountersAndGauges) {
  metrics::Registry registry;
  metrics::Counter* c = registry.counter("waggle_events_total", "Events by sensor.", {"sensor"});
  metrics::Gauge* g = registry.gauge("waggle_processes", "Processes in the cache.", {});
  ASSERT_NE(c, nullptr);
  ASSERT_NE(g, nullptr);
  c->add({"process"}, 3);
  c->add({"file"}, 12);
  g->set({}, 57.5);
  EXPECT_EQ(render_prometheus_text(registry),
            "# HELP waggle_events_total Events by sensor.\n"
            "# TYPE waggle_events_total counter\n"
            "waggle_events_total{sensor=\"file\"} 12\n"
            "waggle_events_total{sensor=\"process\"} 3\n"
            "# HELP waggle_processes Processes in the cache.\n"
            "# TYPE waggle_processes gauge\n"
            "waggle_processes 57.5\n");
}

TEST(PrometheusText, Histogram) {
  metrics::Registry registry;
  const double bounds[] = {0.01, 0.1, 1};
  metrics::Histogram* h =
      registry.histogram("http_server_request_duration_seconds", "Duration of HTTP server requests.",
                         {"http_request_method", "http_route"}, bounds);
  ASSERT_NE(h, nullptr);
  h->observe({"GET", "/users/{id}"}, 0.005);
  h->observe({"GET", "/users/{id}"}, 0.01);
  h->observe({"GET", "/users/{id}"}, 0.5);
  h->observe({"GET", "/users/{id}"}, 3);
  h->observe({"DELETE", "/"}, 0.25);
  EXPECT_EQ(render_prometheus_text(registry),
            "# HELP http_server_request_duration_seconds Duration of HTTP server requests.\n"
            "# TYPE http_server_request_duration_seconds histogram\n"
            "http_server_request_duration_seconds_bucket{http_request_method=\"DELETE\",http_route=\"/"
            "\",le=\"0.01\"} 0\n"
            "http_server_request_duration_seconds_bucket{http_request_method=\"DELETE\",http_route=\"/"
            "\",le=\"0.1\"} 0\n"
            "http_server_request_duration_seconds_bucket{http_request_method=\"DELETE\",http_route=\"/"
            "\",le=\"1\"} 1\n"
            "http_server_request_duration_seconds_bucket{http_request_method=\"DELETE\",http_route=\"/"
            "\",le=\"+Inf\"} 1\n"
            "http_server_request_duration_seconds_sum{http_request_method=\"DELETE\",http_route=\"/\"} 0.25\n"
            "http_server_request_duration_seconds_count{http_request_method=\"DELETE\",http_route=\"/\"} 1\n"
            "http_server_request_duration_seconds_bucket{http_request_method=\"GET\",http_route=\"/users/"
            "{id}\",le=\"0.01\"} 2\n"
            "http_server_request_duration_seconds_bucket{http_request_method=\"GET\",http_route=\"/users/"
            "{id}\",le=\"0.1\"} 2\n"
            "http_server_request_duration_seconds_bucket{http_request_method=\"GET\",http_route=\"/users/"
            "{id}\",le=\"1\"} 3\n"
            "http_server_request_duration_seconds_bucket{http_request_method=\"GET\",http_route=\"/users/"
            "{id}\",le=\"+Inf\"} 4\n"
            "http_server_request_duration_seconds_sum{http_request_method=\"GET\",http_route=\"/users/"
            "{id}\"} 3.515\n"
            "http_server_request_duration_seconds_count{http_request_method=\"GET\",http_route=\"/users/"
            "{id}\"} 4\n");
}

TEST(PrometheusText, HistogramWithoutLabelsAndDefaultBuckets) {
  metrics::Registry registry;
  metrics::Histogram* h = registry.histogram("d", "D.", {}, kHttpDurationBounds);
  ASSERT_NE(h, nullptr);
  h->observe({}, 0.3);
  EXPECT_EQ(render_prometheus_text(registry),
            "# HELP d D.\n"
            "# TYPE d histogram\n"
            "d_bucket{le=\"0.005\"} 0\n"
            "d_bucket{le=\"0.01\"} 0\n"
            "d_bucket{le=\"0.025\"} 0\n"
            "d_bucket{le=\"0.05\"} 0\n"
            "d_bucket{le=\"0.075\"} 0\n"
            "d_bucket{le=\"0.1\"} 0\n"
            "d_bucket{le=\"0.25\"} 0\n"
            "d_bucket{le=\"0.5\"} 1\n"
            "d_bucket{le=\"0.75\"} 1\n"
            "d_bucket{le=\"1\"} 1\n"
            "d_bucket{le=\"2.5\"} 1\n"
            "d_bucket{le=\"5\"} 1\n"
            "d_bucket{le=\"7.5\"} 1\n"
            "d_bucket{le=\"10\"} 1\n"
            "d_bucket{le=\"+Inf\"} 1\n"
            "d_sum 0.3\n"
            "d_count 1\n");
}

TEST(PrometheusText, EscapedLabelsAndHelp) {
  metrics::Registry registry;
  metrics::Counter* c = registry.counter("odd_total", "Back\\slash and\nnewline.", {"path"});
  ASSERT_NE(c, nullptr);
  c->add({"C:\\dir\\\"x\"\n"});
  EXPECT_EQ(render_prometheus_text(registry),
            "# HELP odd_total Back\\\\slash and\\nnewline.\n"
            "# TYPE odd_total counter\n"
            "odd_total{path=\"C:\\\\dir\\\\\\\"x\\\"\\n\"} 1\n");
}

TEST(PrometheusText, CollectorsAndDroppedSeries) {
  metrics::Registry registry(1);
  metrics::Counter* c = registry.counter("req_total", "Requests.", {"code"});
  ASSERT_NE(c, nullptr);
  c->add({"200"});
  c->add({"500"});  // beyond the bound of 1
  registry.add_collector([](metrics::Collector& col) {
    auto& runs = col.counter("waggle_bpf_run_time_seconds_total", "Time in BPF programs.", {"program"});
    runs.sample({"exec"}, 0.000125);
    col.gauge("waggle_ring_fill_ratio", "").sample({}, 0.5);  // no help: no HELP line
  });
  EXPECT_EQ(
      render_prometheus_text(registry),
      "# HELP req_total Requests.\n"
      "# TYPE req_total counter\n"
      "req_total{code=\"200\"} 1\n"
      "# HELP waggle_bpf_run_time_seconds_total Time in BPF programs.\n"
      "# TYPE waggle_bpf_run_time_seconds_total counter\n"
      "waggle_bpf_run_time_seconds_total{program=\"exec\"} 0.000125\n"
      "# HELP waggle_metrics_series_dropped_total Metric updates dropped: the family had too many series, or "
      "the wrong number of label values was given.\n"
      "# TYPE waggle_metrics_series_dropped_total counter\n"
      "waggle_metrics_series_dropped_total{family=\"req_total\"} 1\n"
      "# TYPE waggle_ring_fill_ratio gauge\n"
      "waggle_ring_fill_ratio 0.5\n");
}

TEST(PrometheusText, EmptyRegistryRendersNothing) {
  metrics::Registry registry;
  EXPECT_EQ(render_prometheus_text(registry), "");
}

TEST(PrometheusText, Snapshots) {
  metrics::FamilySnapshot f;
  f.name = "x";
  f.type = metrics::Type::kGauge;
  f.label_names = {"a", "b"};
  f.series.push_back({{"1", "2"}, -7, {}, 0});
  f.series.push_back({{"3", "4"}, std::numeric_limits<double>::infinity(), {}, 0});
  std::string out;
  append_prometheus_text(out, {f});
  EXPECT_EQ(out, "# TYPE x gauge\nx{a=\"1\",b=\"2\"} -7\nx{a=\"3\",b=\"4\"} +Inf\n");
}

}  // namespace
}  // namespace waggle
