// The Prometheus text exposition format, version 0.0.4, of a metrics registry.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "export/metrics_registry.hpp"

namespace waggle {

inline constexpr char kPrometheusContentType[] = "text/plain; version=0.0.4; charset=utf-8";

// Appends the families in the order given (Registry::collect sorts them by name, series by
// label values): "# HELP" (left out when the help is empty), "# TYPE", then one line per sample.
// A histogram has cumulative name_bucket{...,le="<bound>"} lines ending with le="+Inf", then
// name_sum and name_count (which equals the +Inf bucket). Bytes that are not valid UTF-8 in
// help or label values become U+FFFD: Prometheus rejects a whole scrape over one of them.
void append_prometheus_text(std::string& out, const std::vector<metrics::FamilySnapshot>& families);

// The registry's families (registry.collect(extra)) as one text exposition.
std::string render_prometheus_text(const metrics::Registry& registry,
                                   const metrics::CollectFn& extra = nullptr);

// A sample value as Prometheus parses it: integers of magnitude below 2^63 without exponent or
// fraction ("42", "-3"), other numbers in the shortest form that reads back to the same double
// ("0.0123", "1e-05", "1e+300"), and "+Inf", "-Inf", "NaN".
void append_prometheus_number(std::string& out, double v);

// A label value without its quotes: '\\' -> "\\\\", '"' -> "\\\"", newline -> "\\n".
void append_prometheus_label_value(std::string& out, std::string_view value);

// HELP text: '\\' -> "\\\\", newline -> "\\n".
void append_prometheus_help(std::string& out, std::string_view help);

}  // namespace waggle
