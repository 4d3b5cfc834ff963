// Network namespaces by name (under /run/netns, as `ip netns` makes them) or by path.
#pragma once

#include <cstdint>
#include <string>

namespace waggle {

// Moves the calling thread into that network namespace. False with *error when it cannot.
bool enter_netns(const std::string& name_or_path, std::string* error);

// Enters a network namespace for a scope (when given a non-empty name) and goes back to the
// one it came from at the scope's end.
class NetnsScope {
 public:
  NetnsScope(const std::string& name_or_path, std::string* error);
  ~NetnsScope();
  NetnsScope(const NetnsScope&) = delete;
  NetnsScope& operator=(const NetnsScope&) = delete;
  bool ok() const { return ok_; }

 private:
  int home_ = -1;
  bool ok_ = true;
};

// The inode of the calling thread's network namespace (what `ip netns identify` compares).
uint64_t current_netns_inode();
// Its cookie: unlike the inode, never given to another namespace (SO_NETNS_COOKIE); 0 when
// the kernel has none.
uint64_t current_netns_cookie();

}  // namespace waggle
