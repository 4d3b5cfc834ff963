#include "sensors/network/network_sensor.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fmt/format.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "core/bpf_loader.hpp"
#include "core/net_address.hpp"
#include "network.skel.h"
#include "protocols/trace_context.hpp"
#include "sensors/network/dns_tracker.hpp"
#include "sensors/network/http_tallies.hpp"
#include "sensors/network/http_tracker.hpp"

namespace waggle {

SensorPlan plan_network_sensor(const KernelFeatures& f) {
  SensorPlan plan;
  plan.reason = missing_core_features(f);
  if (!plan.reason.empty()) return plan;
  if (!f.tracefs.ok)
    plan.reason = "needs tracefs: " + f.tracefs.detail;
  else if (!f.tracepoint.ok)
    plan.reason = "needs syscall tracepoints: " + f.tracepoint.detail;
  else if (!f.raw_tracepoint.ok)
    plan.reason = "needs raw tracepoints (sock:inet_sock_set_state): " + f.raw_tracepoint.detail;
  else if (f.syscall_args_at_exit.ok && f.socket_tracepoints.ok && f.task_storage.ok) {
    plan.hook =
        "raw_tracepoint/sock/inet_sock_set_state, tp_btf/sock_{send,recv}_length (socket data), "
        "tracepoint/syscalls (accept, sendmmsg, recvmmsg, sendfile; recvfrom and recvmsg exits for unconnected UDP)";
    plan.syscalls = "sys_exit_{accept,accept4,recvmmsg,sendmmsg,sendfile64,recvfrom,recvmsg}";
  } else {
    plan.hook =
        "raw_tracepoint/sock/inet_sock_set_state, tracepoint/syscalls (accept, read, write, send, recv)";
    plan.syscalls = std::string(f.syscall_args_at_exit.ok ? "sys_exit_" : "sys_{enter,exit}_") +
                    "{accept,accept4,read,write,readv,writev,recvfrom,sendto,recvmsg,sendmsg,recvmmsg,sendmmsg,"
                    "sendfile64}";
  }
  // Whatever the hooks: the configuration chooses (`waggle run` says which it took).
  if (plan.reason.empty())
    plan.hook += "; HTTP/1.x parsed in the kernel, one record per exchange, or counted there with "
                 "sensors.network.http_events: none (http_parsing: user parses it in user space)";
  plan.can_run = plan.reason.empty();
  return plan;
}

namespace {

Endpoint endpoint(uint16_t family, const uint8_t* addr, uint16_t port) {
  return {format_ip(family, addr), port};
}

class NetworkSensor final : public Sensor {
 public:
  NetworkSensor(const SensorEnv& env, network_bpf* skel)
      : cache_(*env.cache), config_(env.config->network), skel_(skel), http_(config_.routes, config_.http_events_every) {}
  ~NetworkSensor() override {
    attachment_.detach();
    network_bpf__destroy(skel_);
  }

  // Exits before entries: every entry that is remembered has its exit seen.
  bool attach(std::string* error) {
    return attachment_.attach_all(skel_->obj, "network", error, [](const bpf_program* prog) {
      return std::string_view(bpf_program__name(prog)).starts_with("wg_exit_");
    });
  }
  void set_hook(std::string hook) { hook_ = std::move(hook); }
  // Once loaded, when the kernel tallies exchanges rather than posting them.
  void read_tallies() {
    tallies_.emplace(
        bpf_map__fd(skel_->maps.http_tallies), bpf_map__fd(skel_->maps.http_tally_names),
        [this](const wg_http_tally_key& key, const wg_http_tally_name& name, HttpEvent* e) {
          return describe_tally(key, name, e);
        },
        [this](uint32_t pid, uint64_t start) { return cache_.gone(pid, start); });
  }
  void tick(const EventCallback& emit) override {
    if (!tallies_) return;
    tallies_->read(boottime_now_ns(), &http_events_);
    for (const Event& event : http_events_)
      if (const auto& e = std::get<HttpEvent>(event); e.tally && e.route == protocols::RouteLimiter::kOverflowRoute)
        http_.add_overflowed(e.tally->count);
    flush(emit);
  }

  std::string_view name() const override { return "network"; }
  std::string_view hook() const override { return hook_; }
  bool handles(uint16_t type) const override {
    return type == WG_REC_TCP || type == WG_REC_SOCK_DATA || type == WG_REC_HTTP_EXCHANGE;
  }
  void detach() override { attachment_.detach(); }
  // A lost record may have been a piece of some HTTP message: every parser starts over (each
  // waits for the next request line), and queries waiting for an answer are forgotten.
  void counters(std::vector<Counter>* out) const override {
    const auto kernel = kernel_http_counts();
    out->push_back({"waggle_http_connections_abandoned_total",
                    "HTTP connections given up because their bytes could not be parsed exactly.",
                    http_.abandoned() + kernel[WG_HTTP_COUNT_GAVE_UP]});
    out->push_back({"waggle_http_exchanges_kernel_total",
                    "HTTP exchanges parsed in the kernel and posted whole.", kernel[WG_HTTP_COUNT_EXCHANGES]});
    out->push_back({"waggle_http_exchanges_tallied_total",
                    "HTTP exchanges parsed and counted in the kernel, not posted (sensors.network.http_events: none).",
                    kernel[WG_HTTP_COUNT_TALLIED]});
    out->push_back({"waggle_http_tallies_full_total",
                    "HTTP exchanges posted whole because the kernel's table of tallies was full.",
                    kernel[WG_HTTP_COUNT_UNTALLIED]});
    out->push_back({"waggle_http_tallies_removed_total",
                    "HTTP tallies the kernel kept that were read a last time and removed (their process gone, or "
                    "idle for a minute while the table was three quarters full).",
                    tallies_ ? tallies_->removed() : 0});
    out->push_back({"waggle_http_tallies_unnamed_total",
                    "HTTP tallies removed without a name, their exchanges not counted (a race as the table filled).",
                    tallies_ ? tallies_->unnamed() : 0});
    out->push_back({"waggle_http_tally_reads_failed_total",
                    "Reads of the kernel's HTTP tallies that failed (tried again a second later; nothing is lost).",
                    tallies_ ? tallies_->read_failures() : 0});
    out->push_back({"waggle_http_connections_captured_total",
                    "Times the kernel handed an HTTP connection to user space's parser (at a request it does not "
                    "take, or with a request whose response it cannot delimit, or its state table full).",
                    kernel[WG_HTTP_COUNT_CAPTURED] + kernel[WG_HTTP_COUNT_HANDOFFS] + kernel[WG_HTTP_COUNT_NO_STATE]});
    out->push_back({"waggle_http_connections_returned_total",
                    "Times the kernel took an HTTP connection back from user space's parser, between two exchanges.",
                    kernel[WG_HTTP_COUNT_RETURNED]});
    out->push_back({"waggle_http_connections_quieted_total",
                    "HTTP connections the kernel stopped posting once user space's parser was done with them (given "
                    "up, or upgraded to another protocol).",
                    kernel[WG_HTTP_COUNT_QUIETED]});
    out->push_back({"waggle_http_connections_evicted_total",
                    "HTTP connections dropped to stay within the parser's connection limit.",
                    http_.evicted()});
    out->push_back({"waggle_http_connections_reset_total",
                    "HTTP connections whose parser started over after records were lost.", http_.resets()});
    out->push_back({"waggle_http_routes_overflowed_total",
                    "Requests reported as route /{other}: their service had too many routes.",
                    http_.routes_overflowed()});
    out->push_back(
        {"waggle_dns_messages_malformed_total", "DNS payloads that could not be decoded.", dns_.malformed()});
    out->push_back({"waggle_dns_queries_unanswered_total", "DNS queries reported without an answer.",
                    dns_.unanswered()});
  }
  void on_records_lost() override {
    http_.reset();
    dns_.reset();
  }
  void program_stats(std::vector<ProgramStats>* out) const override { attachment_.program_stats(out); }

  void decode(const wg_header& h, const void* record, size_t size, const EventCallback& emit) override {
    uint64_t now = cache_.host().wall_ns(h.ktime);
    if (h.type == WG_REC_TCP && size >= sizeof(wg_tcp))
      decode_tcp(*static_cast<const wg_tcp*>(record), now, emit);
    else if (h.type == WG_REC_SOCK_DATA && size >= sizeof(wg_sock_data))
      decode_data(*static_cast<const wg_sock_data*>(record), size, now, emit);
    else if (h.type == WG_REC_HTTP_EXCHANGE && size >= WG_HTTP_EXCHANGE_SHORT)
      decode_exchange(*static_cast<const wg_http_exchange*>(record), size, emit);
    if (now > last_expire_ + 1'000'000'000) {
      last_expire_ = now;
      dns_.expire(now, &dns_events_);
      flush(emit);
    }
  }

 private:
  // Processes outside the configured binaries and containers are not reported.
  bool selected(const ProcessRef& p) const {
    if (!config_.binaries.empty() &&
        std::find(config_.binaries.begin(), config_.binaries.end(), p->binary) == config_.binaries.end())
      return false;
    if (!config_.containers.empty() &&
        std::none_of(config_.containers.begin(), config_.containers.end(),
                     [&](const std::string& id) { return p->container_id.starts_with(id); }))
      return false;
    return true;
  }

  void decode_tcp(const wg_tcp& rec, uint64_t now, const EventCallback& emit) {
    if (rec.what & WG_TCP_RELEASED) {  // nothing more can be read: a close-delimited response ends
      // An offer to give it back, made after the kernel released it, goes now (its socket's
      // address may serve another connection).
      if (http_.offered(rec.sk) && skel_->rodata->parse_http)
        bpf_map__delete_elem(skel_->maps.http_resume, &rec.sk, sizeof(rec.sk), 0);
      http_.on_close(rec.sk, now, &http_events_);
      dns_.on_close(rec.sk);
      flush(emit);
    }
    if (!(rec.what & WG_TCP_ENDED) || rec.direction == WG_TCP_UNKNOWN || !config_.tcp) return;
    TcpEvent e;
    e.time_ns = now;
    if (rec.h.pid != 0) {
      e.process = process_of(cache_, rec.h);
      if (!selected(e.process)) return;
    } else if (!config_.binaries.empty() || !config_.containers.empty()) {
      return;  // no process accepted it: it cannot be one of the selected
    }
    e.direction = rec.direction == WG_TCP_CONNECTED ? TcpDirection::kConnected : TcpDirection::kAccepted;
    e.end = static_cast<TcpEnd>(std::min<uint8_t>(rec.end, WG_TCP_FAILED));
    e.local = endpoint(rec.family, rec.local_addr, rec.local_port);
    e.remote = endpoint(rec.family, rec.remote_addr, rec.remote_port);
    e.bytes_sent = rec.bytes_sent;
    e.bytes_received = rec.bytes_received;
    e.retransmits = rec.retransmits;
    if (rec.start_ktime && rec.h.ktime > rec.start_ktime) e.duration_ns = rec.h.ktime - rec.start_ktime;
    emit(Event{std::move(e)});
  }

  void decode_data(const wg_sock_data& rec, size_t size, uint64_t now, const EventCallback& emit) {
    if (sizeof(wg_sock_data) + size_t(rec.head_len) + rec.tail_len > size) return;
    ProcessRef process = process_of(cache_, rec.h);
    if (!selected(process)) return;
    std::string_view head(rec.data, rec.head_len), tail(rec.data + rec.head_len, rec.tail_len);
    bool egress = rec.direction == WG_DATA_EGRESS;
    if (rec.protocol == WG_L7_HTTP) {
      protocols::Chunk chunk{egress ? protocols::Direction::kEgress : protocols::Direction::kIngress, now,
                             rec.size, head, tail};
      http_.on_chunk(
          rec.sk, chunk, process,
          [&rec](Endpoint* local, Endpoint* remote) {
            *local = endpoint(rec.family, rec.local_addr, rec.local_port);
            *remote = endpoint(rec.family, rec.remote_addr, rec.remote_port);
          },
          &http_events_);
      // Between exchanges after this call: the kernel may parse the connection again; or done
      // with it: the kernel may stop posting it (if the update fails, the connection stays
      // here: exact, only costlier).
      if (skel_->rodata->parse_http) {
        const HttpTracker::KernelOffer offer = http_.offer(rec.sk);
        uint32_t value = 0;
        if (offer.quiet)
          value = WG_HTTP_QUIET;
        else if (rec.seq && offer.give_back != http::Role::kUnknown)
          value = rec.seq | uint32_t(offer.give_back == http::Role::kServer ? WG_HTTP_SERVER : WG_HTTP_CLIENT)
                                << WG_HTTP_ROLE_SHIFT;
        if (value)
          bpf_map__update_elem(skel_->maps.http_resume, &rec.sk, sizeof(rec.sk), &value, sizeof(value), BPF_ANY);
      }
    } else if (rec.protocol == WG_L7_DNS) {
      dns_.on_payload(rec.sk, egress, rec.ip_protocol == IPPROTO_TCP, head, head.size() == rec.size, now,
                      process, endpoint(rec.family, rec.remote_addr, rec.remote_port), &dns_events_);
    }
    flush(emit);
  }

  // The kernel's HTTP counters, summed over CPUs (zeros when it does not parse HTTP).
  std::array<uint64_t, WG_HTTP_COUNTS> kernel_http_counts() const {
    std::array<uint64_t, WG_HTTP_COUNTS> sums{};
    if (!skel_->rodata->parse_http) return sums;
    const int cpus = libbpf_num_possible_cpus();
    if (cpus <= 0) return sums;
    std::vector<uint64_t> per_cpu(size_t(cpus), 0);
    for (uint32_t i = 0; i < WG_HTTP_COUNTS; i++) {
      if (bpf_map__lookup_elem(skel_->maps.http_counts, &i, sizeof(i), per_cpu.data(),
                               per_cpu.size() * sizeof(uint64_t), 0) != 0)
        continue;
      for (uint64_t v : per_cpu) sums[i] += v;
    }
    return sums;
  }

  // `size`: the record's bytes; a short record (WG_HTTP_TARGET_SHORT) ends within its target.
  void decode_exchange(const wg_http_exchange& rec, size_t size, const EventCallback& emit) {
    const auto& kMethods = http::standard_methods();
    const bool whole = size >= sizeof(wg_http_exchange);
    if (rec.method >= kMethods.size() || rec.target_len > (whole ? WG_HTTP_TARGET_MAX : WG_HTTP_TARGET_SHORT) ||
        rec.trace_len > (whole ? sizeof(rec.trace) : 0))
      return;
    ProcessRef process = process_of(cache_, rec.h);
    if (!selected(process)) return;
    const HostInfo& host = cache_.host();
    http::Exchange x;
    x.role = rec.role == WG_HTTP_SERVER ? http::Role::kServer : http::Role::kClient;
    x.method = kMethods[rec.method];
    x.target.assign(rec.target, rec.target_len);
    x.status = rec.status;
    x.start_ns = host.wall_ns(rec.start_ktime);
    x.end_ns = rec.handoff ? 0 : host.wall_ns(rec.end_ktime);
    x.request_bytes = rec.request_bytes;
    x.response_bytes = rec.response_bytes;
    if (rec.trace_len) x.trace = parse_traceparent(std::string_view(rec.trace, rec.trace_len));
    http_.on_exchange(
        rec.sk, std::move(x), rec.handoff, process,
        [&rec](Endpoint* local, Endpoint* remote) {
          *local = endpoint(rec.family, rec.local_addr, rec.local_port);
          *remote = endpoint(rec.family, rec.remote_addr, rec.remote_port);
        },
        &http_events_);
    flush(emit);
  }

  // A tally's labels, as decode_exchange would give its exchanges'.
  bool describe_tally(const wg_http_tally_key& key, const wg_http_tally_name& name, HttpEvent* e) {
    const auto& kMethods = http::standard_methods();
    if (key.method >= kMethods.size() || key.target_len > WG_HTTP_TARGET_MAX) return false;
    e->process = process_of(cache_, name.h);
    if (!selected(e->process)) return false;
    e->server = key.role == WG_HTTP_SERVER;
    e->method = kMethods[key.method];
    e->route = http_.route_name(e->process, std::string_view(name.target, key.target_len));
    e->status = key.status;
    if (!e->server) e->remote = endpoint(key.family, key.remote_addr, key.remote_port);
    return true;
  }

  void flush(const EventCallback& emit) {
    for (const Event& e : http_events_) emit(e);
    http_events_.clear();
    if (!config_.dns) dns_events_.clear();
    for (DnsEvent& e : dns_events_) emit(Event{std::move(e)});
    dns_events_.clear();
  }

  ProcessCache& cache_;
  const NetworkConfig& config_;
  network_bpf* skel_;
  std::string hook_;
  Attachment attachment_;
  HttpTracker http_;
  DnsTracker dns_;
  std::optional<HttpTallies> tallies_;
  std::vector<Event> http_events_;  // http.request events, made in place by the tracker
  std::vector<DnsEvent> dns_events_;
  uint64_t last_expire_ = 0;
};

}  // namespace

std::unique_ptr<Sensor> open_network_sensor(const SensorEnv& env, std::string* error) {
  SensorPlan plan = plan_network_sensor(*env.features);
  if (!plan.can_run) {
    *error = "network sensor disabled: " + plan.reason;
    return nullptr;
  }
  network_bpf* skel = network_bpf__open();
  if (!skel) {
    *error = std::string("network sensor: cannot open its BPF object: ") + strerror(errno);
    return nullptr;
  }
  auto sensor = std::make_unique<NetworkSensor>(env, skel);
  set_common_rodata(skel->rodata, env);
  const NetworkConfig& config = env.config->network;
  skel->rodata->track_tcp = config.tcp;
  skel->rodata->capture_http = config.http;
  skel->rodata->capture_dns = config.dns;
  skel->rodata->parse_http = config.http && config.http_in_kernel;
  // Without events, the kernel counts exchanges itself (each into the bucket the metrics would
  // put it in).
  skel->rodata->tally_http = skel->rodata->parse_http && config.http_events_every == 0;
  static_assert(kHttpDurationBounds.size() == WG_HTTP_BOUNDS);
  for (size_t i = 0; i < WG_HTTP_BOUNDS; i++) skel->rodata->http_bound_ns[i] = http_bound_ns(kHttpDurationBounds[i]);
  bpf_map__set_autocreate(skel->maps.http_tallies, skel->rodata->tally_http);
  bpf_map__set_autocreate(skel->maps.http_tally_names, skel->rodata->tally_http);
  skel->rodata->has_ports = !config.ports.empty();
  // The exits read a call's arguments from the saved registers where the kernel allows it (no
  // entry programs); otherwise the entries keep calls in flight with their thread where the
  // kernel allows that (cheaper than a hash).
  const bool args_at_exit = env.features->syscall_args_at_exit.ok;
  // Socket data from the socket layer's tracepoints where the kernel has them (only sockets
  // pay); the syscalls of several messages a call, and accepts, stay on their exits, and an
  // unconnected UDP socket's reads are posted at their exits (task storage keeps them).
  const bool socket_tracepoints =
      args_at_exit && env.features->socket_tracepoints.ok && env.features->task_storage.ok;
  const bool task_storage = (socket_tracepoints || !args_at_exit) && env.features->task_storage.ok;
  skel->rodata->args_at_exit = args_at_exit;
  skel->rodata->use_task_storage = task_storage;
  bpf_map__set_autocreate(skel->maps.pending_task, task_storage);
  bpf_map__set_autocreate(skel->maps.pending_io, !args_at_exit && !task_storage);
  bpf_program__set_autoload(skel->progs.wg_late_recvfrom, socket_tracepoints);
  bpf_program__set_autoload(skel->progs.wg_late_recvmsg, socket_tracepoints);

  bpf_program__set_autoload(skel->progs.wg_sock_send, socket_tracepoints);
  bpf_program__set_autoload(skel->progs.wg_sock_recv, socket_tracepoints);
  auto on_exits = [socket_tracepoints](const std::string& syscall) {
    return !socket_tracepoints || syscall.starts_with("accept") || syscall.ends_with("mmsg") ||
           syscall == "sendfile64";
  };
  // Each syscall is traced where this kernel has its tracepoints.
  std::vector<std::string> hooked;
  bpf_program* prog;
  bpf_object__for_each_program(prog, skel->obj) {
    std::string_view name = bpf_program__name(prog);
    for (std::string_view kind : {"wg_enter_", "wg_exit_"}) {
      if (!name.starts_with(kind)) continue;
      std::string syscall(name.substr(kind.size()));
      std::string tp = std::string(kind == "wg_enter_" ? "sys_enter_" : "sys_exit_") + syscall;
      bool present = on_exits(syscall) && tracepoint_exists(env.tracefs, "syscalls", tp);
      bpf_program__set_autoload(prog, present && !(args_at_exit && kind == "wg_enter_"));
      if (present && kind == "wg_exit_") hooked.push_back(syscall);
    }
  }
  std::sort(hooked.begin(), hooked.end());
  std::string joined;
  for (const auto& s : hooked) joined += (joined.empty() ? "" : ",") + s;
  sensor->set_hook(
      fmt::format("raw_tracepoint/sock/inet_sock_set_state,tcp/tcp_{{send,receive}}_reset; {}"
                  "tracepoint/syscalls/sys_{}_{{{}}}",
                  socket_tracepoints ? "tp_btf/sock_{send,recv}_length; tracepoint/syscalls/sys_exit_{recvfrom,recvmsg} "
                                       "(unconnected UDP); "
                                     : "",
                  args_at_exit ? "exit" : "{enter,exit}", joined) +
      (skel->rodata->tally_http   ? "; HTTP parsed and counted in the kernel"
       : skel->rodata->parse_http ? "; HTTP parsed in the kernel"
       : config.http              ? "; HTTP parsed in user space"
                                  : ""));

  if (!share_ring_maps(skel->obj, *env.ring, error) || !load_object(skel->obj, "network", error))
    return nullptr;
  // Every exit posts through one shared program (see network.bpf.c: verified once, not per call).
  uint32_t slot = 0;
  int emit_fd = bpf_program__fd(skel->progs.wg_post_io);
  if (bpf_map__update_elem(skel->maps.emitters, &slot, sizeof(slot), &emit_fd, sizeof(emit_fd), BPF_ANY) !=
      0) {
    *error = fmt::format("network sensor: cannot install its emitter program: {}", strerror(errno));
    return nullptr;
  }
  for (uint16_t port : config.ports) {
    uint8_t one = 1;
    if (bpf_map__update_elem(skel->maps.ports, &port, sizeof(port), &one, sizeof(one), BPF_ANY) != 0) {
      *error = fmt::format("network sensor: cannot load port {}: {}", port, strerror(errno));
      return nullptr;
    }
  }
  if (skel->rodata->tally_http) sensor->read_tallies();
  if (!sensor->attach(error)) return nullptr;
  return sensor;
}

}  // namespace waggle
