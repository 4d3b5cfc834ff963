// W3C traceparent values, and the header carried from a request into its exchange.
#include "protocols/trace_context.hpp"

#include <gtest/gtest.h>

#include "protocols/http_parser.hpp"

namespace waggle {
namespace {

TEST(TraceContext, ReadsAValidTraceparent) {
  auto ctx = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  ASSERT_TRUE(ctx);
  EXPECT_EQ(ctx->trace_id[0], 0x4b);
  EXPECT_EQ(ctx->trace_id[15], 0x36);
  EXPECT_EQ(ctx->parent_id[0], 0x00);
  EXPECT_EQ(ctx->parent_id[7], 0xb7);
  EXPECT_EQ(ctx->flags, 1);
  // A later version may carry more, after a '-'.
  EXPECT_TRUE(parse_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-more"));
  EXPECT_TRUE(parse_traceparent("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"));
}

TEST(TraceContext, RejectsWhatTheSpecificationRejects) {
  for (const char* bad : {
           "",
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",         // no flags
           "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",      // uppercase
           "00-00000000000000000000000000000000-00f067aa0ba902b7-01",      // zero trace id
           "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",      // zero parent id
           "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",      // version ff
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",    // version 00 is exact
           "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",     // more, without '-'
           "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",      // separator
           "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",      // not hex
       })
    EXPECT_FALSE(parse_traceparent(bad)) << bad;
}

TEST(TraceContext, AnExchangeCarriesItsRequestsTraceparent) {
  http::Connection conn;
  std::string request =
      "GET /a HTTP/1.1\r\nHost: x\r\nTraceParent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n"
      "traceparent: 00-11111111111111111111111111111111-2222222222222222-01\r\n\r\n";
  std::string response = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
  conn.on_chunk({protocols::Direction::kIngress, 1, request.size(), request, {}});
  conn.on_chunk({protocols::Direction::kEgress, 2, response.size(), response, {}});
  std::string plain = "GET /b HTTP/1.1\r\nHost: x\r\n\r\n";
  conn.on_chunk({protocols::Direction::kIngress, 3, plain.size(), plain, {}});
  conn.on_chunk({protocols::Direction::kEgress, 4, response.size(), response, {}});
  std::vector<http::Exchange> exchanges = conn.take_exchanges();
  ASSERT_EQ(exchanges.size(), 2u);
  // The first header counts (the name is case-insensitive); the next request has none.
  EXPECT_EQ(exchanges[0].trace, parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
  EXPECT_FALSE(exchanges[1].trace);
}

}  // namespace
}  // namespace waggle
