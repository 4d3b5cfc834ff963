// DNS queries the kernel holds until their answers come (dns_kernel.bpf.h): those that waited
// too long are taken out of its table, each with one lookup-and-delete, so that a query is
// reported once, unanswered here or answered by the kernel's record, whichever removed it.
#pragma once

#include <linux/types.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "records.h"

namespace waggle {

class DnsHeldQueries {
 public:
  using Report = std::function<void(const wg_dns_pending&)>;

  explicit DnsHeldQueries(int fd) : fd_(fd) {}

  // Takes out every query sent before `before_boottime_ns` (CLOCK_BOOTTIME) and hands it on.
  void expire(uint64_t before_boottime_ns, const Report& report);

  uint64_t read_failures() const { return read_failures_; }  // tried again at the next call

 private:
  int fd_;
  std::vector<wg_dns_pending_key> old_;
  uint64_t read_failures_ = 0;
};

}  // namespace waggle
