#include "cli/profile_command.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>

#include "core/host.hpp"
#include "core/proc_reader.hpp"
#include "core/profile.hpp"
#include "export/flamegraph_svg.hpp"
#include "export/folded.hpp"
#include "export/pprof.hpp"
#include "export/speedscope.hpp"
#include "sensors/profile/stack_resolver.hpp"

namespace waggle {

namespace {

std::atomic<bool> stop_requested{false};
void on_signal(int) { stop_requested = true; }

int64_t wall_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string render(const Profile& profile, const ProfileCommand& c) {
  if (c.format == "pprof") return render_pprof(profile);
  if (c.format == "speedscope") return render_speedscope(profile);
  if (c.format == "svg") {
    FlameGraphOptions options;
    options.title = fmt::format("waggle profile{}: {} samples at {} Hz over {:g} s",
                                profile.off_cpu ? " (off-CPU: blocked time)" : "", profile.total_samples(),
                                profile.frequency_hz, c.duration_s);
    options.per_pid = c.per_pid;
    return render_flamegraph_svg(profile, options);
  }
  FoldedOptions options;
  options.pid_in_process = c.per_pid;
  return render_folded(profile, options);
}

}  // namespace

std::vector<uint64_t> container_cgroups(const std::string& id, std::string* error) {
  bool hex = id.size() >= 12 && id.size() <= 64 &&
             std::all_of(id.begin(), id.end(), [](char ch) { return std::isxdigit(uint8_t(ch)) && !std::isupper(uint8_t(ch)); });
  if (!hex) {
    *error = fmt::format("container '{}': expected a container id, 12 to 64 lower-case hex digits", id);
    return {};
  }
  std::string root = cgroup2_mount();
  std::vector<uint64_t> ids;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(
           root, std::filesystem::directory_options::skip_permission_denied, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_directory(ec)) continue;
    if (it->path().filename().string().find(id) == std::string::npos) continue;
    ids.push_back(cgroup_id_of(root, it->path().string().substr(root.size())));
    it.disable_recursion_pending();  // its sub-cgroups are selected with it
  }
  if (ids.empty()) *error = fmt::format("container '{}': no cgroup under {} holds this id", id, root);
  return ids;
}

int run_profile(ProfileCommand c) {
  if (c.format != "folded" && c.format != "pprof" && c.format != "svg" && c.format != "speedscope") {
    fmt::print(stderr, "waggle: --format {}: expected folded, pprof, svg or speedscope\n", c.format);
    return 2;
  }
  for (const std::string& id : c.containers) {
    std::string error;
    std::vector<uint64_t> ids = container_cgroups(id, &error);
    if (ids.empty()) {
      fmt::print(stderr, "waggle: --container: {}\n", error);
      return 2;
    }
    c.sampler.cgroup_ids.insert(c.sampler.cgroup_ids.end(), ids.begin(), ids.end());
  }
  if (std::string problem = check_sampler_options(c.sampler); !problem.empty()) {
    fmt::print(stderr, "waggle: {}\n", problem);
    return 2;
  }
  // Open the output first: a path that cannot be written fails before anything is loaded.
  std::ofstream file;
  if (!c.output.empty()) {
    file.open(c.output, std::ios::binary | std::ios::trunc);
    if (!file) {
      fmt::print(stderr, "waggle: --output {}: {}\n", c.output, strerror(errno));
      return 2;
    }
  }
  c.sampler.self_tgid = uint32_t(getpid());
  ResolverOptions resolver_options;
  resolver_options.debug_root = c.debug_root;
  StackResolver resolver(resolver_options);
  if (!resolver.kernel_error().empty() && c.sampler.kernel_stacks)
    fmt::print(stderr, "waggle: kernel frames will be unnamed: {}\n", resolver.kernel_error());
  Profile profile;
  profile.frequency_hz = c.sampler.frequency_hz;
  profile.off_cpu = c.sampler.off_cpu;
  std::string error;
  auto sampler = Sampler::open(
      c.sampler, [&](const wg_profile_sample& s, size_t size) { resolver.add(s, size, &profile); }, &error);
  if (!sampler) {
    fmt::print(stderr, "waggle: {}\n", error);
    return 1;
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  profile.start_time_ns = wall_ns();
  auto start = std::chrono::steady_clock::now();
  auto until = start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                           std::chrono::duration<double>(c.duration_s));
  auto next_sweep = start + std::chrono::seconds(1);
  while (!stop_requested) {
    auto now = std::chrono::steady_clock::now();
    if (now >= until) break;
    int wait_ms = int(std::min<int64_t>(
        100, std::chrono::duration_cast<std::chrono::milliseconds>(until - now).count() + 1));
    int n = sampler->poll(wait_ms);
    if (n < 0 && n != -EINTR) {
      fmt::print(stderr, "waggle: reading samples: {}\n", strerror(-n));
      return 1;
    }
    if (std::chrono::steady_clock::now() >= next_sweep) {
      resolver.sweep();
      next_sweep += std::chrono::seconds(1);
    }
  }
  sampler->poll(0);  // what the kernel posted before the end
  profile.duration_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start).count();
  uint64_t dropped = sampler->dropped();
  sampler.reset();  // detached before the output is written
  const ResolverStats& st = resolver.stats();
  if (c.stats || dropped)
    fmt::print(stderr,
               "waggle: {} samples, {} dropped in the kernel (ring full, or its slot busy); {} processes read, {} unreadable, "
               "{} reloaded, {} evicted; {} names cached, {} evicted\n",
               st.samples, dropped, st.processes_opened, st.processes_unreadable, st.processes_reloaded,
               st.processes_evicted, st.names_cached, st.names_evicted);
  std::string out = render(profile, c);
  if (c.output.empty()) {
    fwrite(out.data(), 1, out.size(), stdout);
    fflush(stdout);
  } else {
    file << out;
    file.close();
    if (!file) {
      fmt::print(stderr, "waggle: --output {}: write failed\n", c.output);
      return 1;
    }
  }
  return 0;
}

}  // namespace waggle
