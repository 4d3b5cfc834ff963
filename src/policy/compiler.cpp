#include "policy/compiler.hpp"

#include <fmt/format.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <set>

namespace waggle {

void fold_prefixes(std::map<std::string, uint64_t>& entries) {
  // Shorter keys first, so that a key's prefixes are complete when it is visited.
  std::vector<std::pair<std::string, uint64_t*>> by_length;
  for (auto& [key, bits] : entries) by_length.emplace_back(key, &bits);
  std::stable_sort(by_length.begin(), by_length.end(),
                   [](const auto& a, const auto& b) { return a.first.size() < b.first.size(); });
  for (auto& [key, bits] : by_length) {
    // The longest proper prefix that is a key already holds all of its own prefixes.
    for (size_t len = key.size(); len-- > 0;) {
      auto it = entries.find(key.substr(0, len));
      if (it != entries.end()) {
        *bits |= it->second;
        break;
      }
    }
  }
}

namespace {

void set_selector(wg_selector_masks& m, uint64_t bit, bool given, bool negate) {
  if (!given)
    m.unused |= bit;
  else if (negate)
    m.not_in |= bit;
  else
    m.in |= bit;
}

std::string unsupported(const Rule& r) {
  if (r.on == RuleEvent::kNetworkConnect && r.action == RuleAction::kKill)
    return "kill on network.connect is not possible (use deny)";
  if (r.on == RuleEvent::kNetworkAccept && r.action == RuleAction::kDeny &&
      (r.binary || r.parent_binary || r.uid || r.gid || r.container || r.args || r.path))
    return "deny on network.accept selects by source, port, protocol and cgroup only";
  return {};
}

// The IPv4 network an IPv6 CIDR covers through IPv4-mapped addresses (::ffff:a.b.c.d), if any:
// a.b.c.d/(N-96) for ::ffff:a.b.c.d/N, and all of IPv4 for a CIDR holding ::ffff:0:0/96.
std::optional<std::pair<std::array<uint8_t, 4>, uint8_t>> mapped_ipv4(const Cidr& net) {
  std::array<uint8_t, 16> prefix{};
  prefix[10] = prefix[11] = 0xff;
  unsigned common = std::min<unsigned>(net.prefix_len, 96);
  for (unsigned bit = 0; bit < common; bit++) {
    uint8_t mask = uint8_t(0x80u >> (bit % 8));
    if ((net.addr[bit / 8] & mask) != (prefix[bit / 8] & mask)) return std::nullopt;
  }
  if (net.prefix_len <= 96) return std::make_pair(std::array<uint8_t, 4>{}, uint8_t(0));
  std::array<uint8_t, 4> v4{};
  std::copy_n(net.addr.begin() + 12, 4, v4.begin());
  return std::make_pair(v4, uint8_t(net.prefix_len - 96));
}

// Where the cgroup programs of some rules attach: the cgroups they name, or the root of the
// cgroup tree as soon as one rule names none (or names cgroups it excludes).
struct AttachPoints {
  bool everywhere = false;
  std::set<std::string> cgroups;
  void add(const Rule& r) {
    if (!r.cgroup || r.cgroup->negate)
      everywhere = true;
    else
      cgroups.insert(r.cgroup->exact.begin(), r.cgroup->exact.end());
  }
  std::vector<std::string> list() const {
    if (everywhere) return {"/"};
    return {cgroups.begin(), cgroups.end()};
  }
};

}  // namespace

std::optional<CompiledPolicies> compile_policies(const std::vector<Policy>& policies,
                                                 const std::string& cgroup2_root, std::string* error) {
  CompiledPolicies c;
  AttachPoints connect_points, ingress_points;
  for (const Policy& p : policies) {
    for (const Rule& r : p.rules) {
      std::string where = fmt::format("{}: policy {}, rule {}", p.source, p.name, r.name);
      if (std::string what = unsupported(r); !what.empty()) {
        *error = fmt::format("{}: {}", where, what);
        return std::nullopt;
      }
      if (c.rules.size() >= WG_MAX_RULES) {
        *error = fmt::format("{}: more than {} rules in force on this host", where, WG_MAX_RULES);
        return std::nullopt;
      }
      size_t index = c.rules.size();
      uint64_t bit = 1ull << index;
      CompiledRule compiled{p.name, r.name, "", {}};
      compiled.action = action_name(r.action);
      switch (r.action) {
        case RuleAction::kLog:
          compiled.kernel.action = WG_ACTION_LOG;
          break;
        case RuleAction::kKill:
          compiled.kernel.action = WG_ACTION_KILL;
          break;
        case RuleAction::kCount:
          compiled.kernel.action = WG_ACTION_COUNT;
          break;
        case RuleAction::kDeny:
          if (r.on != RuleEvent::kNetworkConnect && r.on != RuleEvent::kNetworkAccept) {
            *error = fmt::format("{}: deny is only possible for network.connect and network.accept", where);
            return std::nullopt;
          }
          compiled.kernel.action = WG_ACTION_DENY;
          break;
      }
      if (r.rate_limit_per_s > 0) {  // N per window, as written
        compiled.kernel.window_ns = uint64_t(r.rate_window_s) * 1'000'000'000ull;
        compiled.kernel.per_window = uint64_t(std::llround(r.rate_limit_per_s * r.rate_window_s));
      } else if (r.on == RuleEvent::kNetworkAccept && r.action == RuleAction::kDeny) {
        // Judged on every arriving packet a remote peer sends: never more events than this.
        compiled.kernel.window_ns = 1'000'000'000ull;
        compiled.kernel.per_window = kInboundDenyEventsPerSecond;
      }
      compiled.kernel.monitor = p.mode == PolicyMode::kMonitor;
      compiled.kernel.in_use = 1;
      c.rules.push_back(compiled);
      if (r.on == RuleEvent::kFileOpen) c.masks.file_open_rules |= bit;
      if (r.on == RuleEvent::kProcessExec) c.masks.exec_rules |= bit;
      if (r.on == RuleEvent::kNetworkConnect) {
        c.masks.connect_rules |= bit;
        connect_points.add(r);
      }
      if (r.on == RuleEvent::kNetworkAccept) {
        // A deny refuses the first packet; the other actions are taken when a process accepts.
        if (r.action == RuleAction::kDeny) {
          c.masks.ingress_rules |= bit;
          ingress_points.add(r);
        } else {
          c.masks.accept_rules |= bit;
        }
      }
      if (r.on == RuleEvent::kNetworkConnect || r.on == RuleEvent::kNetworkAccept) {
        if (r.tcp) c.masks.tcp_rules |= bit;
        if (r.udp) c.masks.udp_rules |= bit;
        set_selector(c.masks.sel[WG_SEL_DESTINATION], bit, r.destination.has_value(),
                     r.destination && r.destination->negate);
        if (r.destination) {
          for (const Cidr& net : r.destination->cidrs) {
            if (net.family == AF_INET) {
              std::array<uint8_t, 4> a{};
              std::copy_n(net.addr.begin(), 4, a.begin());
              c.dest4[{a, net.prefix_len}] |= bit;
              // The same network as IPv4-mapped IPv6 (::ffff:a.b.c.d): an AF_INET6 socket can
              // reach it, through the connect6 hook.
              std::array<uint8_t, 16> mapped{};
              mapped[10] = mapped[11] = 0xff;
              std::copy_n(net.addr.begin(), 4, mapped.begin() + 12);
              c.dest6[{mapped, uint8_t(net.prefix_len + 96)}] |= bit;
            } else {
              c.dest6[{net.addr, net.prefix_len}] |= bit;
              // IPv4-mapped space (::ffff:0:0/96) inside it, or it inside that: IPv4 packets and
              // AF_INET sockets are looked up as IPv4.
              if (auto v4 = mapped_ipv4(net)) c.dest4[*v4] |= bit;
            }
          }
        }
        set_selector(c.masks.sel[WG_SEL_PORT], bit, !r.ports.empty(), false);
        for (const PortRange& range : r.ports)
          for (uint32_t port = range.low; port <= range.high; port++) c.ports[uint16_t(port)] |= bit;
      }

      set_selector(c.masks.sel[WG_SEL_PATH], bit, r.path.has_value(), false);
      if (r.path) {
        for (const auto& v : r.path->prefix) c.path_prefix[v] |= bit;
        for (const auto& v : r.path->exact) c.path_exact[v] |= bit;
        for (const auto& v : r.path->suffix) c.path_suffix_reversed[std::string(v.rbegin(), v.rend())] |= bit;
      }
      set_selector(c.masks.sel[WG_SEL_BINARY], bit, r.binary.has_value(), r.binary && r.binary->negate);
      if (r.binary) {
        for (const auto& v : r.binary->exact) c.binary_exact[v] |= bit;
        for (const auto& v : r.binary->prefix) c.binary_prefix[v] |= bit;
      }
      set_selector(c.masks.sel[WG_SEL_PARENT_BINARY], bit, r.parent_binary.has_value(),
                   r.parent_binary && r.parent_binary->negate);
      if (r.parent_binary) {
        for (const auto& v : r.parent_binary->exact) c.parent_binary_exact[v] |= bit;
        for (const auto& v : r.parent_binary->prefix) c.parent_binary_prefix[v] |= bit;
      }
      set_selector(c.masks.sel[WG_SEL_ARGS], bit, r.args.has_value(), r.args && r.args->negate);
      if (r.args)
        for (const auto& v : r.args->exact) c.args[v] |= bit;
      set_selector(c.masks.sel[WG_SEL_CONTAINER], bit, r.container.has_value(),
                   r.container && r.container->negate);
      if (r.container)
        for (const auto& v : r.container->exact) c.containers[v] |= bit;
      set_selector(c.masks.sel[WG_SEL_UID], bit, r.uid.has_value(), r.uid && r.uid->negate);
      if (r.uid)
        for (uint32_t id : r.uid->ids) c.uid[id] |= bit;
      set_selector(c.masks.sel[WG_SEL_GID], bit, r.gid.has_value(), r.gid && r.gid->negate);
      if (r.gid)
        for (uint32_t id : r.gid->ids) c.gid[id] |= bit;
      set_selector(c.masks.sel[WG_SEL_CGROUP], bit, r.cgroup.has_value(), r.cgroup && r.cgroup->negate);
      if (r.cgroup) {
        for (const auto& path : r.cgroup->exact) {
          struct stat st {};
          std::string full = cgroup2_root + path;
          if (cgroup2_root.empty() || stat(full.c_str(), &st) != 0) {
            *error =
                fmt::format("{}: cgroup {} not found under {}: {}", where, path,
                            cgroup2_root.empty() ? "(no cgroup v2 mount)" : cgroup2_root, strerror(errno));
            return std::nullopt;
          }
          c.cgroup[st.st_ino] |= bit;  // a cgroup v2 id is its directory's inode number
        }
      }
    }
  }
  c.connect_cgroups = connect_points.list();
  c.ingress_cgroups = ingress_points.list();
  c.masks.path_lists = (c.path_prefix.empty() ? 0 : WG_LIST_PREFIX) |
                       (c.path_exact.empty() ? 0 : WG_LIST_EXACT) |
                       (c.path_suffix_reversed.empty() ? 0 : WG_LIST_SUFFIX);
  c.masks.binary_lists =
      (c.binary_prefix.empty() ? 0 : WG_LIST_PREFIX) | (c.binary_exact.empty() ? 0 : WG_LIST_EXACT);
  fold_networks(c.dest4);
  fold_networks(c.dest6);
  fold_prefixes(c.path_prefix);
  fold_prefixes(c.path_suffix_reversed);
  c.masks.parent_binary_lists = (c.parent_binary_prefix.empty() ? 0 : WG_LIST_PREFIX) |
                                (c.parent_binary_exact.empty() ? 0 : WG_LIST_EXACT);
  fold_prefixes(c.binary_prefix);
  fold_prefixes(c.parent_binary_prefix);
  fold_prefixes(c.containers);
  return c;
}

}  // namespace waggle
