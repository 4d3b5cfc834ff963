// The XDP program of a packet rule set: loaded with its rules, run on test packets
// (BPF_PROG_RUN), its counters read. Attaching it to an interface is up to the caller.
#pragma once

#include <linux/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "xdp/compile.hpp"

struct xdp_filter_bpf;

namespace waggle {

struct PacketCounter {
  uint64_t packets = 0;
  uint64_t bytes = 0;
};

class XdpFilter {
 public:
  // Loads the program with these rules, or nothing (*error says why).
  static std::unique_ptr<XdpFilter> load(const CompiledRules& rules, std::string* error);
  ~XdpFilter();
  XdpFilter(const XdpFilter&) = delete;
  XdpFilter& operator=(const XdpFilter&) = delete;

  int program_fd() const;
  // The tail-call chain (tcpdump expressions, then the rules). A program array is emptied by
  // the kernel when no file refers to it any more: it must be pinned while attached.
  int chain_fd() const;
  // Runs the program once on `frame` (from its Ethernet header); returns the XDP action
  // (XDP_DROP 1, XDP_PASS 2) or -errno.
  int run(const std::vector<uint8_t>& frame, uint32_t repeat = 1, uint32_t* duration_ns = nullptr) const;
  // Per rule (by index), then the default and malformed slots: summed over CPUs.
  std::vector<PacketCounter> counters() const;
  // Keeps what was applied with the program (its rule names and `meta`), bound to it so that
  // whoever finds the program attached finds them: `waggle xdp status`.
  bool keep_description(const wg_xdp_meta& meta, const std::vector<std::string>& rule_names,
                        std::string* error) const;

 private:
  XdpFilter() = default;
  bool load_chain(const CompiledRules& rules, std::string* error);
  xdp_filter_bpf* skel_ = nullptr;
};

// Reads a rules file, compiles it and loads its program. Nothing with *error; *bad_rules says
// whether the file was at fault (rather than the kernel).
std::unique_ptr<XdpFilter> load_rule_set(const std::string& path, PacketRules* rules, CompiledRules* compiled,
                                         std::string* error, bool* bad_rules);

}  // namespace waggle
