// Sampled packets as users read them: their headers decoded into a `packet.sample` JSON line,
// or written to a pcap file as captured.
#pragma once

#include <linux/types.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "xdp/xdp_record.h"

namespace waggle {

// {"type":"packet.sample","time":...,"interface":...,"rule":...,"length":...,"captured":...,
//  "eth":{...},"ip":{...},"l4":{...}}: what the captured prefix holds, as far as it goes.
std::string packet_sample_json(const wg_xdp_sample& sample, const std::string& rule, const std::string& interface,
                               int64_t unix_ns);

// A pcap file (Ethernet, microseconds) the samples are appended to.
class PcapWriter {
 public:
  explicit PcapWriter(FILE* file);  // writes the file header
  void write(const wg_xdp_sample& sample, int64_t unix_ns);
  bool ok() const { return ok_; }

 private:
  FILE* file_;
  bool ok_ = true;
};

}  // namespace waggle
