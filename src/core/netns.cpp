#include "core/netns.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace waggle {

bool enter_netns(const std::string& name, std::string* error) {
  std::string path = name.find('/') == std::string::npos ? "/run/netns/" + name : name;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *error = "network namespace " + name + ": " + path + ": " + strerror(errno);
    return false;
  }
  int rc = setns(fd, CLONE_NEWNET);
  int err = errno;
  close(fd);
  if (rc != 0) {
    *error = "network namespace " + name + ": cannot enter it: " + strerror(err);
    return false;
  }
  return true;
}

NetnsScope::NetnsScope(const std::string& name, std::string* error) {
  if (name.empty()) return;
  home_ = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (home_ < 0) {
    *error = std::string("cannot open this thread's network namespace: ") + strerror(errno);
    ok_ = false;
    return;
  }
  ok_ = enter_netns(name, error);
}

NetnsScope::~NetnsScope() {
  if (home_ < 0) return;
  setns(home_, CLONE_NEWNET);
  close(home_);
}

uint64_t current_netns_cookie() {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return 0;
  uint64_t cookie = 0;
  socklen_t len = sizeof(cookie);
  constexpr int kSoNetnsCookie = 71;  // SO_NETNS_COOKIE, Linux 5.14
  if (getsockopt(s, SOL_SOCKET, kSoNetnsCookie, &cookie, &len) != 0) cookie = 0;
  close(s);
  return cookie;
}

uint64_t current_netns_inode() {
  struct stat st {};
  return stat("/proc/thread-self/ns/net", &st) == 0 ? uint64_t(st.st_ino) : 0;
}

}  // namespace waggle
