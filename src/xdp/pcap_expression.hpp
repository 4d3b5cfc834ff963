// tcpdump expressions, compiled by libpcap to classic BPF for Ethernet frames.
#pragma once

#include <linux/filter.h>

#include <cstdint>
#include <string>
#include <vector>

namespace waggle {

// Compiles (optimized) an expression as tcpdump would for an Ethernet interface. False with
// libpcap's message in *error when it does not compile.
bool compile_pcap(const std::string& expression, std::vector<sock_filter>* program, std::string* error);

// libpcap's own verdict for a frame (pcap_offline_filter): true when the program accepts it.
bool pcap_accepts(const std::vector<sock_filter>& program, const std::vector<uint8_t>& frame);

}  // namespace waggle
