// Serves a metrics registry to Prometheus over HTTP: GET /metrics, text format 0.0.4.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "export/metrics_registry.hpp"

namespace waggle {

// A GET path served beside /metrics by a handler of the agent's (e.g. profiles). The handler
// runs on a worker thread and may block (a profile window of N seconds).
struct HttpReply {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::map<std::string, std::string> headers;
};
struct HttpRoute {
  std::string path;
  std::function<HttpReply(const std::map<std::string, std::string>& query)> handler;
  // Served only when the request's Host is an IP address or "localhost" (with any port): a web
  // page cannot reach it through DNS rebinding (its name resolving to the agent's address).
  bool address_hosts_only = false;
};

// Whether a Host header names an IP address or localhost, with or without a port.
bool is_address_host(std::string_view host);

class PrometheusEndpoint {
 public:
  // Loopback only: exposing metrics further is the operator's choice.
  static constexpr std::string_view kDefaultAddress = "127.0.0.1:9464";

  // Listens on `address` ("host:port" or "[ipv6]:port", the host a numeric address; 0.0.0.0 or
  // [::] for every address; port 0 picks a free port) and serves `registry`, which must outlive
  // the endpoint, from threads of its own (an acceptor and two workers, all signals blocked in
  // them). On failure returns null and sets *error, naming the address and the reason.
  //
  // GET and HEAD /metrics get registry.collect() rendered by prometheus_text.hpp, plus the
  // endpoint's own counters waggle_prometheus_scrapes_total (this request included) and
  // waggle_prometheus_render_seconds_total (this request excluded). Other paths get 404,
  // other methods on /metrics 405.
  //
  // Each of `routes` is served at its path (GET and HEAD); with routes, two more workers run,
  // so that a long request does not hold up scrapes.
  static std::unique_ptr<PrometheusEndpoint> start(const std::string& address,
                                                   const metrics::Registry& registry, std::string* error,
                                                   std::vector<HttpRoute> routes = {});

  PrometheusEndpoint(const PrometheusEndpoint&) = delete;
  PrometheusEndpoint& operator=(const PrometheusEndpoint&) = delete;
  ~PrometheusEndpoint();  // stop()

  // Closes the listening socket and joins the threads. Requests in progress finish; a client
  // that stalls holds it up for at most the 1 s read timeout (2 s when it stops reading a
  // response). Idempotent; not to be called from two threads at once.
  void stop();

  // The port listened on (the one picked, for port 0).
  uint16_t port() const;
  // "127.0.0.1:9464", "[::1]:9464": the address listened on, with that port.
  const std::string& address() const;
  // /metrics requests served so far.
  uint64_t scrapes() const;

 private:
  struct Impl;
  explicit PrometheusEndpoint(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace waggle
