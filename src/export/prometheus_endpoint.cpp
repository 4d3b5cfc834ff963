#include "export/prometheus_endpoint.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <httplib.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "core/net_address.hpp"
#include "export/prometheus_text.hpp"

namespace waggle {

namespace {

// cpp-httplib would start max(8, cores - 1) workers; one scrape at a time is the norm.
constexpr size_t kWorkerThreads = 2;

// cpp-httplib's default sets SO_REUSEPORT, which would let a second server bind the same port
// and share its connections. SO_REUSEADDR only lets a restart reuse a port still in TIME_WAIT.
void socket_options(socket_t sock) {
  const int yes = 1;
  setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  fcntl(sock, F_SETFD, FD_CLOEXEC);
}

}  // namespace

struct PrometheusEndpoint::Impl {
  explicit Impl(const metrics::Registry& r) : registry(r) {}

  void serve(const httplib::Request& req, httplib::Response& res);

  const metrics::Registry& registry;
  std::vector<HttpRoute> routes;
  httplib::Server server;
  std::thread thread;
  std::atomic<bool> listen_returned{false};
  std::string address;
  uint16_t port = 0;
  std::atomic<uint64_t> scrapes{0};
  std::atomic<uint64_t> render_ns{0};
};

bool is_address_host(std::string_view host) {
  std::string_view name = host;
  if (name.starts_with('[')) {  // [v6] or [v6]:port
    size_t close = name.find(']');
    if (close == std::string_view::npos) return false;
    std::string_view rest = name.substr(close + 1);
    if (!rest.empty() && (rest[0] != ':' || rest.size() == 1)) return false;
    name = name.substr(1, close - 1);
    in6_addr a6;
    return inet_pton(AF_INET6, std::string(name).c_str(), &a6) == 1;
  }
  size_t colon = name.rfind(':');
  if (colon != std::string_view::npos) name = name.substr(0, colon);
  if (name == "localhost") return true;
  in_addr a4;
  return inet_pton(AF_INET, std::string(name).c_str(), &a4) == 1;
}

void PrometheusEndpoint::Impl::serve(const httplib::Request& req, httplib::Response& res) {
  for (const HttpRoute& route : routes) {
    if (req.path != route.path) continue;
    if (req.method != "GET" && req.method != "HEAD") {
      res.status = 405;
      res.set_header("Allow", "GET, HEAD");
      res.set_content("Method not allowed: use GET or HEAD\n", "text/plain; charset=utf-8");
      return;
    }
    if (route.address_hosts_only && !is_address_host(req.get_header_value("Host"))) {
      res.status = 403;
      res.set_content("Forbidden: open this page by the agent's address (e.g. http://127.0.0.1:9464/), not by a name\n",
                      "text/plain; charset=utf-8");
      return;
    }
    std::map<std::string, std::string> query;
    for (const auto& [key, value] : req.params) query[key] = value;
    HttpReply reply = route.handler(query);
    res.status = reply.status;
    for (const auto& [name, value] : reply.headers) res.set_header(name, value);
    res.set_content(std::move(reply.body), reply.content_type);
    return;
  }
  if (req.path != "/metrics") {
    res.status = 404;
    res.set_content("Not found: metrics are at /metrics\n", "text/plain; charset=utf-8");
    return;
  }
  if (req.method != "GET" && req.method != "HEAD") {
    res.status = 405;
    res.set_header("Allow", "GET, HEAD");
    res.set_content("Method not allowed: use GET or HEAD\n", "text/plain; charset=utf-8");
    return;
  }
  const uint64_t n = scrapes.fetch_add(1, std::memory_order_relaxed) + 1;
  const uint64_t ns = render_ns.load(std::memory_order_relaxed);
  const auto start = std::chrono::steady_clock::now();
  res.body = render_prometheus_text(registry, [&](metrics::Collector& c) {
    c.counter("waggle_prometheus_scrapes_total", "Requests for /metrics served, this one included.")
        .sample({}, static_cast<double>(n));
    c.counter("waggle_prometheus_render_seconds_total",
              "Time spent rendering /metrics, in seconds, this request excluded.")
        .sample({}, static_cast<double>(ns) / 1e9);
  });
  res.set_header("Content-Type", kPrometheusContentType);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  render_ns.fetch_add(
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count()),
      std::memory_order_relaxed);
}

std::unique_ptr<PrometheusEndpoint> PrometheusEndpoint::start(const std::string& address,
                                                              const metrics::Registry& registry,
                                                              std::string* error, std::vector<HttpRoute> routes) {
  std::string host;
  uint16_t port = 0;
  std::string why;
  if (!split_host_port(address, &host, &port, &why)) {
    if (error) *error = "invalid listen address \"" + address + "\": " + why;
    return nullptr;
  }

  auto impl = std::make_unique<Impl>(registry);
  Impl* p = impl.get();
  size_t workers = kWorkerThreads + (routes.empty() ? 0 : 2);
  p->routes = std::move(routes);
  httplib::Server& server = p->server;
  server.new_task_queue = [workers] { return new httplib::ThreadPool(workers); };
  server.set_socket_options(socket_options);
  // Short timeouts: a stalled client holds a worker, and stop(), no longer than this.
  server.set_keep_alive_timeout(1);
  server.set_read_timeout(1, 0);
  server.set_write_timeout(2, 0);
  server.set_pre_routing_handler([p](const httplib::Request& req, httplib::Response& res) {
    p->serve(req, res);
    return httplib::Server::HandlerResponse::Handled;
  });

  errno = 0;
  const int bound = port == 0 ? server.bind_to_any_port(host, AI_NUMERICHOST)
                              : (server.bind_to_port(host, port, AI_NUMERICHOST) ? port : -1);
  if (bound <= 0) {
    const int err = errno;
    if (error)
      *error = "cannot listen on " + address + ": " + (err != 0 ? std::strerror(err) : "bind failed");
    return nullptr;
  }
  p->port = static_cast<uint16_t>(bound);
  p->address = (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(bound);

  // The threads start with every signal blocked (the workers are started by the acceptor and
  // inherit its mask): SIGINT and SIGTERM reach the agent's own threads, and writing to a client
  // that went away gives EPIPE, not a SIGPIPE that would end the agent.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  p->thread = std::thread([p] {
    p->server.listen_after_bind();
    p->listen_returned = true;
  });
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  // stop() does nothing to a server that is not running yet: wait until it is.
  while (!p->server.is_running() && !p->listen_returned)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return std::unique_ptr<PrometheusEndpoint>(new PrometheusEndpoint(std::move(impl)));
}

PrometheusEndpoint::PrometheusEndpoint(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

PrometheusEndpoint::~PrometheusEndpoint() { stop(); }

void PrometheusEndpoint::stop() {
  if (!impl_->thread.joinable()) return;
  impl_->server.stop();
  impl_->thread.join();
}

uint16_t PrometheusEndpoint::port() const { return impl_->port; }

const std::string& PrometheusEndpoint::address() const { return impl_->address; }

uint64_t PrometheusEndpoint::scrapes() const { return impl_->scrapes.load(std::memory_order_relaxed); }

}  // namespace waggle
