// The network sensor's HTTP tracker: exchanges per connection, routes named, and state
// dropped when records were lost.
#include "sensors/network/http_tracker.hpp"

#include <gtest/gtest.h>

namespace waggle {
namespace {

using protocols::Chunk;
using protocols::Direction;

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
  std::vector<HttpEvent> out;
  tracker.on_chunk(1, Chunk{Direction::kIngress, 100, kRequest.size(), kRequest, {}}, nginx(), endpoints,
                   &out);
  EXPECT_TRUE(out.empty());
  tracker.on_chunk(1, Chunk{Direction::kEgress, 350, kResponse.size(), kResponse, {}}, nginx(), endpoints,
                   &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].server);
  EXPECT_EQ(out[0].method, "GET");
  EXPECT_EQ(out[0].target, "/users/42?x=1");
  EXPECT_EQ(out[0].route, "/users/{id}");
  EXPECT_EQ(out[0].status, 404);
  EXPECT_EQ(out[0].duration_ns, 250u);
  EXPECT_EQ(out[0].time_ns, 350u);
  EXPECT_EQ(out[0].request_bytes, kRequest.size());
  EXPECT_EQ(out[0].response_bytes, kResponse.size());
  EXPECT_EQ(out[0].local.port, 80);
  EXPECT_EQ(out[0].remote.port, 40000);
  EXPECT_EQ(out[0].process->pid, 7u);
}

TEST(HttpTracker, AfterLostRecordsAConnectionWaitsForItsNextRequest) {
  HttpTracker tracker({});
  std::vector<HttpEvent> out;
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
  EXPECT_EQ(out[0].duration_ns, 1u);
}

TEST(HttpTracker, TheConnectionCloseEndsAResponseDelimitedByIt) {
  HttpTracker tracker({});
  std::vector<HttpEvent> out;
  const std::string response = "HTTP/1.0 200 OK\r\n\r\nbody until the close";
  tracker.on_chunk(5, Chunk{Direction::kEgress, 10, kRequest.size(), kRequest, {}}, nginx(), endpoints, &out);
  tracker.on_chunk(5, Chunk{Direction::kIngress, 20, response.size(), response, {}}, nginx(), endpoints,
                   &out);
  EXPECT_TRUE(out.empty());
  tracker.on_close(5, 30, &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].server);
  EXPECT_EQ(out[0].status, 200);
  EXPECT_EQ(out[0].response_bytes, response.size());
  EXPECT_EQ(tracker.connections(), 0u);
}

TEST(HttpTracker, BeyondItsLimitTheLeastRecentlyActiveEighthIsDropped) {
  HttpTracker tracker({});
  std::vector<HttpEvent> out;
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
  EXPECT_EQ(out[1].time_ns, limit + 4);
}

}  // namespace
}  // namespace waggle
