// Network namespaces by name (under /run/netns, as `ip netns` makes them) or by path.
#pragma once

#include <cstdint>
#include <string>

namespace waggle {

// Moves the calling thread into that network namespace. False with *error when it cannot.
bool enter_netns(const std::string& name_or_path, std::string* error);

// The inode of the calling thread's network namespace (what `ip netns identify` compares).
uint64_t current_netns_inode();

}  // namespace waggle
