#include "sensors/network/http_tracker.hpp"

#include <algorithm>

namespace waggle {

HttpTracker::HttpTracker(const std::vector<std::string>& patterns, uint32_t events_every)
    : namer_(protocols::RouteNamer::create(patterns, nullptr).value_or(protocols::RouteNamer())),
      limiter_(kMaxRoutesPerService),
      events_every_(events_every) {}

HttpTracker::Route& HttpTracker::route_of(const ProcessRef& process, std::string_view target) {
  std::string_view service = service_name_view(process);
  auto by_service = targets_.find(service);
  if (by_service != targets_.end()) {
    auto it = by_service->second.find(target);
    if (it != by_service->second.end()) return *it->second;
  }
  if (cached_targets_ >= kMaxCachedTargets) {  // routes (and their sampling phase) stay
    targets_.clear();
    cached_targets_ = 0;
  }
  std::string name = limiter_.admit(std::string(service), namer_.route(target));
  auto& service_routes = routes_[std::string(service)];
  auto route = service_routes.find(name);
  if (route == service_routes.end()) route = service_routes.emplace(name, Route{name, {}}).first;
  targets_[std::string(service)].emplace(std::string(target), &route->second);
  cached_targets_++;
  return route->second;
}

HttpTracker::Route& HttpTracker::route_of(Conn& conn, std::string_view target) {
  if (conn.last_route && conn.last_target == target) return *conn.last_route;
  Route& route = route_of(conn.process, target);
  conn.last_target.assign(target);
  conn.last_route = &route;
  return route;
}

void HttpTracker::owned_by(Conn& conn, const ProcessRef& process) {
  if (conn.process == process) return;
  conn.process = process;
  conn.last_route = nullptr;  // named for the previous process's service
}

void HttpTracker::evict_oldest() {
  std::vector<std::pair<uint64_t, uint64_t>> by_age;  // last activity, socket
  by_age.reserve(conns_.size());
  for (const auto& [sk, conn] : conns_) by_age.emplace_back(conn.last_ns, sk);
  size_t n = std::max<size_t>(1, by_age.size() / 8);
  std::nth_element(by_age.begin(), by_age.begin() + long(n - 1), by_age.end());
  for (size_t i = 0; i < n; i++) conns_.erase(by_age[i].second);
  evicted_ += n;
}

HttpTracker::Conn& HttpTracker::conn_of(uint64_t sk, uint64_t time_ns, const EndpointsFn& endpoints) {
  auto it = conns_.find(sk);
  if (it == conns_.end()) {
    if (conns_.size() >= kMaxConnections) evict_oldest();
    it = conns_.emplace(sk, Conn{}).first;
    endpoints(&it->second.local, &it->second.remote);
  }
  it->second.last_ns = time_ns;
  return it->second;
}

void HttpTracker::on_chunk(uint64_t sk, const protocols::Chunk& chunk, const ProcessRef& process,
                           const EndpointsFn& endpoints, std::vector<Event>* out) {
  Conn& conn = conn_of(sk, chunk.time_ns, endpoints);
  if (conn.abandoned) return;
  owned_by(conn, process);
  conn.parser.on_chunk(chunk);
  take(conn, out);
  forget_if_given_up(conn);
}

void HttpTracker::forget_if_given_up(Conn& conn) {
  if (!conn.parser.gave_up()) return;
  abandoned_++;  // remembered until it closes, without its parser's memory
  conn.abandoned = true;
  conn.parser = http::Connection();
  conn.process.reset();
}

void HttpTracker::on_exchange(uint64_t sk, http::Exchange exchange, bool handoff, const ProcessRef& process,
                              const EndpointsFn& endpoints, std::vector<Event>* out) {
  Conn& conn = conn_of(sk, handoff ? exchange.start_ns : exchange.end_ns, endpoints);
  if (conn.abandoned) return;
  owned_by(conn, process);
  if (handoff) {
    conn.parser.expect_response(std::move(exchange));
    forget_if_given_up(conn);
  } else {
    conn.returns = 0;  // parsed in the kernel: offers back count afresh
    event_of(conn, exchange, out);
  }
}

HttpTracker::KernelOffer HttpTracker::offer(uint64_t sk) {
  KernelOffer offer;
  auto it = conns_.find(sk);
  if (it == conns_.end()) return offer;
  Conn& conn = it->second;
  if (conn.abandoned || conn.parser.upgraded()) {
    offer.quiet = !conn.quieted;
    conn.quieted = true;
  } else if (conn.returns < kMaxReturns && conn.parser.idle()) {
    conn.returns++;
    offer.give_back = conn.parser.role();  // known once idle
  }
  return offer;
}

void HttpTracker::on_close(uint64_t sk, uint64_t time_ns, std::vector<Event>* out) {
  auto it = conns_.find(sk);
  if (it == conns_.end()) return;
  it->second.parser.on_close(time_ns);
  take(it->second, out);
  conns_.erase(it);
}

void HttpTracker::take(Conn& conn, std::vector<Event>* out) {
  conn.parser.take_exchanges(&taken_);
  for (http::Exchange& x : taken_) event_of(conn, x, out);
}

void HttpTracker::event_of(Conn& conn, http::Exchange& x, std::vector<Event>* out) {
  HttpEvent& e = std::get<HttpEvent>(out->emplace_back(std::in_place_type<HttpEvent>));
  e.time_ns = x.end_ns;
  e.process = conn.process;
  e.server = x.role == http::Role::kServer;
  e.method = std::move(x.method);
  Route& route = route_of(conn, x.target);
  e.route = route.name;
  if (e.route == protocols::RouteLimiter::kOverflowRoute) routes_overflowed_++;
  uint64_t n = route.exchanges[e.server ? 0 : 1]++;
  e.metrics_only = events_every_ == 0 || n % events_every_ != 0;
  if (!e.metrics_only) e.target = std::move(x.target);
  e.status = x.status;
  e.duration_ns = x.end_ns > x.start_ns ? x.end_ns - x.start_ns : 0;
  e.request_bytes = x.request_bytes;
  e.response_bytes = x.response_bytes;
  e.trace = x.trace;
  e.local = conn.local;
  e.remote = conn.remote;
}

}  // namespace waggle
