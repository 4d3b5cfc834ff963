// HTTP/1.x exchanges from the socket data the kernel captured: one parser per connection,
// routes named and their number bounded per service, and the events sampled per route.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/events.hpp"
#include "protocols/chunk.hpp"
#include "protocols/http_parser.hpp"
#include "protocols/route_namer.hpp"

namespace waggle {

class HttpTracker {
 public:
  // Connections followed at once; beyond, the least recently active one is dropped (counted).
  static constexpr size_t kMaxConnections = 16384;
  // Distinct routes per service; more are reported as "/{other}" (counted).
  static constexpr size_t kMaxRoutesPerService = 1000;

  // Raw targets whose route is remembered; past this, the memory starts again.
  static constexpr size_t kMaxCachedTargets = 16384;

  // `patterns` were validated with the configuration. Of each service's route and role, one
  // exchange in `events_every` is an event to write out (0: none); the others are marked
  // metrics_only, without their target.
  explicit HttpTracker(const std::vector<std::string>& patterns, uint32_t events_every = 1);

  // Fills in a connection's local and remote endpoints: called once per connection (formatting
  // addresses costs more than parsing a request).
  using EndpointsFn = std::function<void(Endpoint* local, Endpoint* remote)>;

  // One captured call on connection `sk` of `process`; completed exchanges go to `out`.
  void on_chunk(uint64_t sk, const protocols::Chunk& chunk, const ProcessRef& process,
                const EndpointsFn& endpoints, std::vector<Event>* out);
  // An exchange the kernel parsed on connection `sk`: complete (its event goes to `out`), or,
  // with `handoff`, a request whose response follows as chunks.
  void on_exchange(uint64_t sk, http::Exchange exchange, bool handoff, const ProcessRef& process,
                   const EndpointsFn& endpoints, std::vector<Event>* out);
  // What the kernel may be told of connection `sk`, which it handed to this parser, after its
  // latest call: `quiet`, that it may stop posting it (this parser is done with it: given up,
  // or upgraded to another protocol; once per connection); else `give_back` (the connection's
  // role), that it may parse it again (between exchanges; at most kMaxReturns offers until the
  // kernel parses an exchange of it again: one whose every exchange is handed over stays here).
  static constexpr uint32_t kMaxReturns = 8;
  struct KernelOffer {
    bool quiet = false;
    http::Role give_back = http::Role::kUnknown;  // kUnknown: not
  };
  KernelOffer offer(uint64_t sk);
  // Whether something was said to the kernel of connection `sk` (an offer back since it last
  // parsed an exchange of it, or that it may stop posting it) that may still wait in its table.
  bool offered(uint64_t sk) const {
    auto it = conns_.find(sk);
    return it != conns_.end() && (it->second.returns > 0 || it->second.quieted);
  }
  // The connection closed: a response delimited by the close ends here.
  void on_close(uint64_t sk, uint64_t time_ns, std::vector<Event>* out);

  // Forgets every connection (after lost records): each is parsed again from its next request.
  void reset() {
    resets_ += conns_.size();
    conns_.clear();
  }

  // The route of `target` for `process`'s service, named (and its number bounded) as the
  // exchanges' routes are.
  const std::string& route_name(const ProcessRef& process, std::string_view target) {
    return route_of(process, target).name;
  }

  uint64_t evicted() const { return evicted_; }
  uint64_t resets() const { return resets_; }
  uint64_t abandoned() const { return abandoned_; }  // connections whose bytes were not HTTP
  uint64_t routes_overflowed() const { return routes_overflowed_; }  // exchanges named /{other}
  // Exchanges counted elsewhere (the kernel's tallies) under route_name()'s /{other}.
  void add_overflowed(uint64_t n) { routes_overflowed_ += n; }
  size_t connections() const { return conns_.size(); }
  size_t cached_targets() const { return cached_targets_; }

 private:
  struct Route;
  struct Conn {
    http::Connection parser;
    ProcessRef process;
    Endpoint local, remote;
    uint64_t last_ns = 0;
    bool abandoned = false;  // not HTTP after all: its data is ignored until it closes
    // The route of the connection's last target, for its process (a keep-alive connection
    // often asks for the same target again). Routes are never removed.
    std::string last_target;
    Route* last_route = nullptr;
    uint32_t returns = 0;  // offers back to the kernel since it last parsed an exchange of it
    bool quieted = false;  // the kernel was told to post nothing more of it
  };
  Conn& conn_of(uint64_t sk, uint64_t time_ns, const EndpointsFn& endpoints);
  // The connection's process is now `process` (the latest: a connection handed to another
  // process follows it).
  static void owned_by(Conn& conn, const ProcessRef& process);
  void take(Conn& conn, std::vector<Event>* out);
  void forget_if_given_up(Conn& conn);
  // The exchange's event, made in place at the end of `out` (no copy or move of its strings).
  void event_of(Conn& conn, http::Exchange& x, std::vector<Event>* out);
  std::vector<http::Exchange> taken_;  // reused by take()
  // Drops the least recently active eighth of the connections: amortized O(1) per connection.
  void evict_oldest();

  // A route of a service, and the exchanges it had as server and as client (for sampling).
  struct Route {
    std::string name;
    uint64_t exchanges[2] = {};
  };
  // The route of a raw target of a service: named and admitted once, then looked up without
  // building a key.
  Route& route_of(const ProcessRef& process, std::string_view target);
  Route& route_of(Conn& conn, std::string_view target);
  struct ViewHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  template <typename V>
  using ByName = std::unordered_map<std::string, V, ViewHash, std::equal_to<>>;
  ByName<ByName<Route*>> targets_;  // service -> raw target -> its route
  ByName<ByName<Route>> routes_;    // service -> route name -> the route
  size_t cached_targets_ = 0;

  protocols::RouteNamer namer_;
  protocols::RouteLimiter limiter_;
  uint32_t events_every_;
  uint64_t routes_overflowed_ = 0;
  std::unordered_map<uint64_t, Conn> conns_;
  uint64_t evicted_ = 0;
  uint64_t abandoned_ = 0;
  uint64_t resets_ = 0;
};

}  // namespace waggle
