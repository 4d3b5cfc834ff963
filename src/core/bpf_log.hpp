// libbpf's messages, captured instead of printed: a failed load reports the verifier's log
// with the error it caused, and probes that are expected to fail stay quiet.
#pragma once

#include <string>

namespace waggle {

// Routes libbpf's output into a per-thread buffer. Idempotent.
void capture_libbpf_log();

// Returns what libbpf said since the last call, and forgets it.
std::string take_libbpf_log();

// The part of a verifier log worth showing: its last `max_lines` lines, which hold the
// failing instruction and the reason.
std::string trim_verifier_log(const std::string& log, size_t max_lines = 40);

}  // namespace waggle
