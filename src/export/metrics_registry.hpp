// Metrics kept by the agent for Prometheus: families of counters, gauges and histograms, each with
// a name, help text and fixed label names, their series addressed by label values. Exporters
// update them; the Prometheus endpoint renders them (prometheus_text.hpp). Nothing here knows
// about sensors.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace waggle::metrics {

enum class Type { kCounter, kGauge, kHistogram };

inline constexpr size_t kDefaultMaxSeries = 10'000;

// Label values, in the order of the family's label names. Callers pass a braced list of
// strings ({"GET", "/users/{id}"}) or a span over their own array.
using LabelValues = std::span<const std::string_view>;

// Prometheus naming rules: metric names [a-zA-Z_:][a-zA-Z0-9_:]*, label names
// [a-zA-Z_][a-zA-Z0-9_]* and not starting with "__" (reserved).
bool valid_metric_name(std::string_view name);
bool valid_label_name(std::string_view name);

// What a render sees: a copy of the values at collection time.
struct SeriesSnapshot {
  std::vector<std::string> label_values;
  double value = 0;               // counter, gauge
  std::vector<uint64_t> buckets;  // histogram: observations per bucket (not cumulative), +Inf last
  double sum = 0;                 // histogram
};

struct FamilySnapshot {
  std::string name;
  std::string help;
  Type type = Type::kCounter;
  std::vector<std::string> label_names;
  std::vector<double> bounds;          // histogram upper bounds, increasing; +Inf is implied
  std::vector<SeriesSnapshot> series;  // sorted by label values
};

namespace detail {
struct Series;  // metrics_registry.cpp
// Heterogeneous hashing so that a lookup by LabelValues builds no key.
struct LabelsHash {
  using is_transparent = void;
  size_t operator()(LabelValues values) const;
  size_t operator()(const std::vector<std::string>& values) const;
};
struct LabelsEqual {
  using is_transparent = void;
  bool operator()(const std::vector<std::string>& a, const std::vector<std::string>& b) const {
    return a == b;
  }
  bool operator()(LabelValues a, const std::vector<std::string>& b) const;
  bool operator()(const std::vector<std::string>& a, LabelValues b) const { return (*this)(b, a); }
};
}  // namespace detail

class Counter;
class Histogram;

// A counter's series, looked up once and then updated without a lookup (what Prometheus
// clients call a child). Empty when its family was full or its label values did not fit: each
// add is then counted as dropped, as Counter::add counts it. Series are never removed, so a
// handle stays valid as long as its registry.
class CounterSeries {
 public:
  CounterSeries() = default;
  void add(double n = 1) const;

 private:
  friend class Counter;
  CounterSeries(const Counter* family, detail::Series* series) : family_(family), series_(series) {}
  const Counter* family_ = nullptr;
  detail::Series* series_ = nullptr;
};

// The same for a histogram's series.
class HistogramSeries {
 public:
  HistogramSeries() = default;
  void observe(double v) const;
  // Observations counted elsewhere: `per_bucket` of them in each bucket (+Inf last, not
  // cumulative; one count per bucket, or they are all dropped, and counted as dropped), their
  // values summing to `sum`.
  void add(std::span<const uint64_t> per_bucket, double sum) const;

 private:
  friend class Histogram;
  HistogramSeries(const Histogram* family, detail::Series* series) : family_(family), series_(series) {}
  const Histogram* family_ = nullptr;
  detail::Series* series_ = nullptr;
};

// What counters, gauges and histograms share. Thread-safe: updates may come from any thread
// while another renders. An update looks its series up under the family's mutex (a hash of the
// label values, no allocation once the series exists) and changes it with relaxed atomics.
//
// An update that cannot be applied, because the family already has max_series() series or the
// number of label values is wrong, is counted in waggle_metrics_series_dropped_total{family=...}.
class Family {
 public:
  Family(const Family&) = delete;
  Family& operator=(const Family&) = delete;
  virtual ~Family();

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  Type type() const { return type_; }
  const std::vector<std::string>& label_names() const { return label_names_; }
  const std::vector<double>& bounds() const { return bounds_; }  // histograms only
  size_t max_series() const { return max_series_; }
  size_t series_count() const;

 protected:
  Family(Type type, std::string name, std::string help, std::vector<std::string> label_names,
         std::vector<double> bounds, size_t max_series, Counter* dropped);

  // The series for `values`, created if missing; null when the update must be dropped (counted
  // unless `count_drop` is false).
  detail::Series* find(LabelValues values, bool count_drop = true);
  void count_dropped(double observations = 1) const;

 private:
  friend class Registry;
  void snapshot(FamilySnapshot* out) const;

  const Type type_;
  const std::string name_;
  const std::string help_;
  const std::vector<std::string> label_names_;
  const std::vector<double> bounds_;
  const size_t max_series_;
  Counter* const dropped_;  // the registry's dropped-series counter; null for that counter itself
  mutable std::mutex mu_;
  // Series are never removed, so keys and series stay where they are until the registry goes.
  std::unordered_map<std::vector<std::string>, std::unique_ptr<detail::Series>, detail::LabelsHash,
                     detail::LabelsEqual>
      series_;
};

class Counter : public Family {
 public:
  // Adds n to the series. A counter only goes up: negative and NaN n are ignored.
  void add(LabelValues values, double n = 1);
  void add(std::initializer_list<std::string_view> values, double n = 1) {
    add(LabelValues(values.begin(), values.size()), n);
  }
  // The series for `values` (created if missing), to add to without looking it up again.
  CounterSeries series(LabelValues values);

 private:
  friend class Registry;
  friend class CounterSeries;
  using Family::Family;
};

class Gauge : public Family {
 public:
  void set(LabelValues values, double v);
  void set(std::initializer_list<std::string_view> values, double v) {
    set(LabelValues(values.begin(), values.size()), v);
  }
  // Adds d (negative to subtract).
  void add(LabelValues values, double d);
  void add(std::initializer_list<std::string_view> values, double d) {
    add(LabelValues(values.begin(), values.size()), d);
  }

 private:
  friend class Registry;
  using Family::Family;
};

class Histogram : public Family {
 public:
  // Counts v in the first bucket whose upper bound is >= v (+Inf if none) and adds it to the
  // sum. NaN is ignored: it would turn the sum into NaN for good.
  void observe(LabelValues values, double v);
  void observe(std::initializer_list<std::string_view> values, double v) {
    observe(LabelValues(values.begin(), values.size()), v);
  }
  // The series for `values` (created if missing), to observe into without looking it up again.
  HistogramSeries series(LabelValues values);

 private:
  friend class Registry;
  friend class HistogramSeries;
  using Family::Family;
};

// A family emitted by a collector at render time.
class CollectedFamily {
 public:
  // One sample. Label values must match the family's label names in number; samples beyond the
  // registry's series bound are counted as dropped, like a registered family's.
  void sample(LabelValues values, double value);
  void sample(std::initializer_list<std::string_view> values, double value) {
    sample(LabelValues(values.begin(), values.size()), value);
  }

 private:
  friend class Collector;
  friend class Registry;
  FamilySnapshot family_;
  size_t max_series_ = 0;
  uint64_t bad_samples_ = 0;      // wrong number of label values
  uint64_t dropped_samples_ = 0;  // beyond max_series_
};

// Handed to collectors at render time, to emit values kept elsewhere (BPF map counters, ...)
// as families with their own HELP and TYPE.
class Collector {
 public:
  CollectedFamily& counter(std::string_view name, std::string_view help,
                           std::vector<std::string> label_names = {});
  CollectedFamily& gauge(std::string_view name, std::string_view help,
                         std::vector<std::string> label_names = {});

 private:
  friend class Registry;
  explicit Collector(size_t max_series) : max_series_(max_series) {}
  CollectedFamily& add(Type type, std::string_view name, std::string_view help,
                       std::vector<std::string> label_names);
  const size_t max_series_;
  std::deque<CollectedFamily> families_;  // a deque: references handed out stay valid
};

using CollectFn = std::function<void(Collector&)>;

// Owns the families. Thread-safe.
class Registry {
 public:
  explicit Registry(size_t max_series_per_family = kDefaultMaxSeries);
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;
  ~Registry();

  // Register a family, or return the one already registered under `name` when it has the same
  // type, help, label names (and bounds). On error (an invalid or duplicate name or label name,
  // "le" on a histogram, bounds not increasing or NaN, `name` taken by a family of another shape
  // or clashing with a histogram's _bucket/_sum/_count) returns null and sets *error. A family
  // without labels has its single series from the start, so it renders 0 before any update.
  // Returned pointers live as long as the registry.
  Counter* counter(std::string_view name, std::string_view help, std::vector<std::string> label_names,
                   std::string* error = nullptr);
  Gauge* gauge(std::string_view name, std::string_view help, std::vector<std::string> label_names,
               std::string* error = nullptr);
  // A trailing +Inf bound is dropped: +Inf is always the last bucket.
  Histogram* histogram(std::string_view name, std::string_view help, std::vector<std::string> label_names,
                       std::span<const double> bounds, std::string* error = nullptr);

  // Runs `fn` at every collect(), on the rendering thread (never two collectors at a time, never
  // with the registry's locks held: it may call the registry). A family it emits is left out of
  // the output, counted in waggle_metrics_collector_errors_total{family=...} and described by
  // last_collector_error() when its name or label names are invalid or its name is taken (by a
  // registered family, a histogram's series or an earlier collected family). Samples with the
  // wrong number of label values and repeated label values are left out and counted the same way.
  void add_collector(CollectFn fn);

  // Every family, registered and collected, sorted by name, series sorted by label values.
  // Families without series are left out. `extra` runs after the registered collectors.
  std::vector<FamilySnapshot> collect(const CollectFn& extra = nullptr) const;

  std::string last_collector_error() const;
  size_t max_series_per_family() const { return max_series_; }

  static constexpr std::string_view kDroppedName = "waggle_metrics_series_dropped_total";
  static constexpr std::string_view kCollectorErrorsName = "waggle_metrics_collector_errors_total";

 private:
  Family* add(std::unique_ptr<Family> family, std::string* error);
  // The histogram whose _bucket/_sum/_count series `name` would collide with (or, for a
  // histogram, the one it is), or empty. mu_ held.
  std::string clash(std::string_view name, bool histogram) const;
  void collector_error(const std::string& family, std::string message, uint64_t n) const;
  void add_collected(CollectedFamily& cf, std::vector<FamilySnapshot>* out,
                     std::set<std::string, std::less<>>* seen) const;

  const size_t max_series_;
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Family>, std::less<>> families_;
  std::vector<std::unique_ptr<CollectFn>> collectors_;  // never removed
  mutable std::string last_collector_error_;
  mutable std::mutex collect_mu_;  // collect() runs one at a time
  Counter* dropped_ = nullptr;
  Counter* collector_errors_ = nullptr;
};

}  // namespace waggle::metrics
