#include "xdp/xdp_support.hpp"

#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

namespace waggle {

namespace {

// The kernel's "netdev" generic netlink family (Linux 6.3, include/uapi/linux/netdev.h; not
// in the headers this builds with).
constexpr uint8_t kNetdevCmdDevGet = 1;
constexpr uint16_t kNetdevAttrIfindex = 1;
constexpr uint16_t kNetdevAttrXdpFeatures = 3;
constexpr uint64_t kXdpActBasic = 1u << 0;
constexpr uint64_t kXdpActRedirect = 1u << 1;
constexpr uint64_t kXdpActZeroCopy = 1u << 3;

struct Request {
  nlmsghdr nl;
  genlmsghdr genl;
  char attrs[64];
};

size_t put_attr(char* at, uint16_t type, const void* data, size_t len) {
  auto* a = reinterpret_cast<nlattr*>(at);
  a->nla_type = type;
  a->nla_len = uint16_t(NLA_HDRLEN + len);
  memcpy(at + NLA_HDRLEN, data, len);
  return NLA_ALIGN(a->nla_len);
}

// Sends the request and hands every attribute of every answer to `on_attr` (with the answer's
// index); false with *error when the kernel says no.
template <class OnAttr>
bool ask(int fd, Request& req, size_t attrs_len, OnAttr on_attr, std::string* error) {
  req.nl.nlmsg_len = uint32_t(NLMSG_LENGTH(GENL_HDRLEN + attrs_len));
  if (send(fd, &req, req.nl.nlmsg_len, 0) < 0) {
    *error = std::string("netlink: ") + strerror(errno);
    return false;
  }
  std::vector<char> buf(1 << 16);
  for (int answer = 0;;) {
    ssize_t n = recv(fd, buf.data(), buf.size(), 0);
    if (n < 0) {
      *error = std::string("netlink: ") + strerror(errno);
      return false;
    }
    for (auto* h = reinterpret_cast<nlmsghdr*>(buf.data()); n > 0 && NLMSG_OK(h, size_t(n)); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_type == NLMSG_DONE) return true;
      if (h->nlmsg_type == NLMSG_ERROR) {
        int err = -reinterpret_cast<nlmsgerr*>(NLMSG_DATA(h))->error;
        if (err == 0) return true;
        *error = std::string("netlink: ") + strerror(err);
        return false;
      }
      char* p = static_cast<char*>(NLMSG_DATA(h)) + GENL_HDRLEN;
      char* end = reinterpret_cast<char*>(h) + h->nlmsg_len;
      while (p + NLA_HDRLEN <= end) {
        auto* a = reinterpret_cast<nlattr*>(p);
        if (a->nla_len < NLA_HDRLEN || p + a->nla_len > end) break;
        on_attr(answer, a->nla_type & NLA_TYPE_MASK, p + NLA_HDRLEN, size_t(a->nla_len - NLA_HDRLEN));
        p += NLA_ALIGN(a->nla_len);
      }
      answer++;
      // A dump ends with NLMSG_DONE (its parts do not all say NLM_F_MULTI); an answer is one.
      if (!(req.nl.nlmsg_flags & NLM_F_DUMP) && !(h->nlmsg_flags & NLM_F_MULTI)) return true;
    }
  }
}

}  // namespace

std::vector<XdpInterfaceSupport> xdp_interface_support(std::string* error) {
  std::vector<XdpInterfaceSupport> out;
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
  if (fd < 0) {
    *error = std::string("netlink: ") + strerror(errno);
    return out;
  }
  Request req{};
  req.nl.nlmsg_type = GENL_ID_CTRL;
  req.nl.nlmsg_flags = NLM_F_REQUEST;
  req.genl.cmd = CTRL_CMD_GETFAMILY;
  req.genl.version = 1;
  size_t len = put_attr(req.attrs, CTRL_ATTR_FAMILY_NAME, "netdev", 7);
  uint16_t family = 0;
  bool ok = ask(
      fd, req, len,
      [&](int, uint16_t type, const void* data, size_t size) {
        if (type == CTRL_ATTR_FAMILY_ID && size >= 2) memcpy(&family, data, 2);
      },
      error);
  if (!ok || family == 0) {
    if (ok || error->find("No such file") != std::string::npos)
      *error = "this kernel has no netdev netlink family (Linux 6.3): XDP support per interface is unknown";
    close(fd);
    return out;
  }
  Request dump{};
  dump.nl.nlmsg_type = family;
  dump.nl.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  dump.genl.cmd = kNetdevCmdDevGet;
  dump.genl.version = 1;
  bool dumped = ask(
      fd, dump, 0,
      [&](int answer, uint16_t type, const void* data, size_t size) {
        if (size_t(answer) >= out.size()) out.resize(size_t(answer) + 1);
        XdpInterfaceSupport& s = out[size_t(answer)];
        if (type == kNetdevAttrIfindex && size >= 4) memcpy(&s.ifindex, data, 4);
        if (type == kNetdevAttrXdpFeatures && size >= 8) {
          uint64_t f = 0;
          memcpy(&f, data, 8);
          s.native = f & kXdpActBasic;
          s.redirect = f & kXdpActRedirect;
          s.zero_copy = f & kXdpActZeroCopy;
        }
      },
      error);
  close(fd);
  if (!dumped) out.clear();  // *error says why
  for (XdpInterfaceSupport& s : out) {
    char name[IF_NAMESIZE] = {};
    if (if_indextoname(s.ifindex, name)) s.name = name;
  }
  out.erase(std::remove_if(out.begin(), out.end(), [](const XdpInterfaceSupport& s) { return s.name.empty(); }),
            out.end());
  return out;
}

}  // namespace waggle
