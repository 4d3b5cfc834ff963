#include "sensors/network/http_tallies.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <algorithm>
#include <cerrno>
#include <cmath>

namespace waggle {

uint64_t http_bound_ns(double bound_s) {
  if (!(bound_s > 0)) return 0;
  auto within = [bound_s](uint64_t ns) { return double(ns) / 1e9 <= bound_s; };
  uint64_t ns = uint64_t(std::floor(bound_s * 1e9));
  while (ns > 0 && !within(ns)) ns--;
  while (within(ns + 1)) ns++;
  return ns;
}

HttpTallies::HttpTallies(int tallies_fd, int names_fd, Describe describe, Gone gone)
    : tallies_fd_(tallies_fd), names_fd_(names_fd), describe_(std::move(describe)), gone_(std::move(gone)) {
  const int cpus = libbpf_num_possible_cpus();
  cpus_ = cpus > 0 ? size_t(cpus) : 1;
  value_words_ = (sizeof(wg_http_tally) + 7) / 8;
}

HttpTally HttpTallies::sum(const uint64_t* per_cpu) const {
  HttpTally t;
  for (size_t c = 0; c < cpus_; c++) {
    const auto* v = reinterpret_cast<const wg_http_tally*>(per_cpu + c * value_words_);
    t.count += v->count;
    t.sum_ns += v->sum_ns;
    for (size_t b = 0; b < t.buckets.size(); b++) t.buckets[b] += v->buckets[b];
  }
  return t;
}

void HttpTallies::changed(Known& k, const HttpTally& now, uint64_t now_ns, std::vector<Event>* out) {
  // The whole tally: a read between the kernel's updates of one exchange may have seen its
  // count and not yet its bucket.
  if (now.count == k.last.count && now.sum_ns == k.last.sum_ns && now.buckets == k.last.buckets) return;
  k.changed_ns = now_ns;
  if (k.reported) {
    auto delta = std::make_shared<HttpTally>();
    delta->count = now.count - k.last.count;
    delta->sum_ns = now.sum_ns - k.last.sum_ns;
    for (size_t b = 0; b < delta->buckets.size(); b++) delta->buckets[b] = now.buckets[b] - k.last.buckets[b];
    HttpEvent& e = std::get<HttpEvent>(out->emplace_back(std::in_place_type<HttpEvent>, k.labels));
    e.metrics_only = true;
    e.tally = std::move(delta);
  }
  k.last = now;
}

bool HttpTallies::remove(const wg_http_tally_key& key, Known* k, uint64_t now_ns, std::vector<Event>* out) {
  // The name first: an exchange that comes in between still finds its tally, and one after
  // makes both again.
  bpf_map_delete_elem(names_fd_, &key);
  std::vector<uint64_t> last(cpus_ * value_words_);
  bool gone = bpf_map_lookup_and_delete_elem(tallies_fd_, &key, last.data()) == 0;
  if (!gone && errno != ENOENT && bpf_map_lookup_elem(tallies_fd_, &key, last.data()) == 0)  // before Linux 5.14
    gone = bpf_map_delete_elem(tallies_fd_, &key) == 0;
  if (!gone) return false;
  if (k) {  // a named tally, read a last time (a nameless one is counted by the caller)
    changed(*k, sum(last.data()), now_ns, out);
    removed_++;
  }
  return true;
}

void HttpTallies::read(uint64_t now_ns, std::vector<Event>* out) {
  // About 256 KiB of values per batch, whatever the number of CPUs.
  const uint32_t kBatch = uint32_t(std::max<size_t>(32, (256 << 10) / (cpus_ * value_words_ * 8)));
  keys_.resize(kBatch);
  values_.resize(size_t(kBatch) * cpus_ * value_words_);
  for (auto& [key, k] : known_) k.seen = false;
  wg_http_tally_key token_in{}, token_out{};  // the batch's position (a bucket, at most a key's size)
  bool first = true;
  for (;;) {
    uint32_t count = kBatch;
    int err = bpf_map_lookup_batch(tallies_fd_, first ? nullptr : &token_in, &token_out, keys_.data(),
                                   values_.data(), &count, nullptr);
    if (err && errno != ENOENT) {
      read_failures_++;
      return;  // read again at the next turn: nothing is lost, the kernel's counts only grow
    }
    for (uint32_t i = 0; i < count; i++) {
      const wg_http_tally_key& key = keys_[i];
      auto it = known_.find(key);
      if (it == known_.end()) {
        wg_http_tally_name name;
        if (bpf_map_lookup_elem(names_fd_, &key, &name) != 0) {
          // The kernel names a tally before making it, so this is rare (a name removed as the
          // table filled): a tally nameless at two reads goes, uncounted.
          if (++nameless_[key] >= 2 && remove(key, nullptr, now_ns, out)) {
            nameless_.erase(key);
            unnamed_++;
          }
          continue;
        }
        nameless_.erase(key);
        Known k;
        k.reported = describe_(key, name, &k.labels);
        k.changed_ns = now_ns;
        it = known_.emplace(key, std::move(k)).first;
      }
      it->second.seen = true;
      changed(it->second, sum(values_.data() + size_t(i) * cpus_ * value_words_), now_ns, out);
    }
    if (err) break;  // ENOENT: that was the last batch
    token_in = token_out;
    first = false;
  }
  // A tally whose process is gone gets nothing more; one idle for long makes room when needed.
  const bool crowded = known_.size() > WG_HTTP_TALLIES / 4 * 3;
  for (auto it = known_.begin(); it != known_.end();) {
    Known& k = it->second;
    const bool idle = k.changed_ns != now_ns;
    if (!k.seen || (idle && (gone_(it->first.pid, it->first.start_boottime) ||
                             (crowded && now_ns - k.changed_ns >= kIdleNs)))) {
      if (k.seen && !remove(it->first, &k, now_ns, out)) {
        ++it;  // kept: tried again at the next read
        continue;
      }
      it = known_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace waggle
