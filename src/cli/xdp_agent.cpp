#include "cli/xdp_agent.hpp"

#include <fmt/format.h>

#include <bpf/libbpf.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>

#include "core/netns.hpp"
#include "xdp/packet_decode.hpp"
#include "xdp/xdp_attach.hpp"

namespace waggle {

std::unique_ptr<AgentXdp> AgentXdp::start(const std::vector<XdpAttachConfig>& entries, std::string* error,
                                          int* status) {
  struct Loaded {
    PacketRules rules;
    CompiledRules compiled;
    std::unique_ptr<XdpFilter> filter;
  };
  std::vector<Loaded> loaded(entries.size());
  for (size_t i = 0; i < entries.size(); i++) {
    bool bad = false;
    loaded[i].filter = load_rule_set(entries[i].rules, &loaded[i].rules, &loaded[i].compiled, error, &bad);
    if (!loaded[i].filter) {
      *error = fmt::format("xdp entry for {} (configuration line {}): {}", entries[i].interface, entries[i].line, *error);
      *status = bad ? 2 : 1;
      return nullptr;
    }
  }
  std::unique_ptr<AgentXdp> agent(new AgentXdp());
  for (size_t i = 0; i < entries.size(); i++) {
    const XdpAttachConfig& e = entries[i];
    NetnsScope scope(e.netns, error);
    XdpMode mode = e.mode == "native" ? XdpMode::kNative : e.mode == "generic" ? XdpMode::kGeneric : XdpMode::kAuto;
    XdpApplyResult result;
    if (!scope.ok() || !apply_xdp(*loaded[i].filter, loaded[i].compiled, loaded[i].rules, e.interface, mode, &result, error)) {
      *error = fmt::format("xdp entry for {} (configuration line {}): {}", e.interface, e.line, *error);
      *status = 1;
      return nullptr;  // what was attached is detached by the destructor
    }
    if (!result.notice.empty()) fmt::print(stderr, "waggle: xdp {}: {}\n", e.interface, result.notice);
    fmt::print(stderr, "waggle: xdp: {} ({} rules) on {} ({} mode{})\n", loaded[i].rules.name,
               loaded[i].rules.rules.size(), e.interface, result.mode, e.keep_attached ? ", kept after stop" : "");
    agent->attached_.push_back(e);
    // Its sample ring, read by the agent's loop.
    auto samples = std::make_unique<Samples>();
    samples->owner = agent.get();
    samples->interface = e.interface;
    samples->netns = e.netns;
    if (!open_ring(samples.get(), error)) {
      *error = fmt::format("xdp entry for {}: cannot read its sample ring: {}", e.interface, *error);
      *status = 1;
      return nullptr;
    }
    agent->samples_.push_back(std::move(samples));
  }
  return agent;
}

bool AgentXdp::open_ring(Samples* s, std::string* error) {
  if (s->ring) ring_buffer__free(s->ring);
  if (s->lock_fd >= 0) close(s->lock_fd);
  s->ring = nullptr;
  s->lock_fd = -1;
  int fd = open_xdp_samples(s->interface, &s->rule_names, &s->lock_fd, error, &s->program_id);
  if (fd < 0) return false;
  s->ring = ring_buffer__new(fd, &AgentXdp::on_sample, s, nullptr);
  if (!s->ring) *error = std::string("ring_buffer__new: ") + strerror(errno);
  close(fd);  // the ring keeps its own mapping
  return s->ring != nullptr;
}

void AgentXdp::follow_replacements() {
  for (auto& s : samples_) {
    std::string error;
    NetnsScope scope(s->netns, &error);
    uint32_t id = scope.ok() ? xdp_program_of(s->interface) : 0;
    if (id == 0 || id == s->program_id) continue;
    if (s->ring) ring_buffer__consume(s->ring);  // what the old program posted
    if (!open_ring(s.get(), &error)) fmt::print(stderr, "waggle: xdp {}: samples: {}\n", s->interface, error);
  }
}

AgentXdp::~AgentXdp() {
  stop();
  for (auto& s : samples_) {
    if (s->ring) ring_buffer__free(s->ring);
    if (s->lock_fd >= 0) close(s->lock_fd);
  }
}

int AgentXdp::on_sample(void* ctx, void* data, size_t size) {
  auto* s = static_cast<Samples*>(ctx);
  if (size < sizeof(wg_xdp_sample) || !s->owner->emit_) return 0;
  const auto& sample = *static_cast<const wg_xdp_sample*>(data);
  std::string rule = sample.rule < s->rule_names.size() ? s->rule_names[sample.rule] : std::to_string(sample.rule);
  (*s->owner->emit_)(Event(decode_packet_sample(sample, rule, s->interface, sample_unix_ns(sample))));
  return 0;
}

void AgentXdp::poll(const std::function<void(const Event&)>& emit) {
  emit_ = &emit;
  auto now = std::chrono::steady_clock::now();
  if (now >= next_check_) {
    follow_replacements();
    next_check_ = now + std::chrono::seconds(1);
  }
  for (auto& s : samples_)
    if (s->ring) ring_buffer__consume(s->ring);
  emit_ = nullptr;
}

void AgentXdp::stop() {
  for (const XdpAttachConfig& e : attached_) {
    if (e.keep_attached) continue;
    std::string error;
    NetnsScope scope(e.netns, &error);
    if (!scope.ok() || !detach_xdp(e.interface, &error)) fmt::print(stderr, "waggle: xdp {}: {}\n", e.interface, error);
  }
  attached_.clear();
}

void add_xdp_metrics(metrics::Registry& registry) {
  registry.add_collector([](metrics::Collector& c) {
    std::vector<XdpApplied> applied = xdp_applied(nullptr);
    const std::vector<std::string> labels = {"rule", "action", "interface", "netns"};
    auto& packets = c.counter("waggle_xdp_rule_packets_total",
                              "Packets each XDP packet rule matched (for rate_limit: dropped), per interface; the "
                              "rules \"default\" and \"malformed\" count what no rule decided and what could not be "
                              "parsed.",
                              labels);
    auto& bytes = c.counter("waggle_xdp_rule_bytes_total", "Bytes of the packets in waggle_xdp_rule_packets_total.",
                            labels);
    for (const XdpApplied& a : applied) {
      for (size_t i = 0; i < a.counters.size() && i < a.actions.size(); i++) {
        size_t past = i - std::min(i, a.rule_names.size());
        std::string rule = i < a.rule_names.size() ? a.rule_names[i] : past == 0 ? "default" : "malformed";
        std::string netns = std::to_string(a.netns_inode);
        packets.sample({rule, a.actions[i], a.ifname, netns}, double(a.counters[i].packets));
        bytes.sample({rule, a.actions[i], a.ifname, netns}, double(a.counters[i].bytes));
      }
    }
  });
}

}  // namespace waggle
