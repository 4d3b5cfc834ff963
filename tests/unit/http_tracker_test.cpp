// The network sensor's HTTP tracker: exchanges per connection, routes named, and state
// dropped when records were lost.
#include "sensors/network/http_tracker.hpp"

#include <gtest/gtest.h>

namespace waggle {
namespace {

using protocols::Chunk;
using protocols::Direction;

// The tracker's events are http.request events.
const HttpEvent& http(const Event& e) { return std::get<HttpEvent>(e); }

const std::string kRequest = "GET /users/42?x=1 HTTP/1.1\r\nHost: x\r\n\r\n";
const std::string kResponse = "HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nno";

void endpoints(Endpoint* local, Endpoint* remote) {
  *local = {"127.0.0.1", 80};
  *remote = {"127.0.0.1", 40000};
}

ProcessRef nginx() {
  auto p = std::make_shared<ProcessInfo>();
  p->pid = 7;
  p->binary = "/usr/sbin/nginx";
  return p;
}

TEST(HttpTracker, AnExchangeBecomesAnEventWithItsRouteAndEndpoints) {
  HttpTracker tracker({"/api/{version}/*"});
  std::vector<Event> out;
  tracker.on_chunk(1, Chunk{Direction::kIngress, 100, kRequest.size(), kRequest, {}}, nginx(), endpoints,
                   &out);
  EXPECT_TRUE(out.empty());
  tracker.on_chunk(1, Chunk{Direction::kEgress, 350, kResponse.size(), kResponse, {}}, nginx(), endpoints,
                   &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(http(out[0]).server);
  EXPECT_EQ(http(out[0]).method, "GET");
  EXPECT_EQ(http(out[0]).target, "/users/42?x=1");
  EXPECT_EQ(http(out[0]).route, "/users/{id}");
  EXPECT_EQ(http(out[0]).status, 404);
  EXPECT_EQ(http(out[0]).duration_ns, 250u);
  EXPECT_EQ(http(out[0]).time_ns, 350u);
  EXPECT_EQ(http(out[0]).request_bytes, kRequest.size());
  EXPECT_EQ(http(out[0]).response_bytes, kResponse.size());
  EXPECT_EQ(http(out[0]).local.port, 80);
  EXPECT_EQ(http(out[0]).remote.port, 40000);
  EXPECT_EQ(http(out[0]).process->pid, 7u);
}

TEST(HttpTracker, AfterLostRecordsAConnectionWaitsForItsNextRequest) {
  HttpTracker tracker({});
  std::vector<Event> out;
  tracker.on_chunk(1, Chunk{Direction::kIngress, 1, kRequest.size(), kRequest, {}}, nginx(), endpoints, &out);
  tracker.reset();  // the response to that request may have been lost
  EXPECT_EQ(tracker.connections(), 0u);
  EXPECT_EQ(tracker.resets(), 1u);
  tracker.on_chunk(1, Chunk{Direction::kEgress, 2, kResponse.size(), kResponse, {}}, nginx(), endpoints,
                   &out);
  EXPECT_TRUE(out.empty());  // a response without its request is never reported
  tracker.on_chunk(1, Chunk{Direction::kIngress, 3, kRequest.size(), kRequest, {}}, nginx(), endpoints, &out);
  tracker.on_chunk(1, Chunk{Direction::kEgress, 4, kResponse.size(), kResponse, {}}, nginx(), endpoints,
                   &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(http(out[0]).duration_ns, 1u);
}

TEST(HttpTracker, TheConnectionCloseEndsAResponseDelimitedByIt) {
  HttpTracker tracker({});
  std::vector<Event> out;
  const std::string response = "HTTP/1.0 200 OK\r\n\r\nbody until the close";
  tracker.on_chunk(5, Chunk{Direction::kEgress, 10, kRequest.size(), kRequest, {}}, nginx(), endpoints, &out);
  tracker.on_chunk(5, Chunk{Direction::kIngress, 20, response.size(), response, {}}, nginx(), endpoints,
                   &out);
  EXPECT_TRUE(out.empty());
  tracker.on_close(5, 30, &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(http(out[0]).server);
  EXPECT_EQ(http(out[0]).status, 200);
  EXPECT_EQ(http(out[0]).response_bytes, response.size());
  EXPECT_EQ(tracker.connections(), 0u);
}

TEST(HttpTracker, BeyondItsLimitTheLeastRecentlyActiveEighthIsDropped) {
  HttpTracker tracker({});
  std::vector<Event> out;
  const uint64_t limit = HttpTracker::kMaxConnections;
  for (uint64_t sk = 1; sk <= limit; sk++)  // socket 1 is the oldest, `limit` the newest
    tracker.on_chunk(sk, Chunk{Direction::kIngress, sk, kRequest.size(), kRequest, {}}, nginx(), endpoints,
                     &out);
  // Socket 1 becomes the most recently active: it must survive.
  tracker.on_chunk(1, Chunk{Direction::kEgress, limit + 1, kResponse.size(), kResponse, {}}, nginx(),
                   endpoints, &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(tracker.connections(), limit);
  EXPECT_EQ(tracker.evicted(), 0u);
  tracker.on_chunk(limit + 1, Chunk{Direction::kIngress, limit + 2, kRequest.size(), kRequest, {}}, nginx(),
                   endpoints, &out);
  EXPECT_EQ(tracker.evicted(), limit / 8);
  EXPECT_EQ(tracker.connections(), limit - limit / 8 + 1);
  // The oldest requests went with their connections: their responses are not reported; socket 1's
  // next exchange and a survivor's response are.
  tracker.on_chunk(2, Chunk{Direction::kEgress, limit + 3, kResponse.size(), kResponse, {}}, nginx(),
                   endpoints, &out);
  tracker.on_chunk(limit, Chunk{Direction::kEgress, limit + 4, kResponse.size(), kResponse, {}}, nginx(),
                   endpoints, &out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(http(out[1]).time_ns, limit + 4);
}

// One exchange served on connection `sk`: a GET of `target` and a 200.
void serve(HttpTracker& tracker, uint64_t sk, const std::string& target, const ProcessRef& process,
           std::vector<Event>* out) {
  const std::string request = "GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n";
  const std::string response = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
  tracker.on_chunk(sk, Chunk{Direction::kIngress, 1, request.size(), request, {}}, process, endpoints, out);
  tracker.on_chunk(sk, Chunk{Direction::kEgress, 2, response.size(), response, {}}, process, endpoints, out);
}

TEST(HttpTracker, SampledEventsAreOneInNOfEachRouteAndTheOthersOnlyCounted) {
  HttpTracker tracker({}, 3);
  std::vector<Event> out;
  for (int i = 1; i <= 7; i++) serve(tracker, 1, "/users/" + std::to_string(i), nginx(), &out);
  serve(tracker, 1, "/health", nginx(), &out);
  serve(tracker, 2, "/health", nginx(), &out);
  ASSERT_EQ(out.size(), 9u);  // every exchange reaches the metrics
  std::vector<std::string> written;
  for (const Event& event : out) {
    const HttpEvent& e = http(event);
    EXPECT_EQ(e.status, 200);
    if (e.metrics_only)
      EXPECT_EQ(e.target, "");
    else
      written.push_back(e.target);
  }
  EXPECT_EQ(written, (std::vector<std::string>{"/users/1", "/users/4", "/users/7", "/health"}));
  EXPECT_EQ(http(out[1]).route, "/users/{id}");
  EXPECT_EQ(http(out[8]).route, "/health");

  HttpTracker none({}, 0);
  out.clear();
  for (int i = 0; i < 3; i++) serve(none, 1, "/", nginx(), &out);
  ASSERT_EQ(out.size(), 3u);
  for (const Event& e : out) EXPECT_TRUE(http(e).metrics_only);
}

// Routes are remembered per raw target, within a bound; the routes past a service's limit are
// /{other}, and every exchange named so is counted, remembered or not.
TEST(HttpTracker, RoutesAreRememberedWithinABoundAndOverflowsCountedPerExchange) {
  HttpTracker tracker({});
  std::vector<Event> out;
  const size_t limit = HttpTracker::kMaxRoutesPerService;
  for (size_t i = 0; i < limit; i++) serve(tracker, 1, "/page" + std::string(1, char('a' + i % 26)) + std::to_string(i), nginx(), &out);
  EXPECT_EQ(tracker.routes_overflowed(), 0u);
  serve(tracker, 1, "/one-too-many", nginx(), &out);
  serve(tracker, 1, "/one-too-many", nginx(), &out);
  EXPECT_EQ(http(out.back()).route, "/{other}");
  EXPECT_EQ(tracker.routes_overflowed(), 2u);
  serve(tracker, 1, "/pagea0", nginx(), &out);  // admitted before the limit: still its own route
  EXPECT_EQ(http(out.back()).route, "/pagea0");
  EXPECT_EQ(tracker.cached_targets(), limit + 1);
  auto other = std::make_shared<ProcessInfo>();  // another service, with routes to spare
  other->binary = "/usr/bin/api";
  for (size_t i = tracker.cached_targets(); i < HttpTracker::kMaxCachedTargets; i++)
    serve(tracker, 2, "/users/" + std::to_string(i), other, &out);
  EXPECT_EQ(http(out.back()).route, "/users/{id}");
  EXPECT_EQ(tracker.cached_targets(), HttpTracker::kMaxCachedTargets);
  serve(tracker, 2, "/users/x1", other, &out);  // the memory starts again
  EXPECT_EQ(tracker.cached_targets(), 1u);
  serve(tracker, 1, "/pagea0", nginx(), &out);
  EXPECT_EQ(http(out.back()).route, "/pagea0");
  EXPECT_EQ(tracker.routes_overflowed(), 2u);
}

TEST(HttpTracker, AConnectionHandedToAnotherServiceHasItsRoutesNamedForThatService) {
  HttpTracker tracker({});
  std::vector<Event> out;
  for (size_t i = 0; i < HttpTracker::kMaxRoutesPerService; i++) serve(tracker, 1, "/p" + std::to_string(i) + "x", nginx(), &out);
  serve(tracker, 1, "/one-too-many", nginx(), &out);
  EXPECT_EQ(http(out.back()).route, "/{other}");
  auto other = std::make_shared<ProcessInfo>();  // the same connection, now another service's
  other->binary = "/usr/bin/api";
  serve(tracker, 1, "/one-too-many", other, &out);
  EXPECT_EQ(http(out.back()).route, "/one-too-many");
  EXPECT_EQ(http(out.back()).process, other);
  serve(tracker, 1, "/one-too-many", nginx(), &out);  // and back
  EXPECT_EQ(http(out.back()).route, "/{other}");
  EXPECT_EQ(tracker.routes_overflowed(), 2u);
}

TEST(HttpTracker, AConnectionIsOfferedBackBetweenExchangesAndQuietedOnceDoneWith) {
  HttpTracker tracker({});
  std::vector<Event> out;
  auto back = [&](uint64_t sk) {
    HttpTracker::KernelOffer o = tracker.offer(sk);
    EXPECT_FALSE(o.quiet);
    return o.give_back;
  };
  auto quiet = [&](uint64_t sk) {
    HttpTracker::KernelOffer o = tracker.offer(sk);
    EXPECT_EQ(o.give_back, http::Role::kUnknown);
    return o.quiet;
  };
  EXPECT_EQ(back(1), http::Role::kUnknown);  // unknown
  serve(tracker, 1, "/a", nginx(), &out);
  EXPECT_EQ(back(1), http::Role::kServer);
  EXPECT_TRUE(tracker.offered(1));
  // Upgraded: nothing more to parse, said once.
  const std::string upgrade = "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
  const std::string switched = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
  tracker.on_chunk(2, Chunk{Direction::kIngress, 1, upgrade.size(), upgrade, {}}, nginx(), endpoints, &out);
  EXPECT_EQ(back(2), http::Role::kUnknown);  // a request waits
  EXPECT_FALSE(tracker.offered(2));
  tracker.on_chunk(2, Chunk{Direction::kEgress, 2, switched.size(), switched, {}}, nginx(), endpoints, &out);
  EXPECT_TRUE(quiet(2));
  EXPECT_FALSE(quiet(2));
  EXPECT_TRUE(tracker.offered(2));
  // Given up (a control character in a header value): the same.
  const std::string bad = "GET / HTTP/1.1\r\nHost: x\r\nX: a\x01b\r\n\r\n";
  tracker.on_chunk(3, Chunk{Direction::kIngress, 1, bad.size(), bad, {}}, nginx(), endpoints, &out);
  EXPECT_TRUE(quiet(3));
  EXPECT_FALSE(quiet(3));
  // Offers back are bounded until the kernel parses an exchange of the connection again.
  for (uint32_t i = 1; i < HttpTracker::kMaxReturns; i++) EXPECT_EQ(back(1), http::Role::kServer);
  EXPECT_EQ(back(1), http::Role::kUnknown);
  http::Exchange x;
  x.role = http::Role::kServer;
  x.method = "GET";
  x.target = "/a";
  x.status = 200;
  tracker.on_exchange(1, x, false, nginx(), endpoints, &out);
  EXPECT_FALSE(tracker.offered(1));
  EXPECT_EQ(back(1), http::Role::kServer);
  // A client's connection is offered with its role.
  const std::string request = "GET / HTTP/1.1\r\nHost: x\r\n\r\n", ok = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
  tracker.on_chunk(4, Chunk{Direction::kEgress, 1, request.size(), request, {}}, nginx(), endpoints, &out);
  tracker.on_chunk(4, Chunk{Direction::kIngress, 2, ok.size(), ok, {}}, nginx(), endpoints, &out);
  EXPECT_EQ(back(4), http::Role::kClient);
}

}  // namespace
}  // namespace waggle
