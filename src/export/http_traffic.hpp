// The HTTP traffic between services over a time window, from the request-duration histograms
// the agent keeps for Prometheus (nothing added per event): snapshots of their totals per
// edge (client service -> server address and port) and per serving service, taken every few
// seconds and kept for an hour; a window is the difference between now and the snapshot that
// far back (or the agent's start, when everything was zero). For the UI's service map.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "export/metrics_registry.hpp"

namespace waggle {

struct TrafficTotals {
  static constexpr size_t kBuckets = 16;  // the duration families have 15 (14 bounds and +Inf)
  uint64_t requests = 0;
  uint64_t errors = 0;         // status 500 and over
  uint64_t client_errors = 0;  // 400 to 499
  std::array<uint64_t, kBuckets> buckets{};  // per duration bucket, +Inf last; beyond kBuckets: in the last
};

struct TrafficStats {
  std::string service;         // the client's service (edges) or the server's (services)
  std::string server_address;  // edges only
  uint16_t server_port = 0;
  uint64_t requests = 0, errors = 0, client_errors = 0;
  double p50_s = 0, p99_s = 0;  // from the buckets, interpolated; 0 without requests
};

// The q-quantile (0..1) of a histogram's observations, interpolated linearly inside the bucket
// it falls in (as Prometheus' histogram_quantile): `bounds` are the upper bounds, `buckets` the
// counts per bucket with +Inf last. Past the last bound, the last bound.
double histogram_quantile(double q, const std::vector<double>& bounds, std::span<const uint64_t> buckets);

class HttpTraffic {
 public:
  // Edges plus services per snapshot (more are left out), and an hour of snapshots: at most
  // about 240 x 500 x 270 bytes (32 MiB) with 500 edges; a few hundred KiB with a few dozen.
  static constexpr size_t kMaxKeys = 500;
  static constexpr size_t kMaxSnapshots = 240;
  static constexpr double kSnapshotSeconds = 15;

  // Sums the client and server duration families of `families` (a registry's collect()) per
  // edge and per service, as at `now_s` (a steady clock, seconds).
  void record(const std::vector<metrics::FamilySnapshot>& families, double now_s);

  struct Window {
    double seconds = 0;  // what the window really covers (less than asked when the agent is younger)
    std::vector<TrafficStats> edges;
    std::vector<TrafficStats> services;
  };
  // The traffic of the last `seconds`, up to `families` (a collect() of now, not kept) at now_s.
  Window window(double seconds, const std::vector<metrics::FamilySnapshot>& families, double now_s) const;

  // Whether a snapshot is due at now_s (every kSnapshotSeconds).
  bool due(double now_s) const;

 private:
  struct Key {
    bool edge;
    std::string service, address;
    uint16_t port;
    auto operator<=>(const Key&) const = default;
  };
  struct Snapshot {
    double time_s = 0;
    std::map<Key, TrafficTotals> totals;
  };
  // Totals per edge and service (and the families' bucket bounds into *bounds).
  static Snapshot totals_of(const std::vector<metrics::FamilySnapshot>& families, double now_s,
                            std::vector<double>* bounds);
  mutable std::mutex mu_;
  std::deque<Snapshot> snapshots_;
  std::vector<double> bounds_;
  double started_s_ = -1;  // the first record(): the agent's start, when everything was zero
};

}  // namespace waggle
