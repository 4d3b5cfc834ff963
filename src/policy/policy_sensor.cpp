#include "policy/policy_sensor.hpp"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <cstring>
#include <functional>
#include <thread>

#include "core/bpf_loader.hpp"
#include "core/host.hpp"
#include "core/path_key.hpp"
#include "file_policy.skel.h"
#include "network_policy.skel.h"
#include "policy/compiler.hpp"

namespace waggle {

constexpr const char* kPolicyHooks =
    "tracepoint/syscalls/sys_{enter,exit}_open* (file.open), tp_btf/sched_process_exec (process.exec), "
    "cgroup/connect4,6 and sendmsg4,6 (network.connect), tracepoint/syscalls/sys_exit_accept{,4} and "
    "cgroup_skb/ingress (network.accept)";

SensorPlan plan_policy_sensor(const KernelFeatures& f) {
  SensorPlan plan;
  plan.reason = missing_core_features(f);
  if (!plan.reason.empty()) return plan;  // can_run stays false
  if (!f.tracepoint.ok)
    plan.reason = "needs syscall tracepoints: " + f.tracepoint.detail;
  else if (!f.btf_tracepoint.ok)
    plan.reason = "needs BTF tracepoints: " + f.btf_tracepoint.detail;
  else if (!f.task_storage.ok)
    plan.reason = "needs BTF task pointers (Linux 5.11+): " + f.task_storage.detail;
  else if (!f.send_signal.ok)
    plan.reason = "needs bpf_send_signal to kill: " + f.send_signal.detail;
  else
    plan.hook = kPolicyHooks;
  if (!plan.hook.empty()) plan.syscalls = "sys_{enter,exit}_open*, sys_exit_accept{,4} (while a policy is in force)";
  plan.can_run = plan.reason.empty();
  return plan;
}

namespace {

bool fill_paths(bpf_map* map, const std::map<std::string, uint64_t>& entries, bool with_nul, const char* what,
                std::string* error) {
  for (const auto& [bytes, rules] : entries) {
    if (bytes.size() > path_key_capacity(with_nul)) {
      *error =
          fmt::format("policy: {} \"{}\" is longer than {} bytes", what, bytes, path_key_capacity(with_nul));
      return false;
    }
    wg_path_key key = make_path_key(bytes, with_nul);
    if (bpf_map__update_elem(map, &key, sizeof(key), &rules, sizeof(rules), BPF_ANY) != 0) {
      *error = fmt::format("policy: cannot load {} \"{}\": {}", what, bytes, strerror(errno));
      return false;
    }
  }
  return true;
}

template <typename Key>
bool fill_ids(bpf_map* map, const std::unordered_map<Key, uint64_t>& entries, std::string* error) {
  for (const auto& [id, rules] : entries) {
    if (bpf_map__update_elem(map, &id, sizeof(id), &rules, sizeof(rules), BPF_ANY) != 0) {
      *error = fmt::format("policy: cannot load {}: {}", bpf_map__name(map), strerror(errno));
      return false;
    }
  }
  return true;
}

// The executables of the processes that run already; new ones are tracked by the kernel.
void seed_binaries(bpf_map* map) {
  DIR* proc = opendir("/proc");
  if (!proc) return;
  while (dirent* d = readdir(proc)) {
    char* end = nullptr;
    unsigned long pid = strtoul(d->d_name, &end, 10);
    if (*end != '\0' || pid == 0) continue;
    char exe[PATH_MAX];
    ssize_t n = readlink(fmt::format("/proc/{}/exe", pid).c_str(), exe, sizeof(exe));
    if (n <= 0) continue;  // a kernel thread, or gone
    wg_proc_binary value{};
    value.binary = make_path_key(std::string_view(exe, n), true);
    __u32 key = pid;
    bpf_map__update_elem(map, &key, sizeof(key), &value, sizeof(value),
                         BPF_NOEXIST);  // the kernel's is newer
  }
  closedir(proc);
}

// Argument values, NUL-padded to the key's size, and the rules that list them.
bool fill_args(bpf_map* map, const std::map<std::string, uint64_t>& args, std::string* error) {
  for (const auto& [value, rules] : args) {
    char key[WG_ARG_MAX] = {};
    std::memcpy(key, value.data(), std::min(value.size(), sizeof(key) - 2));
    if (bpf_map__update_elem(map, key, sizeof(key), &rules, sizeof(rules), BPF_ANY) != 0) {
      *error = fmt::format("policy: cannot load argument \"{}\": {}", value, strerror(errno));
      return false;
    }
  }
  return true;
}

// Container ids or prefixes of them, as LPM keys.
bool fill_containers(bpf_map* map, const std::map<std::string, uint64_t>& ids, std::string* error) {
  for (const auto& [id, rules] : ids) {
    wg_container_key key{};
    key.prefixlen = std::min<size_t>(id.size(), sizeof(key.id)) * 8;
    std::memcpy(key.id, id.data(), std::min(id.size(), sizeof(key.id)));
    if (bpf_map__update_elem(map, &key, sizeof(key), &rules, sizeof(rules), BPF_ANY) != 0) {
      *error = fmt::format("policy: cannot load container id \"{}\": {}", id, strerror(errno));
      return false;
    }
  }
  return true;
}

// The maps every policy object has (policy_common.bpf.h), from the same compiled rules.
template <typename Skel>
bool fill_common(Skel* skel, const CompiledPolicies& c, std::string* error) {
  for (uint32_t i = 0; i < c.rules.size(); i++) {
    if (bpf_map__update_elem(skel->maps.rules, &i, sizeof(i), &c.rules[i].kernel, sizeof(wg_rule), BPF_ANY) !=
        0) {
      *error = fmt::format("policy: cannot load rule {}: {}", i, strerror(errno));
      return false;
    }
  }
  return fill_paths(skel->maps.binary_prefix, c.binary_prefix, false, "binary prefix", error) &&
         fill_paths(skel->maps.binary_exact, c.binary_exact, true, "binary", error) &&
         fill_paths(skel->maps.parent_binary_prefix, c.parent_binary_prefix, false, "parent binary prefix",
                    error) &&
         fill_paths(skel->maps.parent_binary_exact, c.parent_binary_exact, true, "parent binary", error) &&
         fill_ids(skel->maps.uid_rules, c.uid, error) && fill_ids(skel->maps.gid_rules, c.gid, error) &&
         fill_ids(skel->maps.cgroup_rules, c.cgroup, error) &&
         fill_containers(skel->maps.container_ids, c.containers, error);
}

// Sets the masks: until then no rule of this object is in force.
template <typename Skel>
bool arm(Skel* skel, const CompiledPolicies& c, std::string* error) {
  __u32 zero = 0;
  if (bpf_map__update_elem(skel->maps.masks, &zero, sizeof(zero), &c.masks, sizeof(c.masks), BPF_ANY) != 0) {
    *error = fmt::format("policy: cannot load the rule masks: {}", strerror(errno));
    return false;
  }
  return true;
}

bool fill_network(network_policy_bpf* skel, const CompiledPolicies& c, std::string* error) {
  for (const auto& [net, rules] : c.dest4) {
    wg_ip4_key key{net.second, {}};
    std::copy(net.first.begin(), net.first.end(), key.addr);
    if (bpf_map__update_elem(skel->maps.dest4, &key, sizeof(key), &rules, sizeof(rules), BPF_ANY) != 0) {
      *error = fmt::format("policy: cannot load an IPv4 destination: {}", strerror(errno));
      return false;
    }
  }
  for (const auto& [net, rules] : c.dest6) {
    wg_ip6_key key{net.second, {}};
    std::copy(net.first.begin(), net.first.end(), key.addr);
    if (bpf_map__update_elem(skel->maps.dest6, &key, sizeof(key), &rules, sizeof(rules), BPF_ANY) != 0) {
      *error = fmt::format("policy: cannot load an IPv6 destination: {}", strerror(errno));
      return false;
    }
  }
  for (const auto& [port, rules] : c.ports) {
    __u32 key = port;
    if (bpf_map__update_elem(skel->maps.port_rules, &key, sizeof(key), &rules, sizeof(rules), BPF_ANY) != 0) {
      *error = fmt::format("policy: cannot load port {}: {}", port, strerror(errno));
      return false;
    }
  }
  return true;
}

// One set of policies in force: its compiled rules and the BPF objects enforcing them.
struct Generation {
  uint32_t id = 0;
  bool retired = false;  // detached: kept only to decode its records still in the ring
  CompiledPolicies compiled;
  file_policy_bpf* file = nullptr;
  network_policy_bpf* network = nullptr;  // only when network rules are in force
  Attachment attachment;
  // Rule i's slot of a per-CPU counter map ("rule_hits", "rate_limited"), summed over the CPUs
  // and over both objects.
  uint64_t counter(const char* map_name, uint32_t i) const {
    int cpus = libbpf_num_possible_cpus();
    std::vector<uint64_t> per_cpu(cpus > 0 ? cpus : 1);
    uint64_t total = 0;
    for (bpf_object* obj : {file ? file->obj : nullptr, network ? network->obj : nullptr}) {
      bpf_map* map = obj ? bpf_object__find_map_by_name(obj, map_name) : nullptr;
      if (!map || bpf_map_lookup_elem(bpf_map__fd(map), &i, per_cpu.data()) != 0) continue;
      for (uint64_t v : per_cpu) total += v;
    }
    return total;
  }
  uint64_t rate_limited() const {
    uint64_t n = 0;
    for (uint32_t i = 0; i < compiled.rules.size(); i++) n += counter("rate_limited", i);
    return n;
  }
  ~Generation() {
    attachment.detach();
    network_policy_bpf__destroy(network);
    file_policy_bpf__destroy(file);
  }
};

template <typename Rodata>
void set_policy_rodata(Rodata* rodata, const SensorEnv& env, uint32_t generation) {
  set_common_rodata(rodata, env);
  rodata->filter_tgid = 0;  // --pid/--comm select what is shown, never what is enforced
  rodata->filter_comm[0] = 0;
  rodata->generation = generation;
}

// Attaches cgroup programs to each of `cgroups` (paths under the cgroup2 mount; "/" the root).
bool attach_cgroups(Generation& g, const std::vector<std::string>& cgroups,
                    std::initializer_list<bpf_program*> progs, const std::string& cgroup2_root,
                    std::string* error) {
  for (const std::string& cgroup : cgroups) {
    std::string dir = cgroup == "/" ? cgroup2_root : cgroup2_root + cgroup;
    int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY);
    if (fd < 0) {
      *error = fmt::format("policy: cannot open cgroup {}: {}", dir, strerror(errno));
      return false;
    }
    for (bpf_program* prog : progs) {
      bpf_link* link = bpf_program__attach_cgroup(prog, fd);
      if (!link) {
        *error = fmt::format("policy: cannot attach {} to cgroup {}: {}", bpf_program__name(prog), dir,
                             strerror(errno));
        close(fd);
        return false;
      }
      g.attachment.add(link);
    }
    close(fd);
  }
  return true;
}

// The network programs: connect and sendmsg on the cgroups of the connect rules, ingress on
// those of the inbound deny rules, the accept exits everywhere.
bool attach_network(Generation& g, const std::string& cgroup2_root, std::string* error) {
  const CompiledPolicies& c = g.compiled;
  auto* p = &g.network->progs;
  if (c.masks.connect_rules &&
      !attach_cgroups(g, c.connect_cgroups,
                      {p->wg_pol_conn4, p->wg_pol_conn6, p->wg_pol_send4, p->wg_pol_send6}, cgroup2_root,
                      error))
    return false;
  if (c.masks.ingress_rules &&
      !attach_cgroups(g, c.ingress_cgroups, {p->wg_pol_ingress}, cgroup2_root, error))
    return false;
  if (!c.masks.accept_rules) return true;
  for (bpf_program* prog : {p->wg_pol_accept, p->wg_pol_accept4}) {
    if (!bpf_program__autoload(prog)) continue;
    bpf_link* link = bpf_program__attach(prog);
    if (!link) {
      *error = fmt::format("policy: cannot attach {}: {}", bpf_program__name(prog), strerror(errno));
      return false;
    }
    g.attachment.add(link);
  }
  return true;
}

// The slow half of putting a policy set in force: opening, verifying and filling its objects.
// Touches nothing but `g`, so it runs on a worker thread while the agent keeps draining.
bool prepare_generation(Generation& gen, const SensorEnv& env, std::string* error) {
  Generation* g = &gen;
  const CompiledPolicies& c = g->compiled;
  g->file = file_policy_bpf__open();
  if (!g->file) {
    *error = std::string("policy: cannot open its BPF object: ") + strerror(errno);
    return false;
  }
  file_policy_bpf* skel = g->file;
  set_policy_rodata(skel->rodata, env, g->id);
  // Programs on the opens only when a rule needs them: they put every syscall of the host on the
  // kernel's tracing path. (Rules are judged at the entry, even where the exits could read the
  // call's arguments: by the exit the new fd is in the process's table, where another thread
  // could use it before the kill lands, and the path in user memory could have been changed
  // since the kernel read it.)
  const bool open_rules = c.masks.file_open_rules != 0;
  struct Pair {
    bpf_program* enter;
    bpf_program* exit;
    const char* syscall;
  };
  for (const Pair& p : {Pair{skel->progs.wg_pol_open, skel->progs.wg_polx_open, "open"},
                        Pair{skel->progs.wg_pol_creat, skel->progs.wg_polx_creat, "creat"},
                        Pair{skel->progs.wg_pol_openat, skel->progs.wg_polx_openat, "openat"},
                        Pair{skel->progs.wg_pol_openat2, skel->progs.wg_polx_openat2, "openat2"}}) {
    bool present = tracepoint_exists(env.tracefs, "syscalls", std::string("sys_enter_") + p.syscall) &&
                   tracepoint_exists(env.tracefs, "syscalls", std::string("sys_exit_") + p.syscall);
    bpf_program__set_autoload(p.enter, present && open_rules);
    bpf_program__set_autoload(p.exit, present && open_rules);
  }
  if (!share_ring_maps(skel->obj, *env.ring, error) || !load_object(skel->obj, "policy", error) ||
      !fill_common(skel, c, error) ||
      !fill_paths(skel->maps.path_prefix, c.path_prefix, false, "path prefix", error) ||
      !fill_paths(skel->maps.path_exact, c.path_exact, true, "exact path", error) ||
      !fill_paths(skel->maps.path_suffix, c.path_suffix_reversed, false, "path suffix", error) ||
      !fill_args(skel->maps.args_rules, c.args, error))
    return false;
  if (!(c.masks.connect_rules | c.masks.accept_rules | c.masks.ingress_rules)) return true;
  g->network = network_policy_bpf__open();
  if (!g->network) {
    *error = std::string("policy: cannot open the network object: ") + strerror(errno);
    return false;
  }
  network_policy_bpf* net = g->network;
  set_policy_rodata(net->rodata, env, g->id);
  // Only the programs some rule needs are verified.
  for (bpf_program* prog :
       {net->progs.wg_pol_conn4, net->progs.wg_pol_conn6, net->progs.wg_pol_send4, net->progs.wg_pol_send6})
    bpf_program__set_autoload(prog, c.masks.connect_rules != 0);
  bpf_program__set_autoload(net->progs.wg_pol_ingress, c.masks.ingress_rules != 0);
  bpf_program__set_autoload(
      net->progs.wg_pol_accept,
      c.masks.accept_rules && tracepoint_exists(env.tracefs, "syscalls", "sys_exit_accept"));
  bpf_program__set_autoload(net->progs.wg_pol_accept4, c.masks.accept_rules != 0);
  // One table of executables, kept by the file object's exec/fork/exit programs.
  if (bpf_map__reuse_fd(net->maps.proc_binary, bpf_map__fd(skel->maps.proc_binary)) != 0) {
    *error = "policy: cannot share the executables map with the network object";
    return false;
  }
  return share_ring_maps(net->obj, *env.ring, error) && load_object(net->obj, "policy (network)", error) &&
         fill_common(net, c, error) && fill_network(net, c, error);
}

// The quick half, on the agent's thread: attach and arm. On failure nothing stays attached.
bool start_generation(Generation& g, std::string* error) {
  const CompiledPolicies& c = g.compiled;
  // The process tracking programs first: from then on no process starts unseen. Then the
  // exits, before the entries: an open deferred at its entry always has its exit seen.
  if (!g.attachment.attach_all(g.file->obj, "policy", error, [](const bpf_program* prog) {
        std::string_view section = bpf_program__section_name(prog);
        return section.starts_with("tp_btf/") || section.find("/sys_exit_") != std::string_view::npos;
      }))
    return false;
  seed_binaries(g.file->maps.proc_binary);
  if (g.network && (!arm(g.network, c, error) || !attach_network(g, cgroup2_mount(), error))) {
    g.attachment.detach();
    return false;
  }
  // The file rules last: until their masks are set, none is in force, so no process is judged
  // before its executable is known.
  if (!arm(g.file, c, error)) {
    g.attachment.detach();
    return false;
  }
  return true;
}

// Runs `work` on a thread of lower priority and calls `between` (which drains the ring) until
// it is done: applying policies during a storm of events must not overflow the ring.
void run_aside(const std::function<void()>& work, const std::function<void()>& between) {
  std::atomic<bool> done{false};
  std::thread worker([&] {
    setpriority(PRIO_PROCESS, gettid(), 10);  // draining the ring comes first
    work();
    done = true;
  });
  while (!done) {
    between();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  worker.join();
}

class PolicySensor final : public Sensor {
 public:
  explicit PolicySensor(const SensorEnv& env) : env_(env), cache_(*env.cache) {}

  bool install(const std::vector<Policy>& policies, const std::function<void()>& between,
               std::string* error) {
    uint32_t id = 0;
    if (!policies.empty()) {
      auto compiled = compile_policies(policies, cgroup2_mount(), error);
      if (!compiled) return false;
      auto next = std::make_unique<Generation>();
      id = next->id = next_id_++;
      next->compiled = std::move(*compiled);
      // The verifier takes a while: do it aside, and keep draining the ring meanwhile.
      bool ok = false;
      run_aside([&] { ok = prepare_generation(*next, env_, error); }, between);
      if (!ok) return false;
      // Known before it is attached: its first records may be decoded at once.
      Generation& g = *(generations_[id] = std::move(next));
      if (!start_generation(g, error)) {
        generations_.erase(id);
        return false;
      }
    }
    // The new set is attached: only now does the old one stop, so no event falls between.
    // Detaching waits for the kernel (RCU grace periods): aside too.
    std::vector<Generation*> old;
    for (auto& [other, g] : generations_) {
      if (other == id || g->retired) continue;
      g->retired = true;
      old.push_back(g.get());
    }
    run_aside(
        [&] {
          for (Generation* g : old) g->attachment.detach();
        },
        between);
    return true;
  }

  // How often each rule of the set in force has matched ("policy/rule", count).
  std::vector<std::pair<std::string, uint64_t>> hits() const {
    std::vector<std::pair<std::string, uint64_t>> out;
    for (const auto& [id, g] : generations_) {
      if (g->retired) continue;
      for (uint32_t i = 0; i < g->compiled.rules.size(); i++)
        out.emplace_back(g->compiled.rules[i].policy + "/" + g->compiled.rules[i].rule,
                         g->counter("rule_hits", i));
    }
    return out;
  }

  // Frees the detached sets, once their records in the ring have been decoded.
  void release_detached() {
    for (auto it = generations_.begin(); it != generations_.end();) {
      if (it->second->retired) {
        rate_limited_before_ += it->second->rate_limited();
        it = generations_.erase(it);
      } else {
        ++it;
      }
    }
  }

  std::string_view name() const override { return "policy"; }
  std::string_view hook() const override { return kPolicyHooks; }
  bool handles(uint16_t type) const override {
    return type == WG_REC_POLICY_OPEN || type == WG_REC_POLICY_CONNECT || type == WG_REC_POLICY_EXEC;
  }
  // Events the rate limits of log rules held back in the kernel.
  uint64_t rate_limited() const override {
    uint64_t n = rate_limited_before_;
    for (const auto& [id, g] : generations_) n += g->rate_limited();
    return n;
  }
  void detach() override {
    for (auto& [id, g] : generations_) g->attachment.detach();
  }
  void program_stats(std::vector<ProgramStats>* out) const override {
    for (const auto& [id, g] : generations_) g->attachment.program_stats(out);
  }

  void decode(const wg_header& h, const void* record, size_t size, const EventCallback& emit) override {
    if (h.type == WG_REC_POLICY_CONNECT) {
      if (size >= sizeof(wg_policy_connect))
        decode_connect(*static_cast<const wg_policy_connect*>(record), emit);
      return;
    }
    if (h.type == WG_REC_POLICY_EXEC) {
      const auto& rec = *static_cast<const wg_policy_exec*>(record);
      if (size < sizeof(wg_policy_exec) || sizeof(wg_policy_exec) + size_t(rec.binary_len) > size) return;
      const CompiledRule* rule = rule_of(rec.generation, rec.rule);
      if (!rule) return;
      PolicyEvent event = event_for(h, rec.generation, rec.rule, rec.outcome, rec.matched);
      event.kind = PolicyEvent::Kind::kExec;
      event.path.assign(rec.data, rec.binary_len);
      event.path_truncated = h.flags & WG_F_BINARY_TRUNC;
      emit(Event{std::move(event)});
      return;
    }
    if (size < sizeof(wg_policy_open)) return;
    const auto& rec = *static_cast<const wg_policy_open*>(record);
    if (sizeof(wg_policy_open) + size_t(rec.path_len) + rec.resolved_len > size) return;
    const CompiledRule* rule = rule_of(rec.generation, rec.rule);
    if (!rule) return;
    PolicyEvent event = event_for(h, rec.generation, rec.rule, rec.outcome, rec.matched);
    event.syscall = static_cast<OpenSyscall>(std::min<uint32_t>(rec.syscall, WG_SYS_CREAT));
    event.given_path.assign(rec.data, rec.path_len);
    event.path = rec.resolved_len ? std::string(rec.data + rec.path_len, rec.resolved_len) : event.given_path;
    event.path_truncated = h.flags & (WG_F_PATH_TRUNC | WG_F_RESOLVED_TRUNC);
    event.flags = rec.flags;
    emit(Event{std::move(event)});
  }

 private:
  const CompiledRule* rule_of(uint32_t generation, uint32_t index) const {
    auto it = generations_.find(generation);
    if (it == generations_.end() || index >= it->second->compiled.rules.size()) return nullptr;
    return &it->second->compiled.rules[index];
  }

  PolicyEvent event_for(const wg_header& h, uint32_t generation, uint32_t index, uint32_t outcome,
                        uint64_t matched) {
    const auto& rules = generations_.at(generation)->compiled.rules;
    const CompiledRule& rule = rules[index];
    PolicyEvent event;
    event.time_ns = cache_.host().wall_ns(h.ktime);
    event.tid = h.tid;
    if (h.pid != 0) event.process = process_of(cache_, h);  // 0: no process acted
    event.policy = rule.policy;
    event.rule = rule.rule;
    event.action = rule.action;
    event.outcome = static_cast<PolicyOutcome>(std::min<uint32_t>(outcome, WG_OUTCOME_WOULD_DENY));
    for (size_t i = 0; i < rules.size(); i++) {
      if (i != index && (matched >> i) & 1)
        event.also_matched.push_back(rules[i].policy + "/" + rules[i].rule);
    }
    return event;
  }

  void decode_connect(const wg_policy_connect& rec, const EventCallback& emit) {
    const CompiledRule* rule = rule_of(rec.generation, rec.rule);
    if (!rule) return;
    PolicyEvent event = event_for(rec.h, rec.generation, rec.rule, rec.outcome, rec.matched);
    event.kind = rec.inbound ? PolicyEvent::Kind::kAccept : PolicyEvent::Kind::kConnect;
    event.peer_port = rec.peer_port;
    char text[INET6_ADDRSTRLEN] = {};
    inet_ntop(rec.family == AF_INET6 ? AF_INET6 : AF_INET, rec.addr, text, sizeof(text));
    event.address = text;
    event.port = rec.port;
    event.protocol = rec.type == SOCK_DGRAM ? "udp" : "tcp";
    emit(Event{std::move(event)});
  }

  SensorEnv env_;
  ProcessCache& cache_;
  std::map<uint32_t, std::unique_ptr<Generation>> generations_;
  uint32_t next_id_ = 1;
  uint64_t rate_limited_before_ = 0;  // of the sets already freed
};

}  // namespace

std::unique_ptr<Sensor> open_policy_sensor(const SensorEnv& env, const std::vector<Policy>& policies,
                                           std::string* error) {
  SensorPlan plan = plan_policy_sensor(*env.features);
  if (!plan.can_run) {
    *error = "policies cannot be enforced: " + plan.reason;
    return nullptr;
  }
  auto sensor = std::make_unique<PolicySensor>(env);
  if (!sensor->install(
          policies, [] {}, error))
    return nullptr;
  return sensor;
}

bool replace_policies(Sensor& sensor, const std::vector<Policy>& policies,
                      const std::function<void()>& between, std::string* error) {
  return static_cast<PolicySensor&>(sensor).install(policies, between, error);
}

void release_replaced_policies(Sensor& sensor) { static_cast<PolicySensor&>(sensor).release_detached(); }

std::vector<std::pair<std::string, uint64_t>> policy_rule_hits(const Sensor& enforcer) {
  return static_cast<const PolicySensor&>(enforcer).hits();
}

}  // namespace waggle
