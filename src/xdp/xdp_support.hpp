// Which interfaces can run XDP natively (in their driver), from the kernel's netdev netlink
// family: asked, never tried, so that `waggle doctor` attaches nothing to any interface.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace waggle {

struct XdpInterfaceSupport {
  std::string name;
  uint32_t ifindex = 0;
  bool native = false;     // the driver runs XDP programs (else: generic mode only)
  bool redirect = false;
  bool zero_copy = false;  // AF_XDP zero-copy
};

// The interfaces of the caller's network namespace; empty with *error when the kernel cannot
// say (before Linux 6.3).
std::vector<XdpInterfaceSupport> xdp_interface_support(std::string* error);

}  // namespace waggle
