// Sampled packets as users read them: their headers decoded into a packet.sample event, or
// written to a pcap file as captured.
#pragma once

#include <linux/types.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "core/events.hpp"
#include "xdp/xdp_record.h"

namespace waggle {

// What the captured prefix holds, as far as it goes.
PacketSampleEvent decode_packet_sample(const wg_xdp_sample& sample, const std::string& rule,
                                       const std::string& interface, int64_t unix_ns);

// The wall-clock time of a sample's CLOCK_MONOTONIC stamp.
int64_t sample_unix_ns(const wg_xdp_sample& sample);

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
