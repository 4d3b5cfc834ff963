// User-space cost of the network sensor's parsers: one HTTP/1.x exchange on a keep-alive
// connection, a route named, a DNS answer decoded (run: build/bench/waggle_protocol_bench).
#include <benchmark/benchmark.h>

#include <span>
#include <string>
#include <vector>

#include "protocols/dns_parser.hpp"
#include "protocols/http_parser.hpp"
#include "protocols/route_namer.hpp"

namespace {

using waggle::protocols::Chunk;
using waggle::protocols::Direction;

const std::string kRequest =
    "GET /users/42?page=2 HTTP/1.1\r\nHost: api.example.test\r\nUser-Agent: curl/7.88.1\r\nAccept: "
    "*/*\r\n\r\n";
const std::string kResponse =
    "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Sat, 21 Nov 2026 19:27:45 GMT\r\nContent-Type: "
    "application/json\r\nContent-Length: 17\r\nConnection: keep-alive\r\n\r\n{\"id\":42,\"ok\":1}\n";

void BM_HttpExchange(benchmark::State& state) {
  waggle::http::Connection conn;
  uint64_t t = 0, exchanges = 0;
  for (auto _ : state) {
    conn.on_chunk(Chunk{Direction::kIngress, ++t, kRequest.size(), kRequest, {}});
    conn.on_chunk(Chunk{Direction::kEgress, ++t, kResponse.size(), kResponse, {}});
    exchanges += conn.take_exchanges().size();
  }
  if (exchanges != uint64_t(state.iterations())) state.SkipWithError("exchanges were lost");
  state.SetItemsProcessed(int64_t(exchanges));
  state.SetBytesProcessed(int64_t(state.iterations() * (kRequest.size() + kResponse.size())));
}
BENCHMARK(BM_HttpExchange);

void BM_RouteName(benchmark::State& state) {
  waggle::protocols::RouteNamer namer;
  for (auto _ : state)
    benchmark::DoNotOptimize(namer.route("/users/9a3b5c7d-1234-4abc-8def-0123456789ab/orders/17"));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RouteName);

// A response to "example.test A" with two A records, the name compressed.
const std::vector<uint8_t> kDnsAnswer = {
    0x12, 0x34, 0x81, 0x80, 0,   1,   0,   2,   0, 0,   0,   0,                        // header
    7,    'e',  'x',  'a',  'm', 'p', 'l', 'e', 4, 't', 'e', 's', 't', 0, 0, 1, 0, 1,  // question
    0xc0, 12,   0,    1,    0,   1,   0,   0,   0, 60,  0,   4,   10,  1, 2, 3,        // answer 1
    0xc0, 12,   0,    1,    0,   1,   0,   0,   0, 60,  0,   4,   10,  1, 2, 4};       // answer 2

void BM_DnsAnswer(benchmark::State& state) {
  std::string error;
  for (auto _ : state) {
    auto m = waggle::dns::parse(std::span<const uint8_t>(kDnsAnswer), &error);
    if (!m || m->answers.size() != 2) state.SkipWithError("parse failed");
    benchmark::DoNotOptimize(m);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DnsAnswer);

}  // namespace

BENCHMARK_MAIN();
