#include "sensors/network/dns_held.hpp"

#include <bpf/bpf.h>

#include <cerrno>

namespace waggle {

void DnsHeldQueries::expire(uint64_t before_boottime_ns, const Report& report) {
  old_.clear();
  wg_dns_pending_key key{}, next{};
  wg_dns_pending value{};
  const void* at = nullptr;  // from the first key
  // At most the table's size: keys removed meanwhile by the kernel may restart the walk.
  for (int i = 0; i < WG_DNS_PENDING && bpf_map_get_next_key(fd_, at, &next) == 0; i++) {
    key = next;
    at = &key;
    if (bpf_map_lookup_elem(fd_, &key, &value) == 0 && value.h.ktime < before_boottime_ns) old_.push_back(key);
  }
  for (const wg_dns_pending_key& k : old_) {
    if (bpf_map_lookup_and_delete_elem(fd_, &k, &value) == 0) {
      report(value);
    } else if (errno != ENOENT) {  // (before Linux 5.14, hashes could not do it at once)
      if (bpf_map_lookup_elem(fd_, &k, &value) == 0 && bpf_map_delete_elem(fd_, &k) == 0)
        report(value);
      else if (errno != ENOENT)
        read_failures_++;
    }
  }
}

}  // namespace waggle
