#include "xdp/xdp_attach.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fmt/format.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <algorithm>
#include <filesystem>

#include "core/netns.hpp"

namespace waggle {

namespace {

constexpr uint32_t kBpfFsMagic = 0xcafe4a11;
constexpr int kENOTSUPP = 524;  // the kernel's "operation not supported" for a driver

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// One directory per interface: the link, and the tail-call chain (a program array loses its
// entries when no file refers to it).
// Keyed by the namespace's cookie (inodes are reused by later namespaces) and the ifindex.
std::string pin_dir(uint32_t ifindex) {
  uint64_t netns = current_netns_cookie();
  return netns ? fmt::format("{}/netns{}-if{}", kXdpPinRoot, netns, ifindex)
               : fmt::format("{}/net{}-if{}", kXdpPinRoot, current_netns_inode(), ifindex);
}

// The chain of a program is pinned as chain_<its id>: a replacement pins the new chain beside
// the old one, which goes only once the link runs the new program.
std::string chain_pin(const std::string& dir, int prog_fd) {
  bpf_prog_info info{};
  uint32_t len = sizeof(info);
  bpf_obj_get_info_by_fd(prog_fd, &info, &len);
  return fmt::format("{}/chain_{}", dir, info.id);
}

// Removes the pins of the directory but those kept (and the directory, when none is kept).
bool remove_pins(const std::string& dir, std::string* error, const std::vector<std::string>& keep = {}) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    std::string path = entry.path().string();
    if (std::find(keep.begin(), keep.end(), path) != keep.end()) continue;
    if (unlink(path.c_str()) != 0 && errno != ENOENT) {
      *error = fmt::format("cannot remove {}: {}", path, strerror(errno));
      return false;
    }
  }
  if (!keep.empty()) return true;
  if (rmdir(dir.c_str()) != 0 && errno != ENOENT) {
    *error = fmt::format("cannot remove {}: {}", dir, strerror(errno));
    return false;
  }
  return true;
}

bool is_bpffs(const char* path) {
  struct statfs fs {};
  return statfs(path, &fs) == 0 && uint32_t(fs.f_type) == kBpfFsMagic;
}

// The BPF file system at /sys/fs/bpf, mounted there when it is not yet (as bpftool and libxdp
// do; systemd mounts it at boot on most distributions).
bool ensure_pin_root(std::string* error) {
  if (!is_bpffs("/sys/fs/bpf") && mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700") != 0) {
    *error = fmt::format("/sys/fs/bpf is not a BPF file system and mounting one there failed ({}): the rules "
                         "could not stay attached after this command",
                         strerror(errno));
    return false;
  }
  std::error_code ec;
  std::filesystem::create_directories(kXdpPinRoot, ec);
  if (ec) {
    *error = fmt::format("cannot create {}: {}", kXdpPinRoot, ec.message());
    return false;
  }
  return true;
}

std::string mode_name(uint32_t flags) { return flags == XDP_FLAGS_SKB_MODE ? "generic" : "native"; }

// Another program on the interface, described for the refusal, or empty.
std::string foreign_program(uint32_t ifindex) {
  LIBBPF_OPTS(bpf_xdp_query_opts, q);
  if (bpf_xdp_query(int(ifindex), 0, &q) != 0) return "";
  for (auto [id, mode] : {std::pair{q.drv_prog_id, "native"}, std::pair{q.skb_prog_id, "generic"},
                          std::pair{q.hw_prog_id, "offloaded"}}) {
    if (!id) continue;
    std::string name = "?";
    Fd fd(bpf_prog_get_fd_by_id(id));
    bpf_prog_info info{};
    uint32_t len = sizeof(info);
    if (fd.get() >= 0 && bpf_obj_get_info_by_fd(fd.get(), &info, &len) == 0) name = info.name;
    return fmt::format("program {} ({}, {} mode)", id, name, mode);
  }
  return "";
}

int create_link(int prog_fd, uint32_t ifindex, uint32_t flags) {
  LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = flags);
  return bpf_link_create(prog_fd, int(ifindex), BPF_XDP, &opts);
}

bool read_meta(int map_fd, wg_xdp_meta* meta) {
  uint32_t zero = 0;
  return bpf_map_lookup_elem(map_fd, &zero, meta) == 0;
}

// The program's map of that name, by the program's bound maps.
int program_map(int prog_fd, const char* name) {
  uint32_t ids[64] = {};
  bpf_prog_info info{};
  info.nr_map_ids = 64;
  info.map_ids = reinterpret_cast<uint64_t>(ids);
  uint32_t len = sizeof(info);
  if (bpf_obj_get_info_by_fd(prog_fd, &info, &len) != 0) return -1;
  for (uint32_t i = 0; i < info.nr_map_ids && i < 64; i++) {
    int fd = bpf_map_get_fd_by_id(ids[i]);
    if (fd < 0) continue;
    bpf_map_info m{};
    uint32_t mlen = sizeof(m);
    if (bpf_obj_get_info_by_fd(fd, &m, &mlen) == 0 && strcmp(m.name, name) == 0) return fd;
    close(fd);
  }
  return -1;
}

bool read_applied(const std::string& dir, XdpApplied* out, std::string* error) {
  const std::string pin = dir + "/link";
  Fd link(bpf_obj_get(pin.c_str()));
  if (link.get() < 0) {
    *error = fmt::format("{}: {}", pin, strerror(errno));
    return false;
  }
  bpf_link_info info{};
  uint32_t len = sizeof(info);
  if (bpf_obj_get_info_by_fd(link.get(), &info, &len) != 0 || info.type != BPF_LINK_TYPE_XDP) {
    *error = fmt::format("{}: not an XDP link", pin);
    return false;
  }
  out->pin = dir;
  out->ifindex = info.xdp.ifindex;
  out->program_id = info.prog_id;
  Fd prog(bpf_prog_get_fd_by_id(info.prog_id));
  if (prog.get() < 0) {
    *error = fmt::format("{}: program {}: {}", pin, info.prog_id, strerror(errno));
    return false;
  }
  Fd meta_map(program_map(prog.get(), "meta")), names(program_map(prog.get(), "rule_names")),
      counters(program_map(prog.get(), "counters"));
  wg_xdp_meta meta{};
  if (meta_map.get() < 0 || names.get() < 0 || counters.get() < 0 || !read_meta(meta_map.get(), &meta)) {
    *error = fmt::format("{}: program {} is not waggle's", pin, info.prog_id);
    return false;
  }
  out->name = std::string(meta.name, strnlen(meta.name, sizeof(meta.name)));
  out->source = std::string(meta.source, strnlen(meta.source, sizeof(meta.source)));
  out->ifname = std::string(meta.ifname, strnlen(meta.ifname, sizeof(meta.ifname)));
  out->netns_inode = meta.netns_inode;
  out->mode = mode_name(meta.mode);
  out->applied_unix_ns = int64_t(meta.applied_unix_ns);
  int ncpu = libbpf_num_possible_cpus();
  std::vector<wg_xdp_counter> per_cpu(size_t(std::max(ncpu, 1)));
  auto counter = [&](uint32_t slot) {
    PacketCounter c;
    if (bpf_map_lookup_elem(counters.get(), &slot, per_cpu.data()) == 0)
      for (const wg_xdp_counter& v : per_cpu) {
        c.packets += v.packets;
        c.bytes += v.bytes;
      }
    return c;
  };
  Fd records(program_map(prog.get(), "rules")), settings(program_map(prog.get(), "settings"));
  auto action = [](uint8_t a) -> std::string {
    return a == WG_XDP_ACT_DROP         ? "drop"
           : a == WG_XDP_ACT_COUNT      ? "count"
           : a == WG_XDP_ACT_RATE_LIMIT ? "rate_limit"
           : a == WG_XDP_ACT_SAMPLE     ? "sample"
                                        : "pass";
  };
  for (uint32_t i = 0; i < meta.n_rules && i < WG_XDP_MAX_RULES; i++) {
    char name[WG_XDP_NAME_MAX] = {};
    bpf_map_lookup_elem(names.get(), &i, name);
    out->rule_names.emplace_back(name, strnlen(name, sizeof(name)));
    out->counters.push_back(counter(i));
    wg_xdp_rule rule{};
    bpf_map_lookup_elem(records.get(), &i, &rule);
    out->actions.push_back(action(rule.action));
  }
  wg_xdp_settings s{};
  uint32_t zero = 0;
  bpf_map_lookup_elem(settings.get(), &zero, &s);
  out->actions.push_back(action(s.default_action));
  out->actions.push_back(action(s.malformed_action));
  out->counters.push_back(counter(WG_XDP_SLOT_DEFAULT));
  out->counters.push_back(counter(WG_XDP_SLOT_MALFORMED));
  out->counters.push_back(counter(WG_XDP_SLOT_CHAIN_BROKEN));
  out->counters.push_back(counter(WG_XDP_SLOT_SAMPLE_LOST));
  return true;
}

// The pin root and its parent, when nothing is pinned there any more (best effort: another
// command may be pinning).
void remove_empty_pin_root() {
  rmdir(kXdpPinRoot);
  rmdir(std::filesystem::path(kXdpPinRoot).parent_path().c_str());
}

// Holds an exclusive lock that applies and detaches of the host take, one at a time. A file
// outside the BPF file system, whose directories come and go.
constexpr const char* kLockFile = "/run/lock/waggle-xdp.lock";
class PinLock {
 public:
  PinLock() : fd_(open(kLockFile, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) {
    if (fd_ >= 0) flock(fd_, LOCK_EX);
  }
  ~PinLock() {
    if (fd_ >= 0) close(fd_);  // releases the lock
  }

 private:
  int fd_;
};

}  // namespace

bool apply_xdp(const XdpFilter& filter, const CompiledRules& compiled, const PacketRules& rules,
               const std::string& ifname, XdpMode mode, XdpApplyResult* result, std::string* error) {
  uint32_t ifindex = if_nametoindex(ifname.c_str());
  if (ifindex == 0) {
    *error = fmt::format("no interface {} in this network namespace", ifname);
    return false;
  }
  PinLock lock;
  // A refusal leaves no directory behind (rmdir fails on what holds pins), under the lock.
  struct CleanUp {
    ~CleanUp() { remove_empty_pin_root(); }
  } clean_up;
  if (!ensure_pin_root(error)) return false;
  const uint64_t netns = current_netns_inode();
  const std::string dir = pin_dir(ifindex);
  const std::string pin = dir + "/link", chain = chain_pin(dir, filter.program_fd());

  wg_xdp_meta meta{};
  strncpy(meta.name, rules.name.c_str(), sizeof(meta.name) - 1);
  std::string source = std::filesystem::weakly_canonical(std::filesystem::absolute(rules.source)).string();
  strncpy(meta.source, source.c_str(), sizeof(meta.source) - 1);
  strncpy(meta.ifname, ifname.c_str(), sizeof(meta.ifname) - 1);
  meta.ifindex = ifindex;
  meta.n_rules = uint32_t(compiled.rules.size());
  meta.netns_inode = netns;
  meta.applied_unix_ns = uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                      std::chrono::system_clock::now().time_since_epoch())
                                      .count());

  // Ours already: swap the program under the link, atomically. A link whose interface is gone
  // (a namespace deleted under it) is a stale pin: removed, and the rules attached afresh.
  XdpApplied old;
  std::string unreadable;
  bool readable = access(pin.c_str(), F_OK) == 0 && read_applied(dir, &old, &unreadable);
  if (readable && old.ifindex == 0 && !remove_pins(dir, error)) return false;
  if (access(pin.c_str(), F_OK) == 0) {
    if (!readable) {
      *error = fmt::format("{} (remove it with `waggle xdp detach --interface {}`)", unreadable, ifname);
      return false;
    }
    Fd link(bpf_obj_get(pin.c_str()));
    meta.mode = old.mode == "generic" ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
    if (link.get() < 0 || !filter.keep_description(meta, compiled.names, error)) {
      if (error->empty()) *error = fmt::format("{}: {}", pin, strerror(errno));
      return false;
    }
    // The new chain is pinned before the swap; the old one stays pinned until packets that
    // entered the old program have left it.
    if (bpf_obj_pin(filter.chain_fd(), chain.c_str()) != 0) {
      *error = fmt::format("cannot pin {}: {}", chain, strerror(errno));
      return false;
    }
    // Only if the link still runs the program read above: a concurrent apply fails here.
    Fd old_prog(bpf_prog_get_fd_by_id(old.program_id));
    LIBBPF_OPTS(bpf_link_update_opts, swap, .flags = BPF_F_REPLACE, .old_prog_fd = uint32_t(old_prog.get()));
    if (old_prog.get() < 0 || bpf_link_update(link.get(), filter.program_fd(), &swap) != 0) {
      *error = fmt::format("cannot replace the rules on {}: {}", ifname, strerror(errno));
      unlink(chain.c_str());
      return false;
    }
    usleep(50000);  // an XDP program runs for microseconds
    if (!remove_pins(dir, error, {pin, chain})) return false;
    result->replaced = true;
    result->mode = old.mode;
    result->notice = fmt::format("replaced the rules {} from {}", old.name, old.source);
    return true;
  }

  if (std::string other = foreign_program(ifindex); !other.empty()) {
    *error = fmt::format("{} already has an XDP program that waggle did not attach: {}; refusing to take the "
                         "interface over (detach it first)",
                         ifname, other);
    return false;
  }
  uint32_t flags = mode == XdpMode::kGeneric ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
  meta.mode = flags;
  if (!filter.keep_description(meta, compiled.names, error)) return false;
  int link = create_link(filter.program_fd(), ifindex, flags);
  int err = errno;
  if (link < 0 && mode == XdpMode::kAuto && (err == EOPNOTSUPP || err == EINVAL || err == kENOTSUPP)) {
    result->notice = fmt::format("{} has no native XDP support ({}): running in generic mode, after the "
                                 "kernel has allocated the packet's buffer",
                                 ifname, strerror(err));
    flags = XDP_FLAGS_SKB_MODE;
    meta.mode = flags;
    if (!filter.keep_description(meta, compiled.names, error)) return false;
    link = create_link(filter.program_fd(), ifindex, flags);
    err = errno;
  }
  if (link < 0) {
    std::string other = foreign_program(ifindex);
    *error = other.empty() ? fmt::format("cannot attach to {} in {} mode: {}", ifname, mode_name(flags), strerror(err))
                           : fmt::format("{} already has an XDP program that waggle did not attach: {}", ifname, other);
    return false;
  }
  Fd owned(link);
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    *error = fmt::format("cannot create {}: {} (the rules are not attached)", dir, strerror(errno));
    return false;  // closing the link detaches the program
  }
  if (bpf_obj_pin(filter.chain_fd(), chain.c_str()) != 0 || bpf_obj_pin(link, pin.c_str()) != 0) {
    *error = fmt::format("cannot pin under {}: {} (the rules are not attached)", dir, strerror(errno));
    std::string ignored;
    remove_pins(dir, &ignored);
    remove_empty_pin_root();
    return false;
  }
  result->mode = mode_name(flags);
  return true;
}

std::vector<XdpApplied> xdp_applied(std::string* error) {
  std::vector<XdpApplied> out;
  std::error_code ec;
  if (!std::filesystem::is_directory(kXdpPinRoot, ec)) return out;
  for (const auto& entry : std::filesystem::directory_iterator(kXdpPinRoot, ec)) {
    XdpApplied a;
    std::string why;
    if (read_applied(entry.path().string(), &a, &why))
      out.push_back(std::move(a));
    else if (error)
      *error += (error->empty() ? "" : "; ") + why;
  }
  return out;
}

uint32_t xdp_program_of(const std::string& ifname) {
  uint32_t ifindex = if_nametoindex(ifname.c_str());
  if (ifindex == 0) return 0;
  Fd link(bpf_obj_get((pin_dir(ifindex) + "/link").c_str()));
  bpf_link_info info{};
  uint32_t len = sizeof(info);
  if (link.get() < 0 || bpf_obj_get_info_by_fd(link.get(), &info, &len) != 0) return 0;
  return info.prog_id;
}

int open_xdp_samples(const std::string& ifname, std::vector<std::string>* rule_names, int* lock_fd,
                     std::string* error, uint32_t* program_id) {
  uint32_t ifindex = if_nametoindex(ifname.c_str());
  if (ifindex == 0) {
    *error = fmt::format("no interface {} in this network namespace", ifname);
    return -1;
  }
  std::string dir = pin_dir(ifindex);
  XdpApplied applied;
  if (access((dir + "/link").c_str(), F_OK) != 0) {
    *error = fmt::format("waggle has no rules on {}", ifname);
    return -1;
  }
  // One reader: readers of one ring share its position and would split (or lose) samples.
  Fd lock(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (lock.get() >= 0 && flock(lock.get(), LOCK_EX | LOCK_NB) != 0) {
    *error = fmt::format("the samples of {} are read by another process already (waggle run, or waggle xdp "
                         "samples): one reader at a time",
                         ifname);
    return -1;
  }
  if (!read_applied(dir, &applied, error)) return -1;
  Fd prog(bpf_prog_get_fd_by_id(applied.program_id));
  int ring = prog.get() < 0 ? -1 : program_map(prog.get(), "packet_samples");
  if (ring < 0) {
    *error = fmt::format("the program on {} has no sample ring", ifname);
    return -1;
  }
  *rule_names = applied.rule_names;
  if (program_id) *program_id = applied.program_id;
  if (lock_fd) *lock_fd = dup(lock.get());  // held by the caller while it reads
  return ring;
}

bool detach_xdp(const std::string& ifname, std::string* error) {
  uint32_t ifindex = if_nametoindex(ifname.c_str());
  if (ifindex == 0) {
    *error = fmt::format("no interface {} in this network namespace", ifname);
    return false;
  }
  PinLock lock;
  std::string dir = pin_dir(ifindex);
  if (access((dir + "/link").c_str(), F_OK) != 0) {
    *error = fmt::format("waggle has no rules on {}", ifname);
    return false;
  }
  bool removed = remove_pins(dir, error);  // the last reference to the link: the program is detached
  remove_empty_pin_root();
  return removed;
}

int detach_all_xdp(std::string* error) {
  std::error_code ec;
  if (!std::filesystem::is_directory(kXdpPinRoot, ec)) return 0;
  PinLock lock;
  int n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kXdpPinRoot, ec)) {
    if (!remove_pins(entry.path().string(), error)) return -1;
    n++;
  }
  remove_empty_pin_root();
  return n;
}

}  // namespace waggle
