#include "cli/agent.hpp"
#include "cli/xdp_agent.hpp"

#include <bpf/bpf.h>
#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <vector>

#include "cli/agent_health.hpp"
#include "cli/control_socket.hpp"
#include "cli/event_history.hpp"
#include "cli/policy_control.hpp"
#include "cli/profile_routes.hpp"
#include "cli/ui_bridge.hpp"
#include "cli/ui_routes.hpp"
#include "core/feature_probe.hpp"
#include "core/host.hpp"
#include "export/event_metrics.hpp"
#include "export/exporter.hpp"
#include "export/http_traffic.hpp"
#include "export/otlp/otlp_exporter.hpp"
#include "export/prometheus_endpoint.hpp"
#include "policy/policy_sensor.hpp"
#include "sensors/file/file_sensor.hpp"
#include "sensors/network/network_sensor.hpp"
#include "sensors/process/process_sensor.hpp"

namespace waggle {
namespace {

volatile sig_atomic_t stop_requested = 0;

void on_stop_signal(int) { stop_requested = 1; }

void install_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a signal interrupts the ring's wait
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

std::string stats_json(const EventRing& ring, const Exporter& exporter, const ProcessCache& cache,
                       uint64_t undecodable, uint64_t rate_limited, bool final) {
  std::vector<uint64_t> drops = ring.drop_counts();
  uint64_t lost = undecodable;
  std::string by_sensor;
  for (int s = 0; s < WG_SENSORS; s++) {
    std::string causes;
    for (int c = 0; c < WG_DROP_CAUSES; c++) {
      uint64_t n = drops[s * WG_DROP_CAUSES + c];
      lost += n;
      causes += fmt::format("{}\"{}\":{}", c ? "," : "", kCauseNames[c], n);
    }
    by_sensor += fmt::format("{}\"{}\":{{{}}}", s ? "," : "", kSensorNames[s], causes);
  }
  return fmt::format(
      "{{\"type\":\"agent.stats\",\"final\":{},\"records\":{},\"events\":{},\"lost\":{},\"drops\":{{{},"
      "\"user_space\":{{\"undecodable\":{}}}}},\"output_write_errors\":{},\"rate_limited\":{},\"process_"
      "cache\":{}}}\n",
      final, ring.records(), exporter.events(), lost, by_sensor, undecodable, exporter.errors(), rate_limited,
      cache.size());
}

}  // namespace

int run_agent(const AgentOptions& options) {
  const Config& config = options.config;
  // Before anything is loaded: a SIGINT during startup still ends in a clean, reported stop.
  install_signal_handlers();
  KernelFeatures features = probe_kernel();
  if (!features.can_load_bpf()) {
    fmt::print(stderr, "waggle: this kernel cannot run BPF programs here; run `waggle doctor` for details\n");
    return 1;
  }
  std::string error;
  // Packet rules first: a bad rules file stops the agent before any sensor is loaded. All are
  // attached or none; they are detached on every way out (unless kept).
  std::unique_ptr<AgentXdp> xdp;
  if (!config.xdp.empty()) {
    int status = 1;
    xdp = AgentXdp::start(config.xdp, &error, &status);
    if (!xdp) {
      fmt::print(stderr, "waggle: {}\n", error);
      return status;
    }
  }
  auto ring = EventRing::create(config.ring_buffer_bytes, &error);
  if (!ring) {
    fmt::print(stderr, "waggle: {}\n", error);
    return 1;
  }
  auto exporter = Exporter::open(config.output, &error);
  if (!exporter) {
    fmt::print(stderr, "waggle: {}\n", error);
    return 1;
  }
  exporter->give_up_when(&stop_requested);  // SIGINT or SIGTERM stop the agent even if its output is stuck
  ProcessCache::Options cache_options;
  cache_options.cgroup2_root = cgroup2_mount();
  ProcessCache cache(HostInfo::read(), cache_options);
  cache.seed();

  SensorEnv env;
  env.ring = ring.get();
  env.cache = &cache;
  env.config = &config;
  env.features = &features;
  env.self_tgid = getpid();
  std::string tracefs_error;
  env.tracefs = ensure_tracefs(&tracefs_error);

  std::vector<std::unique_ptr<Sensor>> sensors;
  auto add = [&](bool enabled, auto open) {
    if (!enabled) return;
    std::string why;
    if (auto sensor = open(env, &why)) {
      fmt::print(stderr, "waggle: {} sensor on {}\n", sensor->name(), sensor->hook());
      sensors.push_back(std::move(sensor));
    } else {
      fmt::print(stderr, "waggle: {}\n", why);  // one sensor missing never stops the others
    }
  };
  add(config.process_enabled, open_process_sensor);
  add(config.file_enabled, open_file_sensor);
  add(config.network_enabled, open_network_sensor);
  Sensor* enforcer = nullptr;
  std::string enforcer_missing;
  if (!options.policies.empty() || !options.control_socket.empty()) {
    std::string why;
    auto opened = open_policy_sensor(env, options.policies, &why);
    if (!opened && !options.policies.empty()) {
      // Policies asked for and not enforced would be a silent hole: stop instead.
      fmt::print(stderr, "waggle: {}\n", why);
      return 1;
    }
    if (opened) {
      if (!options.policies.empty())
        fmt::print(stderr, "waggle: {} polic{} enforced on {}\n", options.policies.size(),
                   options.policies.size() == 1 ? "y" : "ies", opened->hook());
      enforcer = opened.get();
      sensors.push_back(std::move(opened));
    } else {
      enforcer_missing = why;
    }
  }
  std::unique_ptr<ControlServer> control;
  if (!options.control_socket.empty()) {
    std::string why;
    control = ControlServer::listen(options.control_socket, &why);
    if (!control) fmt::print(stderr, "waggle: {}; `waggle policy` cannot reach this agent\n", why);
  }
  auto started = [&](std::string_view name) {
    for (auto& s : sensors)
      if (s->name() == name) return true;
    return false;
  };
  for (auto [event, sensor] : {std::pair{"process.exec", "process"}, std::pair{"file.open", "file"}}) {
    bool enabled = std::string_view(sensor) == "process" ? config.process_enabled : config.file_enabled;
    if (options.require_shown_sensors && options.shown.count(event) && enabled && !started(sensor)) {
      fmt::print(stderr, "waggle: cannot report {} events without the {} sensor\n", event, sensor);
      return 1;
    }
  }
  if (sensors.empty()) {
    fmt::print(stderr, "waggle: no sensor could start\n");
    return 1;
  }

  uint64_t undecodable = 0;
  // Metrics: served from the endpoint's threads until it stops, before anything it reads goes.
  metrics::Registry registry;
  std::unique_ptr<EventMetrics> event_metrics;
  std::unique_ptr<AgentHealth> health;
  std::unique_ptr<ContinuousProfiler> profiler;  // outlives the endpoint, whose requests use it
  // The web UI's: requests answered on this loop, and the HTTP traffic over time.
  UiBridge ui_bridge;
  HttpTraffic traffic;
  std::unique_ptr<PrometheusEndpoint> endpoint;
  int stats_fd = -1;
  const bool otlp_on = !config.otlp.endpoint.empty();
  if (config.metrics.enabled || (otlp_on && config.otlp.metrics)) {  // OTLP sends the same metrics
    event_metrics = std::make_unique<EventMetrics>(registry);
    health = std::make_unique<AgentHealth>(registry);
    health->update(*ring, sensors, undecodable);
  }
  if (config.metrics.enabled) {
    // Run counts and times of the programs: the kernel keeps them while this fd is open.
    if (config.metrics.program_stats) stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
    std::vector<HttpRoute> routes;
    if (config.profiler.enabled) {
      std::string why;
      profiler = start_profiler(config.profiler, &why);
      if (profiler) {
        routes = profile_routes(*profiler, config.profiler);
        add_profiler_metrics(registry, *profiler);
      }
      else
        fmt::print(stderr, "waggle: profiler disabled: {}\n", why);  // everything else runs
    }
    if (xdp) add_xdp_metrics(registry);
    if (config.metrics.ui) {
      std::vector<HttpRoute> ui = ui_routes(ui_bridge, registry, traffic, config.metrics.address);
      routes.insert(routes.end(), ui.begin(), ui.end());
    }
    std::string why;
    endpoint = PrometheusEndpoint::start(config.metrics.address, registry, &why, std::move(routes));
    if (endpoint)
      fmt::print(stderr, "waggle: metrics on http://{}/metrics{}\n", endpoint->address(),
                 config.metrics.ui ? fmt::format(", UI on http://{}/", endpoint->address()) : "");
    else
      fmt::print(stderr, "waggle: metrics endpoint disabled: {}\n", why);  // the events still flow
  }
  // On every way out, windows being collected end before the endpoint (destroyed after this)
  // joins the workers serving them.
  struct StopProfiler {
    ContinuousProfiler* profiler;
    ~StopProfiler() {
      if (profiler) profiler->stop();
    }
  } stop_profiler{profiler.get()};
  std::unique_ptr<otlp::OtlpExporter> otlp;
  if (otlp_on) {
    std::string why;
    otlp = otlp::OtlpExporter::start(config.otlp, &registry, HostInfo::read().hostname, &why);
    if (!otlp) {
      fmt::print(stderr, "waggle: {}\n", why);
      return 1;
    }
    fmt::print(stderr, "waggle: OTLP to {}\n", config.otlp.endpoint);
  }
  std::array<bool, std::variant_size_v<Event>> shown{};  // by the events' index, not looked up per event
  for (size_t i = 0; i < shown.size(); i++) shown[i] = options.shown.count(kEventTypeNames[i]) > 0;
  auto emit = [&](const Event& event) {
    if (event_metrics) event_metrics->on_event(event);
    if (!written_out(event)) return;
    if (otlp) otlp->on_event(event);
    if (shown[event.index()]) exporter->on_event(event);
  };
  bool reading = ring->start(
      [&](const void* data, size_t size) {
        if (size < sizeof(wg_header)) {
          undecodable++;
          return;
        }
        const auto& header = *static_cast<const wg_header*>(data);
        for (auto& sensor : sensors) {
          if (sensor->handles(header.type)) {
            sensor->decode(header, data, size, emit);
            return;
          }
        }
        undecodable++;
      },
      &error);
  if (!reading) {
    fmt::print(stderr, "waggle: {}\n", error);
    return 1;
  }

  auto rate_limited = [&] {
    uint64_t n = 0;
    for (auto& sensor : sensors) n += sensor->rate_limited();
    return n;
  };
  using clock = std::chrono::steady_clock;
  auto start = clock::now();
  auto next_housekeeping = start + std::chrono::seconds(1);
  uint64_t seen_drops[WG_SENSORS] = {};
  auto next_sweep = start + std::chrono::seconds(30);
  auto next_stats = start + std::chrono::seconds(10);
  auto next_control = start;
  PolicyControl policy_control(enforcer, enforcer_missing, *ring, options.policies, options.policy_dir);
  // The events written out, for `waggle observe` (through the control socket) and the web UI.
  EventHistory history;
  // What the control socket and the UI ask this loop: the history, or the policies.
  auto answer = [&](const std::string& request) {
    return request.rfind("observe", 0) == 0 ? history.handle(request) : policy_control.handle(request);
  };
  const bool otlp_logs = otlp && config.otlp.logs;
  const bool ui_on = endpoint && config.metrics.ui;
  if (control || otlp_logs || ui_on)
    exporter->set_json_tap([&history, &otlp, keep = control || ui_on, otlp_logs](std::string_view line) {
      if (keep) history.add(line);
      if (otlp_logs) otlp->on_line(line);
    });
  struct UntapHistory {  // the exporter outlives the history
    Exporter* exporter;
    ~UntapHistory() { exporter->set_json_tap(nullptr); }
  } untap{exporter.get()};
  fmt::print(stderr, "waggle: ready\n");
  int status = 0;
  while (!stop_requested) {
    if (config.duration_s && clock::now() - start >= std::chrono::duration<double>(*config.duration_s)) break;
    int n = ring->poll(100);
    if (n < 0) {
      fmt::print(stderr, "waggle: reading the ring buffer failed: {}\n", strerror(-n));
      status = 1;
      break;
    }
    auto now = clock::now();
    // Requests wait at most 10 ms under load (each look at the socket is a system call; the
    // loop turns for every batch of records), and at most the poll's 100 ms when idle.
    if (control && (n == 0 || now >= next_control)) {
      control->serve(answer);
      next_control = now + std::chrono::milliseconds(10);
    }
    if (ui_on) ui_bridge.serve(answer);
    if (xdp) xdp->poll(emit);
    if (ui_on) {
      double now_s = std::chrono::duration<double>(now.time_since_epoch()).count();
      if (traffic.due(now_s)) traffic.record(registry.collect(), now_s);
    }
    if ((n == 0 || now >= next_housekeeping) && !exporter->flush())
      fmt::print(stderr, "waggle: writing events failed: {}\n", exporter->error());
    if (now >= next_housekeeping) {
      if (health) health->update(*ring, sensors, undecodable);
      // A sensor whose records the ring could not take since the last look restarts what it
      // built from them (a full table loses no record already posted: it does not count).
      std::vector<uint64_t> drops = ring->drop_counts();
      for (auto& sensor : sensors) {
        for (int s = 0; s < WG_SENSORS; s++) {
          if (sensor->name() != kSensorNames[s]) continue;
          uint64_t n = drops[size_t(s) * WG_DROP_CAUSES + WG_DROP_RINGBUF_FULL];
          if (n > seen_drops[s]) sensor->on_records_lost();
          seen_drops[s] = n;
        }
      }
      for (auto& sensor : sensors) sensor->tick(emit);
      cache.expire(boottime_now_ns());
      next_housekeeping = now + std::chrono::seconds(1);
    }
    if (now >= next_sweep) {
      cache.sweep(boottime_now_ns());
      next_sweep = now + std::chrono::seconds(30);
    }
    if (config.stats && now >= next_stats) {
      fmt::print(stderr, "{}", stats_json(*ring, *exporter, cache, undecodable, rate_limited(), false));
      next_stats = now + std::chrono::seconds(10);
    }
  }
  // Detach first, then drain: every record made before detaching is written out.
  for (auto& sensor : sensors) sensor->detach();
  while (ring->poll(0) > 0) {
  }
  for (auto& sensor : sensors) sensor->tick(emit);  // what the kernel counted until the end
  if (xdp) xdp->poll(emit);  // the last samples
  if (!exporter->flush()) fmt::print(stderr, "waggle: writing events failed: {}\n", exporter->error());
  // What is queued for the collector goes now (at most a few seconds if it does not answer).
  if (otlp) otlp->stop(std::min(config.otlp.timeout_s, 5.0));
  if (profiler) profiler->stop();  // a window being collected ends now, and is served
  ui_bridge.close();               // UI requests waiting for this loop give up
  if (endpoint) endpoint->stop();
  if (xdp) xdp->stop();
  if (stats_fd >= 0) close(stats_fd);
  fmt::print(stderr, "{}", stats_json(*ring, *exporter, cache, undecodable, rate_limited(), true));
  return exporter->errors() > 0 ? 1 : status;
}

}  // namespace waggle
