// How much CPU one event costs to render as a JSON line: the user-space half of the
// "every open as JSON" stream (the kernel half is measured by bench/run.py).
#include <benchmark/benchmark.h>

#include "export/json_events.hpp"

namespace {

waggle::ProcessRef make_process() {
  auto p = std::make_shared<waggle::ProcessInfo>();
  p->exec_id = "node-1:355fb3af:543959578975:6286";
  p->pid = 6286;
  p->ppid = 6137;
  p->comm = "nginx";
  p->binary = "/usr/sbin/nginx";
  p->args = {"nginx", "-g", "daemon off;", "-c", "/etc/nginx/nginx.conf"};
  p->cwd = "/";
  p->cgroup_id = 4242;
  p->start_time_ns = 1'795'000'000'000'000'000;
  return p;
}

// Renders the event again and again, a microsecond later each time.
template <typename E>
void render_repeatedly(benchmark::State& state, const E& e) {
  waggle::Event event{e};
  std::string out;
  uint64_t t = 1'795'000'000'000'000'000;
  for (auto _ : state) {
    std::get<E>(event).time_ns = t += 1000;
    out.clear();
    waggle::append_json_event(out, event);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * out.size());
}

void BM_FileOpenEvent(benchmark::State& state) {
  waggle::FileOpenEvent open;
  open.process = make_process();
  open.tid = 6286;
  open.path = open.given_path = "/var/www/html/index.html";
  open.flags = 0x80000;  // O_RDONLY|O_CLOEXEC
  open.fd = 12;
  render_repeatedly(state, open);
}
BENCHMARK(BM_FileOpenEvent);

// An http.request as the network sensor makes it for nginx's side of `GET /users/42`.
void BM_HttpEvent(benchmark::State& state) {
  waggle::HttpEvent http;
  http.process = make_process();
  http.server = true;
  http.method = "GET";
  http.route = "/users/{id}";
  http.target = "/users/42";
  http.status = 200;
  http.duration_ns = 41'250;
  http.request_bytes = 78;
  http.response_bytes = 162;
  http.local = {"127.0.0.1", 8080};
  http.remote = {"127.0.0.1", 41002};
  render_repeatedly(state, http);
}
BENCHMARK(BM_HttpEvent);

void BM_ExecEventFirstRender(benchmark::State& state) {
  std::string out;
  for (auto _ : state) {
    waggle::ExecEvent exec;
    exec.process = make_process();  // a new process: nothing memoized yet
    exec.parent = {"node-1:355fb3af:1:6137", 6137, "/usr/bin/bash"};
    exec.time_ns = 1'795'000'000'000'000'000;
    out.clear();
    waggle::append_json_event(out, waggle::Event{std::move(exec)});
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ExecEventFirstRender);

}  // namespace

BENCHMARK_MAIN();
