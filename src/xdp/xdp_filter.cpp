#include "xdp/xdp_filter.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fmt/format.h>

#include <cerrno>
#include <cstring>

#include "core/bpf_loader.hpp"
#include "xdp/cbpf_translate.hpp"
#include "xdp_filter.skel.h"

namespace waggle {

std::unique_ptr<XdpFilter> XdpFilter::load(const CompiledRules& rules, std::string* error) {
  std::unique_ptr<XdpFilter> f(new XdpFilter());
  f->skel_ = xdp_filter_bpf__open();
  if (!f->skel_) {
    *error = std::string("xdp: cannot open its BPF object: ") + strerror(errno);
    return nullptr;
  }
  bpf_map__set_max_entries(f->skel_->maps.networks, uint32_t(std::max<size_t>(1, rules.networks.size())));
  bpf_map__set_max_entries(f->skel_->maps.hosts, uint32_t(std::max<size_t>(1, rules.hosts.size())));
  bpf_map__set_max_entries(f->skel_->maps.hosts4, uint32_t(std::max<size_t>(1, rules.hosts4.size())));
  // The rule set's settings are constants of the program: the verifier leaves out the code of
  // every match and action no rule uses.
  f->skel_->rodata->rule_set = rules.settings;
  if (!load_object(f->skel_->obj, "xdp", error)) return nullptr;
  auto put = [&](bpf_map* map, const void* key, size_t key_size, const void* value, size_t value_size) {
    if (bpf_map__update_elem(map, key, key_size, value, value_size, BPF_ANY) == 0) return true;
    *error = fmt::format("xdp: cannot fill the {} map: {}", bpf_map__name(map), strerror(errno));
    return false;
  };
  for (uint32_t i = 0; i < rules.rules.size(); i++)
    if (!put(f->skel_->maps.rules, &i, sizeof(i), &rules.rules[i], sizeof(wg_xdp_rule))) return nullptr;
  uint8_t one = 1;
  for (const wg_xdp_net_key& key : rules.networks)
    if (!put(f->skel_->maps.networks, &key, sizeof(key), &one, sizeof(one))) return nullptr;
  for (const wg_xdp_host4_key& key : rules.hosts4)
    if (!put(f->skel_->maps.hosts4, &key, sizeof(key), &one, sizeof(one))) return nullptr;
  for (wg_xdp_net_key key : rules.hosts) {
    key.prefixlen = 32 + 128;
    if (!put(f->skel_->maps.hosts, &key, sizeof(key), &one, sizeof(one))) return nullptr;
  }
  if (!f->load_chain(rules, error)) return nullptr;
  uint32_t zero = 0;  // the settings again, for `waggle xdp status`
  if (!put(f->skel_->maps.settings, &zero, sizeof(zero), &rules.settings, sizeof(rules.settings))) return nullptr;
  if (bpf_prog_bind_map(f->program_fd(), bpf_map__fd(f->skel_->maps.settings), nullptr) != 0) {
    *error = fmt::format("xdp: cannot bind the settings map to the program: {}", strerror(errno));
    return nullptr;
  }
  return f;
}

// The tcpdump expressions, each translated to a program that tail-calls the next, and the
// evaluation of the rules at the end of the chain.
bool XdpFilter::load_chain(const CompiledRules& rules, std::string* error) {
  const int chain = bpf_map__fd(skel_->maps.chain);
  const uint32_t n = uint32_t(rules.pcap_programs.size());
  for (uint32_t j = 0; j < n; j++) {
    ClassicTail tail{bpf_map__fd(skel_->maps.scratch), j, chain, j + 1, bpf_map__fd(skel_->maps.counters),
                     WG_XDP_SLOT_CHAIN_BROKEN};
    std::vector<bpf_insn> insns = translate_classic(rules.pcap_programs[j], tail);
    std::string name = fmt::format("wg_pcap_{}", j);
    LIBBPF_OPTS(bpf_prog_load_opts, quiet, .expected_attach_type = BPF_XDP);
    int fd = bpf_prog_load(BPF_PROG_TYPE_XDP, name.c_str(), "Dual BSD/GPL", insns.data(), insns.size(), &quiet);
    std::string log;
    if (fd < 0) {  // again, for the verifier's reasons (a log of every step could overflow a valid load)
      log.assign(1 << 22, '\0');
      LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_XDP, .log_level = 1,
                  .log_size = uint32_t(log.size()), .log_buf = log.data());
      fd = bpf_prog_load(BPF_PROG_TYPE_XDP, name.c_str(), "Dual BSD/GPL", insns.data(), insns.size(), &opts);
    }
    if (fd < 0) {
      int err = errno;
      // The verifier's last lines say what it refused.
      log.resize(strnlen(log.data(), log.size()));
      size_t tail_at = log.size() > 600 ? log.rfind('\n', log.size() - 600) : 0;
      *error = fmt::format("xdp: the kernel refused the program of tcpdump expression {} ({}):\n{}", j + 1,
                           strerror(err), log.substr(tail_at == std::string::npos ? 0 : tail_at));
      return false;
    }
    int rc = bpf_map_update_elem(chain, &j, &fd, BPF_ANY);
    close(fd);  // the chain holds it
    if (rc != 0) {
      *error = fmt::format("xdp: cannot chain tcpdump expression {}: {}", j + 1, strerror(errno));
      return false;
    }
  }
  int eval = bpf_program__fd(skel_->progs.wg_xdp_eval);
  if (bpf_map_update_elem(chain, &n, &eval, BPF_ANY) != 0) {
    *error = fmt::format("xdp: cannot chain the rules' evaluation: {}", strerror(errno));
    return false;
  }
  return true;
}

int XdpFilter::chain_fd() const { return bpf_map__fd(skel_->maps.chain); }

std::unique_ptr<XdpFilter> load_rule_set(const std::string& path, PacketRules* rules, CompiledRules* compiled,
                                         std::string* error, bool* bad_rules) {
  auto read = load_packet_rules(path, error);
  *bad_rules = !read || !compile_rules(*read, compiled, error);
  if (*bad_rules) return nullptr;
  *rules = std::move(*read);
  return XdpFilter::load(*compiled, error);
}

XdpFilter::~XdpFilter() {
  if (skel_) xdp_filter_bpf__destroy(skel_);
}

int XdpFilter::program_fd() const { return bpf_program__fd(skel_->progs.wg_xdp_filter); }

int XdpFilter::run(const std::vector<uint8_t>& frame, uint32_t repeat, uint32_t* duration_ns) const {
  std::vector<uint8_t> out(frame.size() + 256);
  LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(), .data_out = out.data(),
              .data_size_in = uint32_t(frame.size()), .data_size_out = uint32_t(out.size()), .repeat = int(repeat));
  if (bpf_prog_test_run_opts(program_fd(), &opts) != 0) return -errno;
  if (duration_ns) *duration_ns = opts.duration;
  return int(opts.retval);
}

bool XdpFilter::keep_description(const wg_xdp_meta& meta, const std::vector<std::string>& names,
                                 std::string* error) const {
  uint32_t zero = 0;
  for (uint32_t i = 0; i < names.size() && i < WG_XDP_MAX_RULES; i++) {
    char name[WG_XDP_NAME_MAX] = {};
    strncpy(name, names[i].c_str(), sizeof(name) - 1);
    if (bpf_map__update_elem(skel_->maps.rule_names, &i, sizeof(i), name, sizeof(name), BPF_ANY) != 0) {
      *error = fmt::format("xdp: cannot keep the rule names: {}", strerror(errno));
      return false;
    }
  }
  if (bpf_map__update_elem(skel_->maps.meta, &zero, sizeof(zero), &meta, sizeof(meta), BPF_ANY) != 0) {
    *error = fmt::format("xdp: cannot keep what was applied: {}", strerror(errno));
    return false;
  }
  for (bpf_map* map : {skel_->maps.rule_names, skel_->maps.meta})
    if (bpf_prog_bind_map(program_fd(), bpf_map__fd(map), nullptr) != 0) {
      *error = fmt::format("xdp: cannot bind the {} map to the program: {}", bpf_map__name(map), strerror(errno));
      return false;
    }
  return true;
}

std::vector<PacketCounter> XdpFilter::counters() const {
  int ncpu = libbpf_num_possible_cpus();
  std::vector<PacketCounter> out(WG_XDP_SLOTS);
  if (ncpu <= 0) return out;
  std::vector<wg_xdp_counter> values(static_cast<size_t>(ncpu));
  for (uint32_t slot = 0; slot < WG_XDP_SLOTS; slot++) {
    if (bpf_map__lookup_elem(skel_->maps.counters, &slot, sizeof(slot), values.data(),
                             values.size() * sizeof(wg_xdp_counter), 0) != 0)
      continue;
    for (const wg_xdp_counter& v : values) {
      out[slot].packets += v.packets;
      out[slot].bytes += v.bytes;
    }
  }
  return out;
}

}  // namespace waggle
