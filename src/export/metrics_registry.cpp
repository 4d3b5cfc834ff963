#include "export/metrics_registry.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <utility>

namespace waggle::metrics {

namespace detail {

// One series. Updates are relaxed atomics: a render may see a histogram's sum a little ahead of
// or behind its buckets, which Prometheus tolerates; _count is the sum of the buckets, so it
// always equals the +Inf bucket.
struct Series {
  std::atomic<double> value{0};                      // counter, gauge; histogram: the sum
  std::unique_ptr<std::atomic<uint64_t>[]> buckets;  // histogram: one per bound, then +Inf
};

namespace {
size_t mix(size_t h, std::string_view s) {
  return h ^ (std::hash<std::string_view>{}(s) + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2));
}
}  // namespace

size_t LabelsHash::operator()(LabelValues values) const {
  size_t h = values.size();
  for (std::string_view v : values) h = mix(h, v);
  return h;
}

size_t LabelsHash::operator()(const std::vector<std::string>& values) const {
  size_t h = values.size();
  for (const std::string& v : values) h = mix(h, v);
  return h;
}

bool LabelsEqual::operator()(LabelValues a, const std::vector<std::string>& b) const {
  return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

}  // namespace detail

namespace {

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

constexpr std::string_view kHistogramSuffixes[] = {"_bucket", "_sum", "_count"};

std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

}  // namespace

bool valid_metric_name(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    if (!is_alpha(c) && c != ':' && !(i > 0 && is_digit(c))) return false;
  }
  return true;
}

bool valid_label_name(std::string_view name) {
  if (name.empty() || name.starts_with("__")) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    if (!is_alpha(name[i]) && !(i > 0 && is_digit(name[i]))) return false;
  }
  return true;
}

// --- Families ---------------------------------------------------------------------------------

Family::Family(Type type, std::string name, std::string help, std::vector<std::string> label_names,
               std::vector<double> bounds, size_t max_series, Counter* dropped)
    : type_(type),
      name_(std::move(name)),
      help_(std::move(help)),
      label_names_(std::move(label_names)),
      bounds_(std::move(bounds)),
      max_series_(max_series),
      dropped_(dropped) {
  if (label_names_.empty()) find({});  // renders 0 from the start, as client libraries do
}

Family::~Family() = default;

size_t Family::series_count() const {
  std::lock_guard lock(mu_);
  return series_.size();
}

detail::Series* Family::find(LabelValues values, bool count_drop) {
  if (values.size() == label_names_.size()) {
    std::lock_guard lock(mu_);
    auto it = series_.find(values);
    if (it != series_.end()) return it->second.get();
    if (series_.size() < max_series_) {
      auto series = std::make_unique<detail::Series>();
      if (type_ == Type::kHistogram)
        series->buckets = std::make_unique<std::atomic<uint64_t>[]>(bounds_.size() + 1);
      auto inserted =
          series_.emplace(std::vector<std::string>(values.begin(), values.end()), std::move(series));
      return inserted.first->second.get();
    }
  }
  if (count_drop) count_dropped();  // outside mu_: the dropped counter is another family
  return nullptr;
}

void Family::count_dropped(double observations) const {
  if (dropped_) dropped_->add({std::string_view(name_)}, observations);
}

void Family::snapshot(FamilySnapshot* out) const {
  out->name = name_;
  out->help = help_;
  out->type = type_;
  out->label_names = label_names_;
  out->bounds = bounds_;
  // Keys and series never move, so only the list of them needs the lock; values are read after.
  std::vector<std::pair<const std::vector<std::string>*, const detail::Series*>> refs;
  {
    std::lock_guard lock(mu_);
    refs.reserve(series_.size());
    for (const auto& [key, series] : series_) refs.emplace_back(&key, series.get());
  }
  std::sort(refs.begin(), refs.end(), [](const auto& a, const auto& b) { return *a.first < *b.first; });
  out->series.resize(refs.size());
  for (size_t i = 0; i < refs.size(); ++i) {
    SeriesSnapshot& s = out->series[i];
    s.label_values = *refs[i].first;
    const double value = refs[i].second->value.load(std::memory_order_relaxed);
    if (type_ == Type::kHistogram) {
      s.sum = value;
      s.buckets.resize(bounds_.size() + 1);
      for (size_t b = 0; b < s.buckets.size(); ++b) {
        s.buckets[b] = refs[i].second->buckets[b].load(std::memory_order_relaxed);
      }
    } else {
      s.value = value;
    }
  }
}

void Counter::add(LabelValues values, double n) {
  if (!(n >= 0)) return;
  if (detail::Series* s = find(values)) s->value.fetch_add(n, std::memory_order_relaxed);
}

CounterSeries Counter::series(LabelValues values) { return CounterSeries(this, find(values, false)); }

void CounterSeries::add(double n) const {
  if (!(n >= 0) || !family_) return;
  if (series_)
    series_->value.fetch_add(n, std::memory_order_relaxed);
  else
    family_->count_dropped();
}

void Gauge::set(LabelValues values, double v) {
  if (detail::Series* s = find(values)) s->value.store(v, std::memory_order_relaxed);
}

void Gauge::add(LabelValues values, double d) {
  if (detail::Series* s = find(values)) s->value.fetch_add(d, std::memory_order_relaxed);
}

void Histogram::observe(LabelValues values, double v) {
  if (std::isnan(v)) return;
  if (detail::Series* s = find(values)) HistogramSeries(this, s).observe(v);
}

HistogramSeries Histogram::series(LabelValues values) { return HistogramSeries(this, find(values, false)); }

void HistogramSeries::observe(double v) const {
  if (std::isnan(v) || !family_) return;
  if (!series_) {
    family_->count_dropped();
    return;
  }
  const std::vector<double>& b = family_->bounds();
  const size_t i = static_cast<size_t>(std::lower_bound(b.begin(), b.end(), v) - b.begin());
  series_->buckets[i].fetch_add(1, std::memory_order_relaxed);
  series_->value.fetch_add(v, std::memory_order_relaxed);
}

void HistogramSeries::add(std::span<const uint64_t> per_bucket, double sum) const {
  if (std::isnan(sum) || !family_) return;
  if (!series_ || per_bucket.size() != family_->bounds().size() + 1) {
    double observations = 0;
    for (uint64_t n : per_bucket) observations += double(n);
    family_->count_dropped(observations);
    return;
  }
  for (size_t i = 0; i < per_bucket.size(); i++)
    if (per_bucket[i]) series_->buckets[i].fetch_add(per_bucket[i], std::memory_order_relaxed);
  series_->value.fetch_add(sum, std::memory_order_relaxed);
}

// --- Collectors -------------------------------------------------------------------------------

void CollectedFamily::sample(LabelValues values, double value) {
  if (values.size() != family_.label_names.size()) {
    ++bad_samples_;
    return;
  }
  if (family_.series.size() >= max_series_) {
    ++dropped_samples_;
    return;
  }
  SeriesSnapshot& s = family_.series.emplace_back();
  s.label_values.assign(values.begin(), values.end());
  s.value = value;
}

CollectedFamily& Collector::counter(std::string_view name, std::string_view help,
                                    std::vector<std::string> label_names) {
  return add(Type::kCounter, name, help, std::move(label_names));
}

CollectedFamily& Collector::gauge(std::string_view name, std::string_view help,
                                  std::vector<std::string> label_names) {
  return add(Type::kGauge, name, help, std::move(label_names));
}

CollectedFamily& Collector::add(Type type, std::string_view name, std::string_view help,
                                std::vector<std::string> label_names) {
  CollectedFamily& cf = families_.emplace_back();
  cf.family_.name = name;
  cf.family_.help = help;
  cf.family_.type = type;
  cf.family_.label_names = std::move(label_names);
  cf.max_series_ = max_series_;
  return cf;
}

// --- Registry ---------------------------------------------------------------------------------

Registry::Registry(size_t max_series_per_family) : max_series_(std::max<size_t>(max_series_per_family, 1)) {
  // Not bounded (one series per family) and counting nothing itself: nothing can recurse.
  auto dropped =
      std::unique_ptr<Counter>(new Counter(Type::kCounter, std::string(kDroppedName),
                                           "Metric updates dropped: the family had too many series, or the "
                                           "wrong number of label values was given.",
                                           {"family"}, {}, std::numeric_limits<size_t>::max(), nullptr));
  dropped_ = dropped.get();
  families_.emplace(dropped->name(), std::move(dropped));
  collector_errors_ = counter(kCollectorErrorsName,
                              "Families or samples emitted by collectors and left out of the output "
                              "(invalid, duplicate or clashing names, wrong number of label values).",
                              {"family"});
}

Registry::~Registry() = default;

Counter* Registry::counter(std::string_view name, std::string_view help, std::vector<std::string> label_names,
                           std::string* error) {
  return static_cast<Counter*>(
      add(std::unique_ptr<Family>(new Counter(Type::kCounter, std::string(name), std::string(help),
                                              std::move(label_names), {}, max_series_, dropped_)),
          error));
}

Gauge* Registry::gauge(std::string_view name, std::string_view help, std::vector<std::string> label_names,
                       std::string* error) {
  return static_cast<Gauge*>(
      add(std::unique_ptr<Family>(new Gauge(Type::kGauge, std::string(name), std::string(help),
                                            std::move(label_names), {}, max_series_, dropped_)),
          error));
}

Histogram* Registry::histogram(std::string_view name, std::string_view help,
                               std::vector<std::string> label_names, std::span<const double> bounds,
                               std::string* error) {
  std::vector<double> b(bounds.begin(), bounds.end());
  if (!b.empty() && b.back() == std::numeric_limits<double>::infinity()) b.pop_back();
  for (size_t i = 0; i < b.size(); ++i) {
    if (!std::isfinite(b[i]) || (i > 0 && !(b[i] > b[i - 1]))) {
      if (error) *error = "metric family " + quoted(name) + ": bucket bounds must be finite and increasing";
      return nullptr;
    }
  }
  return static_cast<Histogram*>(
      add(std::unique_ptr<Family>(new Histogram(Type::kHistogram, std::string(name), std::string(help),
                                                std::move(label_names), std::move(b), max_series_, dropped_)),
          error));
}

Family* Registry::add(std::unique_ptr<Family> family, std::string* error) {
  const std::string& name = family->name();
  auto fail = [&](const std::string& why) -> Family* {
    if (error) *error = "metric family " + quoted(name) + ": " + why;
    return nullptr;
  };
  if (!valid_metric_name(name)) return fail("invalid name");
  const std::vector<std::string>& labels = family->label_names();
  for (size_t i = 0; i < labels.size(); ++i) {
    if (!valid_label_name(labels[i])) return fail("invalid label name " + quoted(labels[i]));
    if (std::find(labels.begin(), labels.begin() + i, labels[i]) != labels.begin() + i) {
      return fail("label name " + quoted(labels[i]) + " given twice");
    }
    if (family->type() == Type::kHistogram && labels[i] == "le")
      return fail("a histogram cannot have label \"le\"");
  }
  std::lock_guard lock(mu_);
  if (auto it = families_.find(name); it != families_.end()) {
    const Family& old = *it->second;
    if (old.type() == family->type() && old.help() == family->help() && old.label_names() == labels &&
        old.bounds() == family->bounds()) {
      return it->second.get();
    }
    return fail("already registered with another type, help, label names or buckets");
  }
  if (std::string other = clash(name, family->type() == Type::kHistogram); !other.empty()) {
    return fail("clashes with the series of histogram " + quoted(other));
  }
  Family* f = family.get();
  families_.emplace(name, std::move(family));
  return f;
}

std::string Registry::clash(std::string_view name, bool histogram) const {
  for (std::string_view suffix : kHistogramSuffixes) {
    if (name.ends_with(suffix)) {
      auto it = families_.find(name.substr(0, name.size() - suffix.size()));
      if (it != families_.end() && it->second->type() == Type::kHistogram) return it->first;
    }
    if (histogram && families_.count(std::string(name) + std::string(suffix))) return std::string(name);
  }
  return std::string();
}

void Registry::add_collector(CollectFn fn) {
  std::lock_guard lock(mu_);
  collectors_.push_back(std::make_unique<CollectFn>(std::move(fn)));
}

std::string Registry::last_collector_error() const {
  std::lock_guard lock(mu_);
  return last_collector_error_;
}

void Registry::collector_error(const std::string& family, std::string message, uint64_t n) const {
  collector_errors_->add({std::string_view(family)}, static_cast<double>(n));
  std::lock_guard lock(mu_);
  last_collector_error_ = std::move(message);
}

void Registry::add_collected(CollectedFamily& cf, std::vector<FamilySnapshot>* out,
                             std::set<std::string, std::less<>>* seen) const {
  FamilySnapshot& f = cf.family_;
  const std::string what = "collected metric family " + quoted(f.name) + ": ";
  std::string problem;
  if (!valid_metric_name(f.name)) problem = "invalid name";
  for (size_t i = 0; problem.empty() && i < f.label_names.size(); ++i) {
    const std::string& l = f.label_names[i];
    if (!valid_label_name(l) ||
        std::find(f.label_names.begin(), f.label_names.begin() + i, l) != f.label_names.begin() + i) {
      problem = "invalid or repeated label name " + quoted(l);
    }
  }
  if (problem.empty()) {
    std::lock_guard lock(mu_);
    if (families_.count(f.name)) {
      problem = "name taken by a registered family";
    } else if (std::string other = clash(f.name, false); !other.empty()) {
      problem = "clashes with the series of histogram " + quoted(other);
    }
  }
  if (problem.empty() && !seen->insert(f.name).second) problem = "emitted twice";
  if (!problem.empty()) {
    collector_error(f.name, what + problem, 1);
    return;
  }
  if (cf.bad_samples_)
    collector_error(f.name, what + "samples with the wrong number of label values", cf.bad_samples_);
  if (cf.dropped_samples_)
    dropped_->add({std::string_view(f.name)}, static_cast<double>(cf.dropped_samples_));
  auto by_labels = [](const SeriesSnapshot& a, const SeriesSnapshot& b) {
    return a.label_values < b.label_values;
  };
  std::stable_sort(f.series.begin(), f.series.end(), by_labels);
  auto same = [](const SeriesSnapshot& a, const SeriesSnapshot& b) {
    return a.label_values == b.label_values;
  };
  const auto end = std::unique(f.series.begin(), f.series.end(), same);  // keeps the first of each
  if (end != f.series.end()) {
    collector_error(f.name, what + "repeated label values", static_cast<uint64_t>(f.series.end() - end));
    f.series.erase(end, f.series.end());
  }
  if (!f.series.empty()) out->push_back(std::move(f));
}

std::vector<FamilySnapshot> Registry::collect(const CollectFn& extra) const {
  std::lock_guard collect_lock(collect_mu_);
  std::vector<const CollectFn*> fns;
  {
    std::lock_guard lock(mu_);
    for (const auto& fn : collectors_) fns.push_back(fn.get());  // never removed: stay valid
  }
  Collector collector(max_series_);
  for (const CollectFn* fn : fns) (*fn)(collector);
  if (extra) extra(collector);

  std::vector<FamilySnapshot> out;
  std::set<std::string, std::less<>> seen;
  // Collected families first: the errors they cause are in this render's counters.
  for (CollectedFamily& cf : collector.families_) add_collected(cf, &out, &seen);
  std::vector<const Family*> families;
  {
    std::lock_guard lock(mu_);
    for (const auto& [name, family] : families_) families.push_back(family.get());
  }
  for (const Family* family : families) {
    FamilySnapshot s;
    family->snapshot(&s);
    if (!s.series.empty()) out.push_back(std::move(s));
  }
  std::sort(out.begin(), out.end(),
            [](const FamilySnapshot& a, const FamilySnapshot& b) { return a.name < b.name; });
  return out;
}

}  // namespace waggle::metrics
