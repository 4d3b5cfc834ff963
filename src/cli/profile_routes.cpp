#include "cli/profile_routes.hpp"

#include <fmt/format.h>

#include <unistd.h>

#include <atomic>
#include <cctype>

#include "export/flamegraph_svg.hpp"
#include "export/pprof.hpp"

namespace waggle {

namespace {

HttpReply bad_request(const std::string& message) {
  HttpReply reply;
  reply.status = 400;
  reply.body = message + "\n";
  return reply;
}

bool digits(const std::string& s) {
  return !s.empty() && s.size() <= 10 && std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(uint8_t(c)); });
}

// The window and filter a request asks for, or the reason it is wrong.
std::string parse(const std::map<std::string, std::string>& query, double max_seconds, double* seconds,
                  ProfileFilter* filter) {
  *seconds = kDefaultProfileSeconds < max_seconds ? kDefaultProfileSeconds : max_seconds;
  for (const auto& [key, value] : query) {
    if (key == "seconds") {
      if (!digits(value) || std::stoull(value) == 0 || double(std::stoull(value)) > max_seconds)
        return fmt::format("seconds={}: expected a whole number of seconds from 1 to {:g} (profiler.max_seconds)",
                           value, max_seconds);
      *seconds = double(std::stoull(value));
    } else if (key == "pid") {
      if (!digits(value) || std::stoull(value) == 0 || std::stoull(value) > UINT32_MAX)
        return fmt::format("pid={}: expected a process id", value);
      filter->pid = uint32_t(std::stoull(value));
    } else if (key == "comm") {
      if (value.empty() || value.size() > 15) return fmt::format("comm={}: expected a command name of 1 to 15 bytes", value);
      filter->comm = value;
    } else if (key == "container") {
      bool hex = !value.empty() && value.size() <= 64 &&
                 std::all_of(value.begin(), value.end(), [](char c) { return std::isxdigit(uint8_t(c)) && !std::isupper(uint8_t(c)); });
      if (!hex) return fmt::format("container={}: expected a container id or prefix (lower-case hex)", value);
      filter->container = value;
    } else {
      return fmt::format("unknown parameter '{}': expected seconds, pid, comm or container", key);
    }
  }
  return "";
}

}  // namespace

std::unique_ptr<ContinuousProfiler> start_profiler(const ProfilerConfig& config, std::string* error) {
  SamplerOptions sampler;
  sampler.frequency_hz = config.frequency_hz;
  sampler.kernel_stacks = config.kernel_stacks;
  sampler.user_stacks = config.user_stacks;
  sampler.user_stack_bytes = config.stack_bytes;
  sampler.self_tgid = uint32_t(getpid());
  ResolverOptions resolver;
  resolver.debug_root = config.debug_root;
  resolver.max_processes = config.max_processes;
  auto profiler = ContinuousProfiler::start(sampler, resolver, error);
  if (profiler) profiler->set_collecting(false);
  return profiler;
}

namespace {

// Windows collected at once: as many as the endpoint's workers beyond the two kept for
// /metrics, so that scrapes are never starved by long profile requests.
constexpr int kMaxWindows = 2;

// Holds one of the kMaxWindows slots while a window is collected.
class WindowSlot {
 public:
  explicit WindowSlot(std::atomic<int>& used) : used_(used), held_(used.fetch_add(1) < kMaxWindows) {}
  ~WindowSlot() { used_.fetch_sub(1); }
  bool held() const { return held_; }

 private:
  std::atomic<int>& used_;
  bool held_;
};

HttpReply busy() {
  HttpReply reply;
  reply.status = 503;
  reply.headers["Retry-After"] = "10";
  reply.body = fmt::format("{} profile windows are being collected already; try again later\n", kMaxWindows);
  return reply;
}

}  // namespace

void add_profiler_metrics(metrics::Registry& registry, ContinuousProfiler& profiler) {
  registry.add_collector([&profiler](metrics::Collector& c) {
    ResolverStats s = profiler.stats();
    c.counter("waggle_profiler_samples_total", "CPU samples unwound and named for a profile window.")
        .sample({}, double(s.samples));
    c.counter("waggle_profiler_samples_dropped_total",
              "CPU samples the kernel could not post (the profiler's ring buffer was full).")
        .sample({}, double(profiler.dropped()));
    c.counter("waggle_profiler_processes_unreadable_total",
              "Attempts to read a sampled process's mappings that failed (the process was gone).")
        .sample({}, double(s.processes_unreadable));
    c.counter("waggle_profiler_processes_evicted_total",
              "Unwinding contexts dropped to stay within profiler.max_processes.")
        .sample({}, double(s.processes_evicted));
    c.counter("waggle_profiler_names_evicted_total", "Cached frame names dropped to stay within the cache's bound.")
        .sample({}, double(s.names_evicted));
  });
}

std::vector<HttpRoute> profile_routes(ContinuousProfiler& profiler, const ProfilerConfig& config) {
  double max_seconds = config.max_seconds;
  static std::atomic<int> windows{0};
  auto pprof = [&profiler, max_seconds](const std::map<std::string, std::string>& query) {
    double seconds = 0;
    ProfileFilter filter;
    if (std::string error = parse(query, max_seconds, &seconds, &filter); !error.empty()) return bad_request(error);
    WindowSlot slot(windows);
    if (!slot.held()) return busy();
    HttpReply reply;
    reply.content_type = "application/octet-stream";
    reply.headers["Content-Disposition"] = "attachment; filename=\"profile.pb.gz\"";
    reply.body = render_pprof(profiler.collect(seconds, filter));
    return reply;
  };
  auto svg = [&profiler, max_seconds](const std::map<std::string, std::string>& query) {
    double seconds = 0;
    ProfileFilter filter;
    if (std::string error = parse(query, max_seconds, &seconds, &filter); !error.empty()) return bad_request(error);
    WindowSlot slot(windows);
    if (!slot.held()) return busy();
    Profile profile = profiler.collect(seconds, filter);
    FlameGraphOptions options;
    options.title = fmt::format("waggle: {} samples at {} Hz over {:g} s", profile.total_samples(),
                                profile.frequency_hz, seconds);
    HttpReply reply;
    reply.content_type = "image/svg+xml";
    reply.body = render_flamegraph_svg(profile, options);
    return reply;
  };
  return {{"/debug/pprof/profile", pprof}, {"/debug/flamegraph", svg}};
}

}  // namespace waggle
