#include "sensors/network/http_tracker.hpp"

#include <algorithm>

namespace waggle {

HttpTracker::HttpTracker(const std::vector<std::string>& patterns)
    : namer_(protocols::RouteNamer::create(patterns, nullptr).value_or(protocols::RouteNamer())),
      limiter_(kMaxRoutesPerService) {}

void HttpTracker::evict_oldest() {
  std::vector<std::pair<uint64_t, uint64_t>> by_age;  // last activity, socket
  by_age.reserve(conns_.size());
  for (const auto& [sk, conn] : conns_) by_age.emplace_back(conn.last_ns, sk);
  size_t n = std::max<size_t>(1, by_age.size() / 8);
  std::nth_element(by_age.begin(), by_age.begin() + long(n - 1), by_age.end());
  for (size_t i = 0; i < n; i++) conns_.erase(by_age[i].second);
  evicted_ += n;
}

void HttpTracker::on_chunk(uint64_t sk, const protocols::Chunk& chunk, const ProcessRef& process,
                           const EndpointsFn& endpoints, std::vector<HttpEvent>* out) {
  auto it = conns_.find(sk);
  if (it == conns_.end()) {
    if (conns_.size() >= kMaxConnections) evict_oldest();
    it = conns_.emplace(sk, Conn{}).first;
    endpoints(&it->second.local, &it->second.remote);
  }
  Conn& conn = it->second;
  conn.last_ns = chunk.time_ns;
  if (conn.abandoned) return;
  conn.process = process;  // the latest: a connection handed to another process follows it
  conn.parser.on_chunk(chunk);
  take(conn, out);
  if (conn.parser.gave_up()) {  // remembered until it closes, without its parser's memory
    abandoned_++;
    conn.abandoned = true;
    conn.parser = http::Connection();
    conn.process.reset();
  }
}

void HttpTracker::on_close(uint64_t sk, uint64_t time_ns, std::vector<HttpEvent>* out) {
  auto it = conns_.find(sk);
  if (it == conns_.end()) return;
  it->second.parser.on_close(time_ns);
  take(it->second, out);
  conns_.erase(it);
}

void HttpTracker::take(Conn& conn, std::vector<HttpEvent>* out) {
  conn.parser.take_exchanges(&taken_);
  for (http::Exchange& x : taken_) {
    HttpEvent e;
    e.time_ns = x.end_ns;
    e.process = conn.process;
    e.server = x.role == http::Role::kServer;
    e.method = std::move(x.method);
    e.route = limiter_.admit(service_name_of(conn.process), namer_.route(x.target));
    e.target = std::move(x.target);
    e.status = x.status;
    e.duration_ns = x.end_ns > x.start_ns ? x.end_ns - x.start_ns : 0;
    e.request_bytes = x.request_bytes;
    e.response_bytes = x.response_bytes;
    e.local = conn.local;
    e.remote = conn.remote;
    out->push_back(std::move(e));
  }
}

}  // namespace waggle
