// Packet rules in `waggle run`: the configuration's `xdp:` entries attached at start (all or
// none), detached at stop unless kept; every waggle rule set's counters as Prometheus metrics.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "core/events.hpp"
#include "export/metrics_registry.hpp"

struct ring_buffer;

namespace waggle {

class AgentXdp {
 public:
  // Reads every entry's rules first, then attaches them; on any failure detaches what it
  // attached and returns nothing (*status: 2 for bad rules, 1 otherwise).
  static std::unique_ptr<AgentXdp> start(const std::vector<XdpAttachConfig>& entries, std::string* error,
                                         int* status);
  ~AgentXdp();
  // Detaches the entries not kept (once).
  void stop();
  // Hands the packets the sample rules took since the last call to `emit`, as packet.sample
  // events. Does not wait.
  void poll(const std::function<void(const Event&)>& emit);

 private:
  struct Samples {
    AgentXdp* owner = nullptr;
    std::string interface;
    std::vector<std::string> rule_names;
    std::string netns;
    ring_buffer* ring = nullptr;
    int lock_fd = -1;         // the interface's one-reader lock
    uint32_t program_id = 0;  // whose ring this is
  };
  static int on_sample(void* ctx, void* data, size_t size);
  // Opens (again) the ring of the program now on the interface; false with *error.
  static bool open_ring(Samples* s, std::string* error);
  // Follows a replacement of the rules (waggle xdp apply while the agent runs): the new
  // program has a new ring.
  void follow_replacements();
  std::chrono::steady_clock::time_point next_check_{};
  std::vector<XdpAttachConfig> attached_;
  std::vector<std::unique_ptr<Samples>> samples_;
  const std::function<void(const Event&)>* emit_ = nullptr;
};

// waggle_xdp_rule_packets_total and _bytes_total{rule,action,interface,netns}, read from the
// kernel at each scrape, for every rule set waggle has attached on the host.
void add_xdp_metrics(metrics::Registry& registry);

}  // namespace waggle
