// waggle: an eBPF agent for process and file visibility. Subcommands: run, trace, doctor.
#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/agent.hpp"
#include "cli/control_socket.hpp"
#include "cli/doctor.hpp"
#include "cli/observe_command.hpp"
#include "cli/policy_check.hpp"
#include "cli/xdp_command.hpp"
#include "cli/policy_files.hpp"
#include "cli/profile_command.hpp"
#include "config/config.hpp"

namespace {

// Options every event-producing subcommand takes; set only when given, so that they
// override the configuration file.
struct CommonOptions {
  std::string output;
  std::string output_file;
  double duration = 0;
  uint32_t pid = 0;
  std::string comm;
  bool stats = false;

  void add_to(CLI::App* app) {
    app->add_option(
           "-o,--output", output,
           "Event format: json (one JSON object per line) or text (one line per event for terminals)")
        ->check(CLI::IsMember({"json", "text"}));
    app->add_option("--output-file", output_file,
                    "Write events to this file (rotated by size) instead of standard output");
    app->add_option("-d,--duration", duration,
                    "Stop after this many seconds (default: until SIGINT or SIGTERM)")
        ->check(CLI::PositiveNumber);
    app->add_option("-p,--pid", pid, "Only report events of this process (thread group id)")
        ->check(CLI::PositiveNumber);
    app->add_option("-c,--comm", comm,
                    "Only report events of processes with this command name (at most 15 bytes)");
    app->add_flag("--stats", stats,
                  "Print delivery and loss statistics to standard error every 10 s (always printed at exit)");
  }

  void apply(waggle::Config& config) const {
    if (!output.empty())
      config.output.format = output == "text" ? waggle::OutputFormat::kText : waggle::OutputFormat::kJson;
    if (!output_file.empty()) config.output.file = output_file;
    if (duration > 0) config.duration_s = duration;
    if (pid) config.pid = pid;
    if (!comm.empty()) config.comm = comm;
    if (stats) config.stats = true;
  }
};

// validate_limits names values by their place in the YAML schema; on the command line the
// user wrote an option.
std::string as_option(std::string error) {
  for (auto [yaml, flag] :
       {std::pair{"sensors.file.prefix", "--prefix"}, std::pair{"sensors.file.exact", "--exact"},
        std::pair{"sensors.file.suffix", "--suffix"}, std::pair{"select.comm", "--comm"},
        std::pair{"select.pid", "--pid"}}) {
    if (error.rfind(yaml, 0) != 0) continue;
    size_t colon = error.find(": ");
    return fmt::format("{}: {}", flag, colon == std::string::npos ? error : error.substr(colon + 2));
  }
  return error;
}

int finish(waggle::AgentOptions& options) {
  // The configuration file, if any, was checked when loaded: what fails here came from options.
  std::string error = waggle::validate_limits(options.config);
  if (!error.empty()) {
    fmt::print(stderr, "waggle: {}\n", as_option(error));
    return 2;
  }
  if (geteuid() != 0)
    fmt::print(stderr, "waggle: warning: not running as root; loading BPF programs will likely fail\n");
  return waggle::run_agent(options);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "waggle: observes processes and files on this host with eBPF, filtering in the kernel.\n"
      "Run `waggle doctor` first to see what this kernel supports."};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every subcommand");

  auto* run = app.add_subcommand("run", "Run the agent with every sensor of the configuration");
  std::string config_path;
  run->add_option(
         "--config", config_path,
         "YAML configuration file (see docs/configuration.md). Without it: JSON to standard output, the "
         "process sensor, the file sensor reporting opens under /etc/, the network sensor (TCP, HTTP, DNS) "
         "and Prometheus metrics at http://127.0.0.1:9464/metrics (as config/waggle.yaml)")
      ->check(CLI::ExistingFile);
  CommonOptions run_common;
  run_common.add_to(run);
  std::vector<std::string> policy_files;
  std::string policy_dir;
  run->add_option("--policy", policy_files,
                  "Enforce the policy in this YAML file (repeatable; see docs/policies.md)")
      ->allow_extra_args(false)
      ->check(CLI::ExistingFile);
  policy_dir = "/etc/waggle/policies";
  run->add_option(
         "--policy-dir", policy_dir,
         "Enforce every *.yaml / *.yml policy in this directory (if it exists); `waggle policy apply` "
         "keeps policies there")
      ->capture_default_str();
  std::string control_socket = waggle::kDefaultControlSocket;
  run->add_option("--control-socket", control_socket,
                  "Unix socket (root only) on which `waggle policy apply|delete|list` reach this agent; "
                  "empty: none")
      ->capture_default_str();

  auto* trace = app.add_subcommand("trace", "Stream one kind of event");
  trace->require_subcommand(1);
  auto* exec = trace->add_subcommand("exec", "Process executions and exits");
  CommonOptions exec_common;
  exec_common.add_to(exec);
  auto* open =
      trace->add_subcommand("open", "File opens (open, openat, openat2, creat), filtered in the kernel");
  CommonOptions open_common;
  open_common.add_to(open);
  std::vector<std::string> prefixes, exacts, suffixes;
  open->add_option("--prefix", prefixes, "Report opens of paths starting with P (repeatable)")
      ->allow_extra_args(false);
  open->add_option("--exact", exacts, "Report opens of exactly this absolute path (repeatable)")
      ->allow_extra_args(false);
  open->add_option("--suffix", suffixes, "Report opens of paths ending with S, e.g. .pem (repeatable)")
      ->allow_extra_args(false);
  open->footer(
      "With no --prefix, --exact or --suffix, every open is reported. Relative paths are\n"
      "resolved against the cwd or directory fd before matching; matching is on bytes,\n"
      "without following symlinks or '..'.");

  auto* doctor =
      app.add_subcommand("doctor", "Probe what this kernel can do and which hook each sensor will use");

  auto* policy = app.add_subcommand("policy", "Security policies");
  policy->require_subcommand(1);
  auto* check =
      policy->add_subcommand("check", "Validate policy files and explain what they do (loads nothing)");
  std::vector<std::string> check_files;
  check->add_option("FILE", check_files, "Policy files")->required()->check(CLI::ExistingFile);
  std::string socket_path = waggle::kDefaultControlSocket;
  auto* apply = policy->add_subcommand(
      "apply", "Put a policy in force in the running agent (replaces one of the same name)");
  std::string apply_file;
  apply->add_option("FILE", apply_file, "Policy file")->required()->check(CLI::ExistingFile);
  auto* remove = policy->add_subcommand("delete", "Stop enforcing a policy in the running agent");
  std::string remove_name;
  remove->add_option("NAME", remove_name, "Policy name (metadata.name)")->required();
  auto* list = policy->add_subcommand("list", "The policies in force in the running agent");
  for (auto* sub : {apply, remove, list})
    sub->add_option("--socket", socket_path, "The agent's control socket")->capture_default_str();

  auto* observe = app.add_subcommand(
      "observe",
      "Recent and live events of the running agent (its control socket), filtered: flows, HTTP "
      "requests, DNS queries, policy matches, processes, files");
  waggle::ObserveOptions obs;
  obs.socket = waggle::kDefaultControlSocket;
  std::string obs_since;
  observe->add_option("--socket", obs.socket, "The agent's control socket")->capture_default_str();
  observe->add_flag("-f,--follow", obs.follow, "Keep printing events as they come (until SIGINT)");
  observe->add_option("--since", obs_since, "Only events of the last DURATION (e.g. 30s, 5m, 1h)");
  observe->add_option("--last", obs.last,
                      "Only the last N matching events of those the agent kept (it keeps the last 10,000)")
      ->check(CLI::PositiveNumber);
  observe->add_option("-t,--type", obs.filter.types,
                      "Event type (repeatable): process.exec, process.exit, file.open, policy.match, network.tcp, "
                      "http.request, dns.query, packet.sample")
      ->check(CLI::IsMember({"process.exec", "process.exit", "file.open", "policy.match", "network.tcp",
                             "http.request", "dns.query", "packet.sample"}));
  observe->add_option("--pid", obs.filter.pid, "Events of this process (thread group id)");
  observe->add_option("--process", obs.filter.process, "Events of processes with this command or executable name");
  observe->add_option("--container", obs.filter.container, "Events of this container (an id or a prefix of one)");
  observe->add_option("--port", obs.filter.port, "Connections, requests and queries with this local or remote port (not packet samples)")
      ->check(CLI::Range(1, 65535));
  observe->add_option("--status", obs.filter.status, "HTTP requests with this response status")->check(CLI::Range(100, 999));
  observe->add_option("--verdict", obs.filter.verdict, "Policy matches with this outcome")
      ->check(CLI::IsMember({"logged", "killed", "would_kill", "refused", "denied", "would_deny"}));
  observe->add_option("--text", obs.filter.text, "Events whose JSON contains this text");
  std::string obs_output = "text";
  observe->add_option("-o,--output", obs_output, "text (one line per event) or json (the agent's JSON lines)")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();

  auto* profile = app.add_subcommand(
      "profile", "Sample the CPU of every process (or the selected ones) and write a profile with kernel and "
                 "user frames");
  waggle::ProfileCommand prof;
  profile->add_option("-d,--duration", prof.duration_s, "Seconds to sample (stops early on SIGINT)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  profile->add_option("-F,--frequency", prof.sampler.frequency_hz,
                      "Samples per second on each CPU (off-CPU: per second a thread waits), 1 to 999")
      ->capture_default_str();
  profile->add_flag("--off-cpu", prof.sampler.off_cpu,
                    "Where threads wait instead of where the CPU goes: blocked time by stack, from sched_switch "
                    "(a wait is counted when it ends; time runnable but preempted is not a wait)");
  profile->add_option("-p,--pid", prof.sampler.pids, "Only this process (repeatable)")->allow_extra_args(false);
  profile->add_option("-c,--comm", prof.sampler.comm, "Only processes with this command name (at most 15 bytes)");
  profile->add_option("--binary", prof.sampler.binaries,
                      "Only processes running this executable (repeatable; matched by device and inode)")
      ->allow_extra_args(false);
  profile->add_option("--container", prof.containers,
                      "Only processes of this container: its id or a unique prefix of 12+ hex digits (repeatable)")
      ->allow_extra_args(false);
  bool kernel_only_flag = false, user_only_flag = false;
  auto* kernel_only =
      profile->add_flag("--kernel-only", kernel_only_flag, "Only kernel frames (no user stack is copied)");
  auto* user_only = profile->add_flag("--user-only", user_only_flag, "Only user frames");
  kernel_only->excludes(user_only);
  profile->add_option("-f,--format", prof.format,
                      "folded (flamegraph.pl input), pprof (gzipped profile.proto, for go tool pprof and Parca), "
                      "svg (interactive flame graph) or speedscope (JSON)")
      ->capture_default_str()
      ->check(CLI::IsMember({"folded", "pprof", "svg", "speedscope"}));
  profile->add_option("-o,--output", prof.output, "Write the profile to this file (default: standard output)");
  profile->add_flag("--per-pid", prof.per_pid, "One root frame per process (COMM-PID) instead of per command name");
  profile->add_option("--debug-root", prof.debug_root,
                      "Where debug files are looked up by build-id and debuglink")
      ->capture_default_str();
  profile->add_option("--stack-bytes", prof.sampler.user_stack_bytes,
                      "Bytes of user stack copied per sample (deeper stacks are cut), at most 32768")
      ->capture_default_str();
  profile->add_flag("--stats", prof.stats, "Print what the profiler did (samples, processes, caches) to standard error");
  profile->footer(
      "User stacks are unwound in user space from each binary's .eh_frame (no frame pointers needed),\n"
      "kernel stacks by the kernel. Frames outside every known symbol show as module+0xOFFSET.\n"
      "With --off-cpu each sample stands for 1/FREQUENCY s that a thread spent blocked in that stack.");

  auto* xdp = app.add_subcommand("xdp", "Packet rules in XDP: drop, pass, count packets before the network stack");
  xdp->require_subcommand(1);
  waggle::XdpCommand xdp_cmd;
  auto* xdp_check = xdp->add_subcommand(
      "check", "Validate a rules file and load it into the kernel to be verified, without attaching it");
  xdp_check->add_option("RULES", xdp_cmd.rules_file, "Packet rules file (kind: PacketRules)")
      ->required()
      ->check(CLI::ExistingFile);

  auto* xdp_apply = xdp->add_subcommand(
      "apply", "Attach packet rules to an interface, or replace waggle's rules there atomically; they stay "
               "attached (pinned under /sys/fs/bpf/waggle/xdp) until detached");
  xdp_apply->add_option("RULES", xdp_cmd.rules_file, "Packet rules file (kind: PacketRules)")
      ->required()
      ->check(CLI::ExistingFile);
  auto* xdp_status = xdp->add_subcommand("status", "The packet rules waggle has attached, with their counters");
  auto* xdp_detach = xdp->add_subcommand("detach", "Detach waggle's packet rules from an interface");
  bool xdp_all = false;
  xdp_detach->add_flag("--all", xdp_all, "From every interface, in every network namespace, also those gone");
  auto* xdp_samples = xdp->add_subcommand(
      "samples", "Print the packets sample rules take on an interface, as packet.sample JSON lines");
  uint64_t samples_count = 0;
  double samples_duration = 0;
  std::string samples_pcap;
  xdp_samples->add_option("-n,--count", samples_count, "Stop after this many samples (default: SIGINT)");
  xdp_samples->add_option("-d,--duration", samples_duration, "Stop after this many seconds")->check(CLI::PositiveNumber);
  xdp_samples->add_option("--pcap", samples_pcap, "Also write the samples to this pcap file (tcpdump -r reads it)");
  for (auto* sub : {xdp_apply, xdp_status, xdp_detach, xdp_samples}) {
    auto* opt = sub->add_option("-i,--interface", xdp_cmd.interface,
                                sub == xdp_status ? "Only this interface" : "The interface (never eth0 or lo in tests)");
    if (sub == xdp_apply || sub == xdp_samples) opt->required();
    if (sub == xdp_detach) opt->excludes("--all");
    sub->add_option("--netns", xdp_cmd.netns,
                    "The interface's network namespace: a name under /run/netns (ip netns) or a path");
  }
  xdp_apply->add_option("--mode", xdp_cmd.mode,
                        "native (in the driver), generic (after the kernel made an skb) or auto (native, else "
                        "generic with a notice)")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "native", "generic"}));
  xdp->footer("Rules file format and semantics: docs/xdp.md");

  CLI11_PARSE(app, argc, argv);

  if (xdp_check->parsed()) return waggle::run_xdp_check(xdp_cmd);
  if (xdp_apply->parsed()) return waggle::run_xdp_apply(xdp_cmd);
  if (xdp_status->parsed()) return waggle::run_xdp_status(xdp_cmd);
  if (xdp_samples->parsed()) return waggle::run_xdp_samples(xdp_cmd, samples_count, samples_duration, samples_pcap);
  if (xdp_detach->parsed()) {
    if (!xdp_all && xdp_cmd.interface.empty()) {
      fmt::print(stderr, "waggle: xdp detach: give --interface IF, or --all\n");
      return 2;
    }
    return waggle::run_xdp_detach(xdp_cmd, xdp_all);
  }

  if (profile->parsed()) {
    if (kernel_only_flag) prof.sampler.user_stacks = false;
    if (user_only_flag) prof.sampler.kernel_stacks = false;
    return waggle::run_profile(prof);
  }

  if (doctor->parsed()) {
    if (geteuid() != 0)
      fmt::print(stderr,
                 "waggle: not running as root: most probes will fail with EPERM; run `sudo waggle doctor`\n");
    return waggle::run_doctor();
  }

  if (check->parsed()) return waggle::run_policy_check(check_files);
  if (observe->parsed()) {
    if (!obs_since.empty()) {
      obs.since_s = waggle::parse_duration(obs_since);
      if (!obs.since_s) {
        fmt::print(stderr, "waggle: --since: expected a duration such as 30s, 5m or 1h, got \"{}\"\n", obs_since);
        return 2;
      }
    }
    obs.json = obs_output == "json";
    return waggle::run_observe(obs);
  }
  if (apply->parsed() || remove->parsed() || list->parsed()) {
    std::string request;
    if (apply->parsed()) {
      std::ifstream in(apply_file, std::ios::binary);
      std::stringstream text;
      text << in.rdbuf();
      request = "apply " + std::filesystem::absolute(apply_file).string() + "\n" + text.str();
    } else if (remove->parsed()) {
      request = "delete " + remove_name + "\n";
    } else {
      request = "list\n";
    }
    std::string error;
    auto reply = waggle::control_request(socket_path, request, &error);
    if (!reply) {
      fmt::print(stderr, "waggle: {}\n", error);
      return 1;
    }
    bool ok = reply->rfind("ok\n", 0) == 0;
    std::string text = reply->substr(reply->find('\n') + 1);
    fmt::print(ok ? stdout : stderr, "{}{}", ok ? "" : "waggle: ", text);
    return ok ? 0 : 2;
  }

  waggle::AgentOptions options;
  if (run->parsed()) {
    options.control_socket = control_socket;
    options.policy_dir = policy_dir;
    if (!policy_dir.empty()) {
      std::vector<std::string> found = waggle::policy_files_in(policy_dir);
      policy_files.insert(policy_files.end(), found.begin(), found.end());
    }
    std::string error;
    if (!waggle::load_policies(policy_files, &options.policies, &error)) {
      fmt::print(stderr, "waggle: {}\n", error);
      return 2;
    }
    if (!config_path.empty()) {
      std::string error;
      auto config = waggle::load_config(config_path, &error);
      if (!config) {
        fmt::print(stderr, "waggle: {}\n", error);
        return 2;
      }
      options.config = *config;
    } else {
      // As config/waggle.yaml: watching every open on the host is too much for a default.
      options.config.file_filter.prefix = {"/etc/"};
    }
    run_common.apply(options.config);
    options.shown = {"process.exec", "process.exit", "file.open", "policy.match",
                     "network.tcp",  "http.request", "dns.query", "packet.sample"};
    return finish(options);
  }
  // The trace commands show one kind of event: no network sensor, no metrics endpoint.
  options.config.network_enabled = false;
  options.config.metrics.enabled = false;
  if (exec->parsed()) {
    options.config.file_enabled = false;
    exec_common.apply(options.config);
    options.shown = {"process.exec", "process.exit"};
    options.require_shown_sensors = true;
    return finish(options);
  }
  // trace open: the process sensor runs too, unseen, so that new processes are known.
  open_common.apply(options.config);
  options.config.file_filter = {prefixes, exacts, suffixes};
  options.shown = {"file.open"};
  options.require_shown_sensors = true;
  return finish(options);
}
