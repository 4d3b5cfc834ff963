#include "export/prometheus_text.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstdint>
#include <iterator>

#include "export/append.hpp"
#include "export/json_string.hpp"

namespace waggle {

namespace {

// Escapes '\\' and newline, and '"' too when `quote`; replaces invalid UTF-8 by U+FFFD.
void append_escaped(std::string& out, std::string_view s, bool quote) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char c = p[i];
    if (c < 0x80) {
      if (c == '\\') {
        out += "\\\\";
      } else if (c == '\n') {
        out += "\\n";
      } else if (c == '"' && quote) {
        out += "\\\"";
      } else {
        out += static_cast<char>(c);
      }
      ++i;
      continue;
    }
    const size_t len = utf8_sequence_length(p + i, n - i);
    if (len == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(s.data() + i, len);
      i += len;
    }
  }
}

std::string_view type_name(metrics::Type type) {
  switch (type) {
    case metrics::Type::kCounter:
      return "counter";
    case metrics::Type::kGauge:
      return "gauge";
    case metrics::Type::kHistogram:
      return "histogram";
  }
  return "untyped";
}

// name{a="x",b="y"[,le="bound"]}, then a space. `le` empty: no le label.
void append_series_name(std::string& out, std::string_view name, std::string_view suffix,
                        const std::vector<std::string>& label_names,
                        const std::vector<std::string>& label_values, std::string_view le) {
  append_lit(out, name);
  append_lit(out, suffix);
  if (!label_names.empty() || !le.empty()) {
    out += '{';
    for (size_t i = 0; i < label_names.size(); ++i) {
      if (i > 0) out += ',';
      append_lit(out, label_names[i]);
      append_lit(out, "=\"");
      if (i < label_values.size()) append_prometheus_label_value(out, label_values[i]);
      out += '"';
    }
    if (!le.empty()) {
      append_lit(out, label_names.empty() ? "le=\"" : ",le=\"");
      append_lit(out, le);
      out += '"';
    }
    out += '}';
  }
  out += ' ';
}

void append_family(std::string& out, const metrics::FamilySnapshot& f) {
  if (!f.help.empty()) {
    append_lit(out, "# HELP ");
    append_lit(out, f.name);
    out += ' ';
    append_prometheus_help(out, f.help);
    out += '\n';
  }
  append_lit(out, "# TYPE ");
  append_lit(out, f.name);
  out += ' ';
  append_lit(out, type_name(f.type));
  out += '\n';

  if (f.type != metrics::Type::kHistogram) {
    for (const metrics::SeriesSnapshot& s : f.series) {
      append_series_name(out, f.name, "", f.label_names, s.label_values, "");
      append_prometheus_number(out, s.value);
      out += '\n';
    }
    return;
  }
  std::vector<std::string> les(f.bounds.size() + 1);
  for (size_t b = 0; b < f.bounds.size(); ++b) append_prometheus_number(les[b], f.bounds[b]);
  les.back() = "+Inf";
  for (const metrics::SeriesSnapshot& s : f.series) {
    uint64_t cumulative = 0;
    for (size_t b = 0; b < les.size(); ++b) {
      cumulative += b < s.buckets.size() ? s.buckets[b] : 0;
      append_series_name(out, f.name, "_bucket", f.label_names, s.label_values, les[b]);
      append_uint(out, cumulative);
      out += '\n';
    }
    append_series_name(out, f.name, "_sum", f.label_names, s.label_values, "");
    append_prometheus_number(out, s.sum);
    out += '\n';
    append_series_name(out, f.name, "_count", f.label_names, s.label_values, "");
    append_uint(out, cumulative);
    out += '\n';
  }
}

}  // namespace

void append_prometheus_number(std::string& out, double v) {
  if (std::isnan(v)) {
    append_lit(out, "NaN");
  } else if (std::isinf(v)) {
    append_lit(out, v > 0 ? "+Inf" : "-Inf");
  } else if (v == std::trunc(v) && std::fabs(v) < 0x1p63) {
    append_int(out, static_cast<int64_t>(v));
  } else {
    fmt::format_to(std::back_inserter(out), "{}", v);
  }
}

void append_prometheus_label_value(std::string& out, std::string_view value) {
  append_escaped(out, value, true);
}

void append_prometheus_help(std::string& out, std::string_view help) { append_escaped(out, help, false); }

void append_prometheus_text(std::string& out, const std::vector<metrics::FamilySnapshot>& families) {
  for (const metrics::FamilySnapshot& f : families) append_family(out, f);
}

std::string render_prometheus_text(const metrics::Registry& registry, const metrics::CollectFn& extra) {
  std::string out;
  append_prometheus_text(out, registry.collect(extra));
  return out;
}

}  // namespace waggle
