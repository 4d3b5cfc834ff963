// Nanoseconds per packet of the XDP packet rules, from BPF_PROG_RUN with `repeat`, against a
// bare XDP_DROP program and against xdp-filter (Debian xdp-tools) loaded with the same
// addresses, on the same packets; every variant measured in each round, rounds interleaved,
// medians reported. xdp-filter is attached to a veth in a network namespace made for the run
// (never to eth0 or lo) and unloaded at the end, with the namespace.
//
// Run: sudo build/bench/waggle_xdp_bench [--rounds 5] [--repeat 5000000]
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fmt/format.h>
#include <linux/bpf.h>
#include <net/if.h>
#include <sys/mount.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/netns.hpp"
#include "packets.hpp"
#include "xdp/compile.hpp"
#include "xdp/rules.hpp"
#include "xdp/xdp_filter.hpp"

namespace {

using waggle::test::Bytes;
namespace t = waggle::test;

const std::string kNetns = "wgxbench" + std::to_string(getpid());
const std::string kDev = "wgxb0";

int sh(const std::string& command) { return system(command.c_str()); }

// The namespace, veth and xdp-filter of the run, removed on every way out: a static object,
// so that exit() from a failed step destroys it too.
// xdp-filter keeps its maps in the BPF file system: mounted for the run when there is none.
struct Scene {
  bool filter_loaded = false;
  bool mounted_bpffs = false;
  ~Scene() {
    if (filter_loaded) sh("nsenter --net=/run/netns/" + kNetns + " xdp-filter unload " + kDev + " >/dev/null 2>&1");
    sh("ip netns del " + kNetns + " 2>/dev/null");
    rmdir("/sys/fs/bpf/xdp-filter");
    rmdir("/sys/fs/bpf/xdp");  // libxdp's working directory, if it left it empty
    if (mounted_bpffs) umount2("/sys/fs/bpf", 0);
  }
};

Scene scene;

bool bpffs_mounted() {
  struct statfs fs {};
  return statfs("/sys/fs/bpf", &fs) == 0 && uint32_t(fs.f_type) == 0xcafe4a11u;
}

double run_ns(int prog_fd, const Bytes& frame, uint32_t repeat) {
  std::vector<uint8_t> out(frame.size() + 256);
  LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(), .data_out = out.data(),
              .data_size_in = uint32_t(frame.size()), .data_size_out = uint32_t(out.size()), .repeat = int(repeat));
  if (bpf_prog_test_run_opts(prog_fd, &opts) != 0) {
    fmt::print(stderr, "BPF_PROG_RUN: {}\n", strerror(errno));
    exit(1);
  }
  return double(opts.duration);
}

int bare_drop() {
  bpf_insn insns[2] = {};
  insns[0].code = BPF_ALU64 | BPF_MOV | BPF_K;
  insns[0].imm = 1;  // XDP_DROP
  insns[1].code = BPF_JMP | BPF_EXIT;
  return bpf_prog_load(BPF_PROG_TYPE_XDP, "bare_drop", "GPL", insns, 2, nullptr);
}

std::unique_ptr<waggle::XdpFilter> waggle_rules(const std::string& rules) {
  std::string yaml = "apiVersion: waggle.dev/v1\nkind: PacketRules\nmetadata: {name: bench}\nspec:\n  rules:\n" + rules;
  std::string error;
  auto parsed = waggle::parse_packet_rules(yaml, "bench", &error);
  waggle::CompiledRules compiled;
  if (!parsed || !waggle::compile_rules(*parsed, &compiled, &error)) {
    fmt::print(stderr, "rules: {}\n", error);
    exit(1);
  }
  auto filter = waggle::XdpFilter::load(compiled, &error);
  if (!filter) {
    fmt::print(stderr, "{}\n", error);
    exit(1);
  }
  return filter;
}

std::string address(int i) { return fmt::format("10.{}.{}.{}", (i >> 16) & 255, (i >> 8) & 255, i & 255); }

// xdp-filter's deny list of source addresses: its pinned per-CPU hash, filled directly (its
// CLI takes one address per run).
void fill_xdp_filter(int n) {
  int map = bpf_obj_get("/sys/fs/bpf/xdp-filter/filter_ipv4");
  if (map < 0) {
    fmt::print(stderr, "xdp-filter's filter_ipv4 map is not pinned: {}\n", strerror(errno));
    exit(1);
  }
  uint32_t key = 0, next = 0;
  while (bpf_map_get_next_key(map, nullptr, &next) == 0) bpf_map_delete_elem(map, &next);
  std::vector<uint64_t> values(size_t(libbpf_num_possible_cpus()), 1);  // 1: match the source
  for (int i = 0; i < n; i++) {
    inet_pton(AF_INET, address(i).c_str(), &key);
    if (bpf_map_update_elem(map, &key, values.data(), BPF_ANY) != 0) {
      fmt::print(stderr, "filling xdp-filter: {}\n", strerror(errno));
      exit(1);
    }
  }
  close(map);
}

int xdp_filter_program() {
  std::string error;
  waggle::NetnsScope scope(kNetns, &error);
  uint32_t id = 0;
  if (!scope.ok() || bpf_xdp_query_id(int(if_nametoindex(kDev.c_str())), 0, &id) != 0 || id == 0) {
    fmt::print(stderr, "cannot find xdp-filter's program on {}: {}\n", kDev, error);
    exit(1);
  }
  return bpf_prog_get_fd_by_id(id);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

struct Variant {
  std::string name;
  std::function<int()> fd;  // the program, set up for this case
};

// Runs every variant on every frame, round after round; prints a row per variant and frame.
void measure(const std::string& title, const std::vector<Variant>& variants,
             const std::vector<std::pair<std::string, Bytes>>& frames, int rounds, uint32_t repeat) {
  std::map<std::pair<size_t, size_t>, std::vector<double>> ns;
  std::vector<int> fds;
  for (const Variant& v : variants) fds.push_back(v.fd());
  for (size_t f = 0; f < frames.size(); f++)  // a round not counted: caches and frequency settle
    for (int fd : fds) run_ns(fd, frames[f].second, repeat);
  for (int r = 0; r < rounds; r++)
    for (size_t f = 0; f < frames.size(); f++)
      for (size_t v = 0; v < variants.size(); v++) ns[{v, f}].push_back(run_ns(fds[v], frames[f].second, repeat));
  for (size_t f = 0; f < frames.size(); f++) {
    double bare = median(ns[{0, f}]);
    for (size_t v = 0; v < variants.size(); v++) {
      double m = median(ns[{v, f}]);
      fmt::print("| {} | {} | {} | {:.1f} | {:.1f} |\n", title, frames[f].first, variants[v].name, m, m - bare);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = 5;
  uint32_t repeat = 5000000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::string(argv[i]) == "--rounds") rounds = atoi(argv[i + 1]);
    if (std::string(argv[i]) == "--repeat") repeat = uint32_t(atoi(argv[i + 1]));
  }
  if (geteuid() != 0) {
    fmt::print(stderr, "run as root: BPF_PROG_RUN and xdp-filter need it\n");
    return 1;
  }
  if (access("/usr/sbin/xdp-filter", X_OK) != 0) {
    fmt::print(stderr, "xdp-filter (Debian xdp-tools) is not installed\n");
    return 1;
  }
  if (!bpffs_mounted()) {
    if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700") != 0) {
      fmt::print(stderr, "cannot mount the BPF file system at /sys/fs/bpf: {}\n", strerror(errno));
      return 1;
    }
    scene.mounted_bpffs = true;
  }
  if (sh("ip netns add " + kNetns + " && ip -n " + kNetns + " link add " + kDev +
         " type veth peer name wgxb1 && ip -n " + kNetns + " link set " + kDev + " up") != 0)
    return 1;
  if (sh("nsenter --net=/run/netns/" + kNetns + " xdp-filter load " + kDev + " -m skb -p allow -f ipv4 >/dev/null") != 0)
    return 1;
  scene.filter_loaded = true;
  int bare = bare_drop();
  fmt::print("BPF_PROG_RUN, {} rounds of {} runs per variant and packet, interleaved; medians (ns per packet)\n\n",
             rounds, repeat);
  fmt::print("| rules | packet | program | ns/packet | over XDP_DROP |\n|---|---|---|---|---|\n");

  const Bytes miss = t::frame4({.src = "198.51.100.7", .dst = "192.0.2.2", .proto = 17}, t::udp(5000, 53));
  for (int n : {1, 100, 10000}) {
    const Bytes hit = t::frame4({.src = address(n - 1), .dst = "192.0.2.2", .proto = 17}, t::udp(5000, 53));
    std::string list;
    for (int i = 0; i < n; i++) list += (i ? ", " : "") + address(i);
    std::unique_ptr<waggle::XdpFilter> ours = waggle_rules("    - {action: drop, match: {source: [" + list + "]}}\n");
    fill_xdp_filter(n);
    int theirs = xdp_filter_program();
    measure(fmt::format("{} source addresses", n),
            {{"XDP_DROP", [&] { return bare; }}, {"waggle", [&] { return ours->program_fd(); }},
             {"xdp-filter", [&] { return theirs; }}},
            {{"source not listed", miss}, {"source listed", hit}}, rounds, repeat);
    close(theirs);
  }
  const Bytes small_mss = t::frame4({}, t::tcp({.options = t::cat({t::nop(), t::nop(), t::mss(48)})}));
  const Bytes normal_syn = t::frame4({}, t::tcp({.options = t::cat({t::mss(1460), t::sack_permitted(), t::timestamps()})}));
  auto mss_rule = waggle_rules("    - {action: drop, match: {protocol: tcp, tcp_flags: syn, tcp_option: {kind: 2, value: 0-499}}}\n");
  auto pcap_rule = waggle_rules(
      "    - {action: drop, match: {pcap: \"tcp[tcpflags] & tcp-syn != 0 and tcp[20:2] = 0x0204 and tcp[22:2] < "
      "500\"}}\n");
  measure("MSS under 500",
          {{"XDP_DROP", [&] { return bare; }}, {"waggle tcp_option", [&] { return mss_rule->program_fd(); }},
           {"waggle pcap", [&] { return pcap_rule->program_fd(); }}},
          {{"SYN, MSS 48 after NOP NOP", small_mss}, {"SYN, MSS 1460, SACK, timestamps", normal_syn}}, rounds, repeat);
  close(bare);
  return 0;
}
