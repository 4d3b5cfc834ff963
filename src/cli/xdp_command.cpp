#include "cli/xdp_command.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <sys/socket.h>

#include <vector>

#include <bpf/libbpf.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstring>
#include <memory>

#include "core/netns.hpp"
#include "export/json_events.hpp"
#include "xdp/packet_decode.hpp"
#include "xdp/compile.hpp"
#include "xdp/xdp_attach.hpp"
#include "xdp/rules.hpp"
#include "xdp/xdp_filter.hpp"

namespace waggle {

namespace {

std::string range_text(const ValueRange& r) {
  return r.low == r.high ? std::to_string(r.low) : fmt::format("{}-{}", r.low, r.high);
}

std::string networks_text(const std::vector<Cidr>& nets) {
  std::vector<std::string> parts;
  for (size_t i = 0; i < nets.size() && i < 3; i++) {
    char buf[INET6_ADDRSTRLEN] = {};
    inet_ntop(nets[i].family, nets[i].addr.data(), buf, sizeof(buf));
    parts.push_back(fmt::format("{}/{}", buf, nets[i].prefix_len));
  }
  if (nets.size() > 3) parts.push_back(fmt::format("and {} more", nets.size() - 3));
  return fmt::format("{}", fmt::join(parts, ", "));
}

std::string ports_text(const std::vector<PortRange>& ports) {
  std::vector<std::string> parts;
  for (const PortRange& p : ports) parts.push_back(range_text({p.low, p.high}));
  return fmt::format("{}", fmt::join(parts, ","));
}

std::string describe(const PacketRule& r) {
  std::vector<std::string> m;
  if (r.family) m.push_back(fmt::format("ipv{}", r.family));
  if (!r.sources.empty()) m.push_back("from " + networks_text(r.sources));
  if (!r.destinations.empty()) m.push_back("to " + networks_text(r.destinations));
  if (r.protocol) {
    int p = *r.protocol;
    m.push_back(p == 6 ? "tcp" : p == 17 ? "udp" : p == 1 ? "icmp" : p == 58 ? "icmpv6" : fmt::format("proto {}", p));
  }
  if (!r.source_ports.empty()) m.push_back("sport " + ports_text(r.source_ports));
  if (!r.destination_ports.empty()) m.push_back("dport " + ports_text(r.destination_ports));
  if (r.tcp_flags) m.push_back(fmt::format("flags & 0x{:02x} == 0x{:02x}", r.tcp_flags->first, r.tcp_flags->second));
  if (r.tcp_option)
    m.push_back(r.tcp_option->bytes ? fmt::format("option {} value {}", r.tcp_option->kind, range_text(r.tcp_option->value))
                                    : fmt::format("option {}", r.tcp_option->kind));
  if (r.icmp_type) m.push_back(fmt::format("icmp type {}", *r.icmp_type));
  if (r.icmp_code) m.push_back(fmt::format("icmp code {}", *r.icmp_code));
  if (r.length) m.push_back("length " + range_text(*r.length));
  if (r.payload_length) m.push_back("payload " + range_text(*r.payload_length));
  if (r.ttl) m.push_back("ttl " + range_text(*r.ttl));
  if (r.ipv6_extensions) m.push_back(fmt::format("ipv6 extensions 0x{:02x}", r.ipv6_extensions));
  for (const ByteMatch& b : r.bytes)
    m.push_back(fmt::format("{}[{}:{}] & 0x{:x} = {}",
                            b.base == ByteBase::kL3 ? "l3" : b.base == ByteBase::kL4 ? "l4" : "payload", b.offset,
                            b.length, b.mask, range_text(b.value)));
  if (r.vlan) m.push_back(*r.vlan == kUntagged ? "untagged" : fmt::format("vlan {}", *r.vlan));
  if (r.fragments) m.push_back(fmt::format("fragments 0x{:x}", r.fragments));
  if (r.action == PacketAction::kRateLimit)
    m.push_back(fmt::format("over {}/s (burst {}) per source /{} or /{}", r.rate_limit.rate, r.rate_limit.burst,
                            r.rate_limit.ipv4_prefix, r.rate_limit.ipv6_prefix));
  if (!r.pcap.empty()) m.push_back(fmt::format("pcap \"{}\" ({} classic instructions)", r.pcap, r.pcap_program.size()));
  return fmt::format("{}", fmt::join(m, ", "));
}

}  // namespace

std::string describe_packet_rules(const PacketRules& set) {
  const PacketRules* rules = &set;
  std::string out = fmt::format("{}: {} ({} rules; no rule: {}; malformed: {})\n", set.source, rules->name,
                                rules->rules.size(), packet_action_name(rules->default_action),
                                packet_action_name(rules->malformed_action));
  for (size_t i = 0; i < rules->rules.size(); i++) {
    const PacketRule& r = rules->rules[i];
    out += fmt::format("  {:>3}  line {:<4} {:<24} {:<5}  {}\n", i + 1, r.line, r.name,
                       packet_action_name(r.action), describe(r));
  }
  return out;
}

namespace {

// Loads the rules of the command, or says why not (exit status 2 for bad rules, 1 otherwise).
std::unique_ptr<XdpFilter> load_rules(const XdpCommand& c, PacketRules* rules, CompiledRules* compiled, int* status) {
  std::string error;
  bool bad = false;
  auto filter = load_rule_set(c.rules_file, rules, compiled, &error, &bad);
  if (!filter) {
    fmt::print(stderr, "waggle: {}\n", error);
    *status = bad ? 2 : 1;
  }
  return filter;
}

bool enter(const XdpCommand& c) {
  std::string error;
  if (c.netns.empty() || enter_netns(c.netns, &error)) return true;
  fmt::print(stderr, "waggle: --netns: {}\n", error);
  return false;
}

}  // namespace

int run_xdp_check(const XdpCommand& c) {
  PacketRules rules;
  CompiledRules compiled;
  int status = 0;
  // Loaded, not attached: the verifier has the last word on the program.
  if (!load_rules(c, &rules, &compiled, &status)) return status;
  fmt::print("{}", describe_packet_rules(rules));
  fmt::print("valid: loaded into the kernel and checked by its verifier; nothing attached\n");
  return 0;
}

int run_xdp_apply(const XdpCommand& c) {
  XdpMode mode = c.mode == "native" ? XdpMode::kNative : c.mode == "generic" ? XdpMode::kGeneric : XdpMode::kAuto;
  if (!enter(c)) return 2;
  PacketRules rules;
  CompiledRules compiled;
  int status = 0;
  auto filter = load_rules(c, &rules, &compiled, &status);
  if (!filter) return status;
  XdpApplyResult result;
  std::string error;
  if (!apply_xdp(*filter, compiled, rules, c.interface, mode, &result, &error)) {
    fmt::print(stderr, "waggle: {}\n", error);
    return 1;
  }
  if (!result.notice.empty()) fmt::print(stderr, "waggle: {}\n", result.notice);
  fmt::print("{}: {} rules of {} attached to {} ({} mode); they stay until `waggle xdp detach --interface {}`\n",
             rules.name, rules.rules.size(), rules.source, c.interface, result.mode, c.interface);
  return 0;
}

int run_xdp_status(const XdpCommand& c) {
  if (!enter(c)) return 2;
  std::string error;
  std::vector<XdpApplied> applied = xdp_applied(&error);
  if (!error.empty()) fmt::print(stderr, "waggle: {}\n", error);
  uint64_t here = current_netns_inode();
  size_t shown = 0;
  for (const XdpApplied& a : applied) {
    if (!c.interface.empty() && (a.ifname != c.interface || a.netns_inode != here)) continue;
    shown++;
    std::string where = a.ifindex ? fmt::format("{} (ifindex {})", a.ifname, a.ifindex)
                                  : fmt::format("{} (gone: the interface was removed)", a.ifname);
    fmt::print("{}  net:[{}]  {} mode  rules {} from {}  program {}\n", where, a.netns_inode, a.mode, a.name,
               a.source, a.program_id);
    fmt::print("  {:<24} {:>14} {:>16}\n", "rule", "packets", "bytes");
    for (size_t i = 0; i < a.counters.size(); i++) {
      size_t past = i - std::min(i, a.rule_names.size());
      static const char* const kSlots[] = {"(no rule: default)", "(malformed)", "(chain broken)", "(samples lost)"};
      std::string name = i < a.rule_names.size() ? a.rule_names[i] : kSlots[std::min<size_t>(past, 3)];
      fmt::print("  {:<24} {:>14} {:>16}\n", name, a.counters[i].packets, a.counters[i].bytes);
    }
  }
  if (shown == 0)
    fmt::print("no packet rules attached by waggle{}\n", c.interface.empty() ? "" : " on " + c.interface);
  return 0;
}

namespace {

std::atomic<bool> samples_stop{false};

struct SampleReader {
  const std::vector<std::string>* names;
  const std::string* interface;
  PcapWriter* pcap;
  uint64_t seen = 0;
  uint64_t wanted = 0;
};

int on_sample(void* ctx, void* data, size_t size) {
  auto* r = static_cast<SampleReader*>(ctx);
  if (r->wanted && r->seen >= r->wanted) return -1;  // enough (libbpf has consumed this one: it is dropped)
  if (size < sizeof(wg_xdp_sample)) return 0;
  const auto& s = *static_cast<const wg_xdp_sample*>(data);
  int64_t when = sample_unix_ns(s);
  std::string rule = s.rule < r->names->size() ? (*r->names)[s.rule] : std::to_string(s.rule);
  if (r->pcap) r->pcap->write(s, when);
  std::string line;
  append_json_event(line, Event(decode_packet_sample(s, rule, *r->interface, when)));
  fwrite(line.data(), 1, line.size(), stdout);
  r->seen++;
  return 0;
}

}  // namespace

int run_xdp_samples(const XdpCommand& c, uint64_t count, double duration_s, const std::string& pcap_path) {
  if (!enter(c)) return 2;
  std::vector<std::string> names;
  std::string error;
  int lock_fd = -1;
  int ring_fd = open_xdp_samples(c.interface, &names, &lock_fd, &error);
  if (ring_fd < 0) {
    fmt::print(stderr, "waggle: {}\n", error);
    return 1;
  }
  FILE* file = nullptr;
  std::unique_ptr<PcapWriter> pcap;
  if (!pcap_path.empty()) {
    file = fopen(pcap_path.c_str(), "wb");
    if (!file) {
      fmt::print(stderr, "waggle: --pcap {}: {}\n", pcap_path, strerror(errno));
      close(ring_fd);
      return 2;
    }
    pcap = std::make_unique<PcapWriter>(file);
  }
  SampleReader reader{&names, &c.interface, pcap.get(), 0, count};
  ring_buffer* ring = ring_buffer__new(ring_fd, on_sample, &reader, nullptr);
  if (!ring) {
    fmt::print(stderr, "waggle: cannot read the sample ring: {}\n", strerror(errno));
    close(ring_fd);
    if (file) fclose(file);
    return 1;
  }
  std::signal(SIGINT, [](int) { samples_stop = true; });
  std::signal(SIGTERM, [](int) { samples_stop = true; });
  auto until = std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                                      std::chrono::duration<double>(duration_s > 0 ? duration_s : 1e9));
  while (!samples_stop && std::chrono::steady_clock::now() < until && !(count && reader.seen >= count)) {
    ring_buffer__poll(ring, 100);
    fflush(stdout);
  }
  ring_buffer__free(ring);
  close(ring_fd);
  if (lock_fd >= 0) close(lock_fd);
  bool written = !pcap || pcap->ok();
  if (file && fclose(file) != 0) written = false;
  if (!written) {
    fmt::print(stderr, "waggle: --pcap {}: write failed\n", pcap_path);
    return 1;
  }
  return 0;
}

int run_xdp_detach(const XdpCommand& c, bool all) {
  std::string error;
  if (all) {
    int n = detach_all_xdp(&error);
    if (n < 0) {
      fmt::print(stderr, "waggle: {}\n", error);
      return 1;
    }
    fmt::print("detached {} rule set{}\n", n, n == 1 ? "" : "s");
    return 0;
  }
  if (!enter(c)) return 2;
  if (!detach_xdp(c.interface, &error)) {
    fmt::print(stderr, "waggle: {}\n", error);
    return 1;
  }
  fmt::print("detached the packet rules from {}\n", c.interface);
  return 0;
}

}  // namespace waggle
