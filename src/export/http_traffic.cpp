#include "export/http_traffic.hpp"

#include <algorithm>
#include <charconv>

namespace waggle {
namespace {

std::string_view label(const metrics::FamilySnapshot& f, const metrics::SeriesSnapshot& s, std::string_view name) {
  for (size_t i = 0; i < f.label_names.size() && i < s.label_values.size(); i++)
    if (f.label_names[i] == name) return s.label_values[i];
  return {};
}

int number(std::string_view text) {
  int n = 0;
  std::from_chars(text.data(), text.data() + text.size(), n);
  return n;
}

void add(TrafficTotals& t, const metrics::SeriesSnapshot& s, int status) {
  uint64_t n = 0;
  for (size_t i = 0; i < s.buckets.size(); i++) {
    t.buckets[std::min(i, TrafficTotals::kBuckets - 1)] += s.buckets[i];
    n += s.buckets[i];
  }
  t.requests += n;
  if (status >= 500) t.errors += n;
  if (status >= 400 && status < 500) t.client_errors += n;
}

}  // namespace

double histogram_quantile(double q, const std::vector<double>& bounds, std::span<const uint64_t> buckets) {
  uint64_t total = 0;
  for (uint64_t n : buckets) total += n;
  if (total == 0) return 0;
  double rank = q * double(total);
  uint64_t below = 0;
  for (size_t i = 0; i < buckets.size(); i++) {
    if (double(below + buckets[i]) >= rank && buckets[i] > 0) {
      if (i >= bounds.size()) return bounds.empty() ? 0 : bounds.back();  // the +Inf bucket
      double lower = i == 0 ? 0 : bounds[i - 1];
      return lower + (bounds[i] - lower) * (rank - double(below)) / double(buckets[i]);
    }
    below += buckets[i];
  }
  return bounds.empty() ? 0 : bounds.back();
}

bool HttpTraffic::due(double now_s) const {
  std::lock_guard lock(mu_);
  return snapshots_.empty() || now_s - snapshots_.back().time_s >= kSnapshotSeconds;
}

HttpTraffic::Snapshot HttpTraffic::totals_of(const std::vector<metrics::FamilySnapshot>& families, double now_s,
                                             std::vector<double>* bounds) {
  Snapshot snap{now_s, {}};
  for (const auto& f : families) {
    bool client = f.name == "http_client_request_duration_seconds";
    if (!client && f.name != "http_server_request_duration_seconds") continue;
    *bounds = f.bounds;
    for (const auto& s : f.series) {
      Key key{client, std::string(label(f, s, "service_name")), client ? std::string(label(f, s, "server_address")) : "",
              uint16_t(client ? number(label(f, s, "server_port")) : 0)};
      auto it = snap.totals.find(key);
      if (it == snap.totals.end()) {
        if (snap.totals.size() >= kMaxKeys) continue;
        it = snap.totals.emplace(std::move(key), TrafficTotals{}).first;
      }
      add(it->second, s, number(label(f, s, "http_response_status_code")));
    }
  }
  return snap;
}

void HttpTraffic::record(const std::vector<metrics::FamilySnapshot>& families, double now_s) {
  std::vector<double> bounds;
  Snapshot snap = totals_of(families, now_s, &bounds);
  std::lock_guard lock(mu_);
  if (started_s_ < 0) started_s_ = now_s;
  if (!bounds.empty()) bounds_ = bounds;
  snapshots_.push_back(std::move(snap));
  while (snapshots_.size() > kMaxSnapshots) snapshots_.pop_front();
}

HttpTraffic::Window HttpTraffic::window(double seconds, const std::vector<metrics::FamilySnapshot>& families,
                                        double now_s) const {
  std::vector<double> bounds;
  const Snapshot now = totals_of(families, now_s, &bounds);
  std::lock_guard lock(mu_);
  Window w;
  if (bounds.empty()) bounds = bounds_;
  // The latest snapshot at least `seconds` old, else the agent's start (all zero) if the
  // history reaches back to it, else the oldest kept.
  const Snapshot* base = nullptr;
  for (auto it = snapshots_.rbegin(); it != snapshots_.rend(); ++it)
    if (now.time_s - it->time_s >= seconds) {
      base = &*it;
      break;
    }
  static const Snapshot kZero{};
  bool from_start = !base && snapshots_.size() < kMaxSnapshots;
  if (!base) base = from_start || snapshots_.empty() ? &kZero : &snapshots_.front();
  w.seconds = now.time_s - (from_start || snapshots_.empty() ? (started_s_ < 0 ? now_s : started_s_) : base->time_s);
  for (const auto& [key, totals] : now.totals) {
    TrafficTotals d = totals;
    if (auto it = base->totals.find(key); it != base->totals.end()) {
      d.requests -= it->second.requests;
      d.errors -= it->second.errors;
      d.client_errors -= it->second.client_errors;
      for (size_t i = 0; i < d.buckets.size(); i++) d.buckets[i] -= it->second.buckets[i];
    }
    if (d.requests == 0) continue;
    TrafficStats s{key.service, key.address, key.port, d.requests, d.errors, d.client_errors,
                   histogram_quantile(0.5, bounds, std::span(d.buckets).first(std::min(d.buckets.size(), bounds.size() + 1))),
                   histogram_quantile(0.99, bounds, std::span(d.buckets).first(std::min(d.buckets.size(), bounds.size() + 1)))};
    (key.edge ? w.edges : w.services).push_back(std::move(s));
  }
  return w;
}

}  // namespace waggle
