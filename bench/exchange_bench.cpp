// The agent's user-space work per HTTP exchange the kernel parsed, past decoding its record:
// the tracker (connection, route, sampling), the metrics, and, with events on, the JSON line
// and its copy into `waggle observe`'s history, as `waggle run` does them. Two processes on
// 100 keep-alive connections, as nginx and wrk in bench/http_run.py (each request is one
// server and one client exchange). A deterministic figure to set beside the end-to-end one.
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "cli/event_history.hpp"
#include "config/config.hpp"
#include "export/event_metrics.hpp"
#include "export/exporter.hpp"
#include "sensors/network/http_tracker.hpp"

namespace {

waggle::ProcessRef make_process(uint32_t pid, const char* binary) {
  auto p = std::make_shared<waggle::ProcessInfo>();
  p->exec_id = "node-1:355fb3af:543959578975:" + std::to_string(pid);
  p->pid = pid;
  p->comm = "c";
  p->binary = binary;
  return p;
}

void run(benchmark::State& state, uint32_t events_every) {
  waggle::HttpTracker tracker({}, events_every);
  waggle::metrics::Registry registry;
  waggle::EventMetrics metrics(registry);
  waggle::OutputConfig output;
  output.file = "/dev/null";
  std::string error;
  std::unique_ptr<waggle::Exporter> exporter = waggle::Exporter::open(output, &error);
  if (!exporter) {
    state.SkipWithError(error.c_str());
    return;
  }
  waggle::EventHistory history;
  exporter->set_json_tap([&history](std::string_view line) { history.add(line); });
  const waggle::ProcessRef server = make_process(6286, "/usr/sbin/nginx"),
                           client = make_process(7001, "/usr/bin/wrk");
  auto endpoints = [](waggle::Endpoint* local, waggle::Endpoint* remote) {
    *local = {"127.0.0.1", 8080};
    *remote = {"127.0.0.1", 41000};
  };
  std::vector<waggle::Event> events;
  uint64_t t = 1'795'000'000'000'000'000, n = 0;
  for (auto _ : state) {
    const bool as_server = n % 2 == 0;
    const uint64_t sk = 0xffff888100000000ull + ((n / 2) % 100) * 2304 + (as_server ? 0 : 1152);
    waggle::http::Exchange x;
    x.role = as_server ? waggle::http::Role::kServer : waggle::http::Role::kClient;
    x.method = "GET";
    x.target = "/";
    x.status = 200;
    x.start_ns = t;
    x.end_ns = t += 40'000;
    x.request_bytes = 40;
    x.response_bytes = 160;
    tracker.on_exchange(sk, std::move(x), false, as_server ? server : client, endpoints, &events);
    for (const waggle::Event& event : events) {
      metrics.on_event(event);
      if (waggle::written_out(event)) exporter->on_event(event);
    }
    events.clear();
    n++;
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_ExchangeEventsOn(benchmark::State& state) { run(state, 1); }
BENCHMARK(BM_ExchangeEventsOn);

void BM_ExchangeMetricsOnly(benchmark::State& state) { run(state, 0); }
BENCHMARK(BM_ExchangeMetricsOnly);

}  // namespace
BENCHMARK_MAIN();
