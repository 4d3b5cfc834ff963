// HTTP exchanges the kernel tallied rather than posted (sensors.network.http_events: none):
// read about once a second, each tally's change since the last read handed on as one event
// that carries it (HttpEvent::tally). A tally whose process is gone is read a last time and
// removed; so is one idle for a minute while the kernel's table is three quarters full.
#pragma once

#include <linux/types.h>

#include <cstdint>
#include <cstring>
#include <functional>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/events.hpp"
#include "records.h"

namespace waggle {

// The largest duration in ns within `bound_s` seconds as the metrics compare a duration with a
// bound (double(ns) / 1e9 <= bound_s): the kernel puts each exchange in the bucket they would.
uint64_t http_bound_ns(double bound_s);

class HttpTallies {
 public:
  // A tally's labels, from its key and name (the process's header and the target). False: its
  // exchanges are not reported (a process outside the configured binaries and containers).
  using Describe = std::function<bool(const wg_http_tally_key&, const wg_http_tally_name&, HttpEvent*)>;
  // Whether the process that started at `start_boottime_ns` is gone.
  using Gone = std::function<bool(uint32_t pid, uint64_t start_boottime_ns)>;

  // Idle this long, a tally may be removed to make room (when the table is 3/4 full).
  static constexpr uint64_t kIdleNs = 60'000'000'000;

  HttpTallies(int tallies_fd, int names_fd, Describe describe, Gone gone);

  // Reads every tally at `now_ns` (any monotonic clock); one event per tally that changed.
  void read(uint64_t now_ns, std::vector<Event>* out);

  size_t tallies() const { return known_.size(); }  // tallies named so far and not removed
  uint64_t removed() const { return removed_; }  // named tallies read a last time and removed
  uint64_t unnamed() const { return unnamed_; }              // removed without a name, uncounted
  uint64_t read_failures() const { return read_failures_; }  // reads of the kernel's table that failed

 private:
  struct KeyHash {
    size_t operator()(const wg_http_tally_key& k) const {
      return std::hash<std::string_view>{}(std::string_view(reinterpret_cast<const char*>(&k), sizeof(k)));
    }
  };
  struct KeyEqual {
    bool operator()(const wg_http_tally_key& a, const wg_http_tally_key& b) const {
      return std::memcmp(&a, &b, sizeof(a)) == 0;
    }
  };
  struct Known {
    bool reported = false;
    HttpEvent labels;
    HttpTally last;           // summed over CPUs, as of the last read
    uint64_t changed_ns = 0;  // when it last changed
    bool seen = false;        // in the table at this read
  };
  // The tally of one key, summed over its CPUs' values.
  HttpTally sum(const uint64_t* per_cpu) const;
  // Hands on what `now` adds to `k.last`, and keeps it.
  void changed(Known& k, const HttpTally& now, uint64_t now_ns, std::vector<Event>* out);
  // Reads key's tally a last time (handing on its change to `k`'s, if given) and removes it and
  // its name. False if the tally could not be removed.
  bool remove(const wg_http_tally_key& key, Known* k, uint64_t now_ns, std::vector<Event>* out);

  int tallies_fd_, names_fd_;
  Describe describe_;
  Gone gone_;
  size_t cpus_;
  size_t value_words_;  // u64 words of one CPU's value
  std::vector<wg_http_tally_key> keys_;
  std::vector<uint64_t> values_;
  std::unordered_map<wg_http_tally_key, Known, KeyHash, KeyEqual> known_;
  std::unordered_map<wg_http_tally_key, int, KeyHash, KeyEqual> nameless_;  // reads each was seen without a name
  uint64_t removed_ = 0;
  uint64_t unnamed_ = 0;
  uint64_t read_failures_ = 0;
};

}  // namespace waggle
