// Packet rules on an interface: attached through a BPF link pinned under
// /sys/fs/bpf/waggle/xdp, so that they outlive the command that applied them; replaced
// atomically (bpf_link_update: every packet sees the old program or the new one); found again
// from the pin alone for status and detach. Works in the caller's network namespace.
#pragma once

#include <linux/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "xdp/xdp_filter.hpp"

namespace waggle {

enum class XdpMode { kAuto, kNative, kGeneric };

constexpr const char* kXdpPinRoot = "/sys/fs/bpf/waggle/xdp";

struct XdpApplied {
  std::string pin;        // the link's pin
  std::string name;       // the rule set's metadata.name
  std::string source;     // its file
  std::string ifname;     // as it was named when applied
  uint32_t ifindex = 0;   // 0: the interface is gone (the link is defunct)
  uint64_t netns_inode = 0;
  std::string mode;       // native or generic
  int64_t applied_unix_ns = 0;
  uint32_t program_id = 0;
  std::vector<std::string> rule_names;
  std::vector<std::string> actions;  // per rule, then the default and malformed actions
  std::vector<PacketCounter> counters;  // per rule, then no-rule and malformed
};

struct XdpApplyResult {
  std::string mode;      // what it runs in: native or generic
  std::string notice;    // a fallback to generic mode, or the rules replaced
  bool replaced = false;
};

// Attaches `filter` to the interface, or replaces waggle's rules already there. Refuses an
// interface with another XDP program, naming it. On failure nothing changes.
bool apply_xdp(const XdpFilter& filter, const CompiledRules& compiled, const PacketRules& rules,
               const std::string& ifname, XdpMode mode, XdpApplyResult* result, std::string* error);

// Every rule set waggle has attached (in any network namespace), read from the pins.
std::vector<XdpApplied> xdp_applied(std::string* error);

// The ring of sampled packets of waggle's rules on the interface (a file descriptor the caller
// closes), with the rule names; -1 with *error. *lock_fd (closed by the caller when done
// reading) holds the interface's one-reader lock: a second reader is refused.
int open_xdp_samples(const std::string& ifname, std::vector<std::string>* rule_names, int* lock_fd,
                     std::string* error, uint32_t* program_id = nullptr);

// The id of the program waggle's link on the interface runs (it changes when the rules are
// replaced), or 0.
uint32_t xdp_program_of(const std::string& ifname);

// Detaches waggle's rules from the interface (in the caller's network namespace).
bool detach_xdp(const std::string& ifname, std::string* error);
// Detaches every rule set waggle has attached, also from interfaces that are gone.
// Returns how many, or -1 with *error.
int detach_all_xdp(std::string* error);

}  // namespace waggle
