// HTTP/1.x exchanges from captured chunks: roles, splitting, pipelining, bodies, byte counts.
#include "protocols/http_parser.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace waggle::http {
namespace {

using protocols::Chunk;
using protocols::Direction;
using protocols::kHeadBytes;
using protocols::kTailBytes;

// Feeds a Connection syscalls the way the kernel captures them: the first 512 bytes, and the
// last 16 when the syscall carried more.
class Wire {
 public:
  void send(Direction direction, uint64_t time_ns, const std::string& data) {
    const std::string_view v = data;
    const std::string_view tail =
        v.size() > kHeadBytes ? v.substr(v.size() - kTailBytes) : std::string_view();
    conn.on_chunk(Chunk{direction, time_ns, v.size(), v.substr(0, kHeadBytes), tail});
  }
  void in(uint64_t time_ns, const std::string& data) { send(Direction::kIngress, time_ns, data); }
  void out(uint64_t time_ns, const std::string& data) { send(Direction::kEgress, time_ns, data); }
  // One exchange, expected to be the only one completed.
  Exchange one() {
    std::vector<Exchange> all = conn.take_exchanges();
    EXPECT_EQ(all.size(), 1u);
    return all.empty() ? Exchange{} : all[0];
  }

  Connection conn;
};

const std::string kGet = "GET /users/42?x=1 HTTP/1.1\r\nHost: example.com\r\n\r\n";  // 49 bytes
const std::string kOk = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";         // 43 bytes

TEST(HttpConnection, ServerExchange) {
  ASSERT_EQ(kGet.size(), 49u);
  ASSERT_EQ(kOk.size(), 43u);
  Wire w;
  w.in(100, kGet);
  EXPECT_EQ(w.conn.role(), Role::kServer);
  EXPECT_TRUE(w.conn.take_exchanges().empty());
  w.out(250, kOk);
  const Exchange e = w.one();
  EXPECT_EQ(e.role, Role::kServer);
  EXPECT_EQ(e.method, "GET");
  EXPECT_EQ(e.target, "/users/42?x=1");
  EXPECT_EQ(e.status, 200);
  EXPECT_EQ(e.start_ns, 100u);
  EXPECT_EQ(e.end_ns, 250u);
  EXPECT_EQ(e.request_bytes, 49u);
  EXPECT_EQ(e.response_bytes, 43u);
  EXPECT_FALSE(w.conn.gave_up());
}

TEST(HttpConnection, ClientExchange) {
  Wire w;
  w.out(1, kGet);
  w.in(2, kOk);
  EXPECT_EQ(w.conn.role(), Role::kClient);
  const Exchange e = w.one();
  EXPECT_EQ(e.role, Role::kClient);
  EXPECT_EQ(e.status, 200);
  EXPECT_EQ(e.request_bytes, 49u);
  EXPECT_EQ(e.response_bytes, 43u);
}

TEST(HttpConnection, RequestSplitInsideTheMethod) {
  Wire w;
  w.in(10, "GE");
  EXPECT_EQ(w.conn.role(), Role::kUnknown);  // "GE" alone proves nothing yet
  w.in(20, "T /a HTTP/1.1\r\nHo");
  w.in(30, "st: x\r\n\r\n");
  EXPECT_EQ(w.conn.role(), Role::kServer);
  w.out(40, "HTTP/1.1 204 No Content\r\n\r\n");
  const Exchange e = w.one();
  EXPECT_EQ(e.method, "GET");
  EXPECT_EQ(e.target, "/a");
  EXPECT_EQ(e.status, 204);
  EXPECT_EQ(e.start_ns, 10u);
  EXPECT_EQ(e.end_ns, 40u);
  EXPECT_EQ(e.request_bytes, 2u + 17u + 9u);
  EXPECT_EQ(e.response_bytes, 27u);
}

TEST(HttpConnection, LaterRequestSplitAnywhere) {
  // Every split point of the second request, across two chunks.
  const std::string post = "POST /submit HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc";
  for (size_t cut = 1; cut < post.size(); ++cut) {
    Wire w;
    w.in(1, kGet);
    w.out(2, kOk);
    w.in(3, post.substr(0, cut));
    w.in(4, post.substr(cut));
    w.out(5, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
    const std::vector<Exchange> all = w.conn.take_exchanges();
    ASSERT_EQ(all.size(), 2u) << cut << " " << w.conn.reason();
    EXPECT_EQ(all[1].method, "POST");
    EXPECT_EQ(all[1].target, "/submit");
    EXPECT_EQ(all[1].status, 201);
    EXPECT_EQ(all[1].start_ns, 3u);
    EXPECT_EQ(all[1].request_bytes, post.size());
    EXPECT_EQ(all[1].response_bytes, 43u);
  }
}

TEST(HttpConnection, OneByteChunks) {
  Wire w;
  const std::string request = "PUT /k HTTP/1.1\r\nContent-Length: 4\r\n\r\nabcd";
  const std::string response = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nwxyz\r\n0\r\n\r\n";
  uint64_t t = 0;
  for (char c : request) w.in(++t, std::string(1, c));
  for (char c : response) w.out(++t, std::string(1, c));
  const Exchange e = w.one();
  EXPECT_EQ(e.method, "PUT");
  EXPECT_EQ(e.start_ns, 1u);
  EXPECT_EQ(e.end_ns, t);
  EXPECT_EQ(e.request_bytes, request.size());
  EXPECT_EQ(e.response_bytes, response.size());
}

TEST(HttpConnection, PipelinedRequestsInOneChunk) {
  Wire w;
  w.in(1, "GET /a HTTP/1.1\r\n\r\nHEAD /b HTTP/1.1\r\n\r\nDELETE /c HTTP/1.1\r\n\r\n");
  // Three responses in one chunk: the HEAD response announces a body it does not carry.
  w.out(2,
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n"
        "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
  const std::vector<Exchange> all = w.conn.take_exchanges();
  ASSERT_EQ(all.size(), 3u) << w.conn.reason();
  EXPECT_EQ(all[0].method, "GET");
  EXPECT_EQ(all[0].target, "/a");
  EXPECT_EQ(all[0].status, 200);
  EXPECT_EQ(all[0].request_bytes, 19u);
  EXPECT_EQ(all[0].response_bytes, 40u);
  EXPECT_EQ(all[1].method, "HEAD");
  EXPECT_EQ(all[1].status, 200);
  EXPECT_EQ(all[1].request_bytes, 20u);
  EXPECT_EQ(all[1].response_bytes, 39u);
  EXPECT_EQ(all[2].method, "DELETE");
  EXPECT_EQ(all[2].status, 404);
  EXPECT_EQ(all[2].request_bytes, 22u);
  EXPECT_EQ(all[2].response_bytes, 45u);
}

TEST(HttpConnection, KeepAliveManyExchanges) {
  Wire w;
  for (int i = 0; i < 100; ++i) {
    w.out(2 * i, "GET /n/" + std::to_string(i) + " HTTP/1.1\r\n\r\n");
    w.in(2 * i + 1, kOk);
  }
  const std::vector<Exchange> all = w.conn.take_exchanges();
  ASSERT_EQ(all.size(), 100u);
  EXPECT_EQ(all[57].target, "/n/57");
  EXPECT_EQ(all[57].start_ns, 114u);
  EXPECT_EQ(all[57].end_ns, 115u);
  EXPECT_EQ(all[57].role, Role::kClient);
}

TEST(HttpConnection, BodiesCountedBeyondWhatWasCaptured) {
  Wire w;
  // A 100,000-byte request body in the same syscall as the headers: 512 bytes seen, 16 at the end.
  const std::string headers = "POST /upload HTTP/1.1\r\nContent-Length: 100000\r\n\r\n";
  w.in(1, headers + std::string(100000, 'x'));
  // A 1 MB response body written in 4 syscalls after the headers.
  const std::string response_headers = "HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n";
  w.out(2, response_headers);
  for (int i = 0; i < 4; ++i) w.out(3 + i, std::string(250000, 'y'));
  const Exchange e = w.one();
  EXPECT_EQ(e.request_bytes, headers.size() + 100000);
  EXPECT_EQ(e.response_bytes, response_headers.size() + 1000000);
  EXPECT_EQ(e.end_ns, 6u);
  // The next exchange starts cleanly.
  w.in(7, kGet);
  w.out(8, kOk);
  EXPECT_EQ(w.one().start_ns, 7u);
}

TEST(HttpConnection, HeadShorterThanTheSyscall) {
  // The kernel could read only 30 bytes of a 60-byte syscall: the rest is counted, unseen.
  Wire w;
  w.in(1, kGet);
  const std::string response = "HTTP/1.1 200 OK\r\nContent-Length: 22\r\n\r\n" + std::string(22, 'b');
  ASSERT_EQ(response.size(), 61u);
  w.conn.on_chunk(Chunk{Direction::kEgress, 2, 61, std::string_view(response).substr(0, 39), {}});
  const Exchange e = w.one();
  EXPECT_EQ(e.response_bytes, 61u);
  EXPECT_EQ(e.status, 200);
}

TEST(HttpConnection, ChunkedResponseWithVisibleChunks) {
  Wire w;
  w.in(1, kGet);
  w.out(2, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n");
  w.out(3, "5\r\nhello\r\n");
  w.out(4, "1a;name=value\r\nabcdefghijklmnopqrstuvwxyz\r\n");
  EXPECT_TRUE(w.conn.take_exchanges().empty());
  w.out(5, "0\r\nX-Trailer: 1\r\n\r\n");
  const Exchange e = w.one();
  EXPECT_EQ(e.status, 200);
  EXPECT_EQ(e.end_ns, 5u);
  EXPECT_EQ(e.response_bytes, 53u + 10u + 43u + 19u);
}

// A request the kernel parsed, handed over with the interim response it had counted: the
// chunked response that follows is parsed here, then the connection's next requests.
TEST(HttpConnection, ARequestHandedOverGetsTheResponseThatFollows) {
  Wire w;
  Exchange request;
  request.role = Role::kServer;
  request.method = "POST";
  request.target = "/api/orders";
  request.start_ns = 1;
  request.request_bytes = 300;
  request.response_bytes = 25;  // "HTTP/1.1 100 Continue\r\n\r\n"
  w.conn.expect_response(request);
  EXPECT_EQ(w.conn.role(), Role::kServer);
  w.out(2, "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
  EXPECT_TRUE(w.conn.take_exchanges().empty());
  w.out(3, "0\r\n\r\n");
  Exchange e = w.one();
  EXPECT_EQ(e.method, "POST");
  EXPECT_EQ(e.target, "/api/orders");
  EXPECT_EQ(e.status, 201);
  EXPECT_EQ(e.start_ns, 1u);
  EXPECT_EQ(e.end_ns, 3u);
  EXPECT_EQ(e.request_bytes, 300u);
  EXPECT_EQ(e.response_bytes, 25u + 62u + 5u);
  w.in(4, kGet);
  w.out(5, kOk);
  EXPECT_EQ(w.one().target, "/users/42?x=1");
  EXPECT_FALSE(w.conn.gave_up());
  // Between exchanges (the kernel may take the connection back, and hand it over again).
  EXPECT_TRUE(w.conn.idle());
  request.response_bytes = 0;
  w.conn.expect_response(request);
  EXPECT_FALSE(w.conn.idle());
  w.out(6, kOk);
  e = w.one();
  EXPECT_EQ(e.target, "/api/orders");
  EXPECT_EQ(e.response_bytes, 43u);
  EXPECT_TRUE(w.conn.idle());
  // Handed over while a request waits for its response: it gives up rather than guess.
  w.in(7, kGet);
  EXPECT_FALSE(w.conn.idle());
  w.conn.expect_response(request);
  EXPECT_TRUE(w.conn.gave_up());
  EXPECT_FALSE(w.conn.idle());
}

TEST(HttpConnection, ARequestHandedOverInTheOtherRoleGivesUp) {
  Wire w;
  w.in(1, kGet);
  w.out(2, kOk);
  w.one();
  ASSERT_TRUE(w.conn.idle());
  Exchange request;
  request.role = Role::kClient;  // the connection serves
  request.method = "GET";
  w.conn.expect_response(request);
  EXPECT_TRUE(w.conn.gave_up());
}

TEST(HttpConnection, ChunkedDataCountedThroughUncapturedBytes) {
  // One syscall: a 1000-byte chunk and the last chunk. The data runs through the gap and the
  // tail shows its CRLF and the zero chunk: parsed exactly, no heuristic.
  Wire w;
  w.in(1, kGet);
  w.out(2, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
  const std::string body = "3e8\r\n" + std::string(1000, 'z') + "\r\n0\r\n\r\n";
  w.out(3, body);
  const Exchange e = w.one();
  EXPECT_EQ(e.response_bytes, 47u + body.size());
  EXPECT_EQ(e.end_ns, 3u);
}

TEST(HttpConnection, ChunkedResponseOfAWritevWithAShortTail) {
  // nginx's writev of a gzip'd body: its head and the chunk-size line captured (the first two
  // buffers), the chunk's data not, and its last buffer, "\r\n0\r\n\r\n", as the tail.
  Wire w;
  w.in(1, kGet);
  const std::string head =
      "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Mon, 07 Dec 2026 11:41:09 GMT\r\nContent-Type: "
      "text/plain\r\nLast-Modified: Mon, 07 Dec 2026 11:39:42 GMT\r\nTransfer-Encoding: chunked\r\nConnection: "
      "keep-alive\r\nETag: W/\"6b169afe-186a0\"\r\nContent-Encoding: gzip\r\n\r\n1d9\r\n";
  const std::string last = "\r\n0\r\n\r\n";
  const uint64_t size = head.size() + 473 + last.size();
  w.conn.on_chunk(Chunk{Direction::kEgress, 2, size, head, last});
  const Exchange e = w.one();
  EXPECT_EQ(e.response_bytes, size);
  w.in(3, kGet);  // in step: the next exchange parses
  w.out(4, kOk);
  EXPECT_EQ(w.one().response_bytes, 43u);
}

TEST(HttpConnection, ChunkedResponseEndSeenOnlyInTheTail) {
  // Three 1000-byte chunks and the last chunk in one syscall: the second chunk-size line is not
  // captured, so only the tail's "\r\n0\r\n\r\n" says the body ended (the heuristic).
  Wire w;
  w.in(1, kGet);
  std::string response = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 3; ++i) response += "3e8\r\n" + std::string(1000, 'a' + i) + "\r\n";
  response += "0\r\n\r\n";
  w.out(2, response);
  const Exchange e = w.one();
  EXPECT_EQ(e.response_bytes, response.size());
  EXPECT_EQ(e.response_bytes, 47u + 3 * 1007 + 5);
  // Still in step: the next exchange parses.
  w.in(3, kGet);
  w.out(4, kOk);
  EXPECT_EQ(w.one().response_bytes, 43u);
}

TEST(HttpConnection, ChunkedBlindUntilALaterSyscallEndsWithTheZeroChunk) {
  Wire w;
  w.in(1, kGet);
  w.out(2, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
  std::string chunks;
  for (int i = 0; i < 3; ++i) chunks += "3e8\r\n" + std::string(1000, 'q') + "\r\n";
  w.out(3, chunks);  // framing lost in the gap, no end in the tail
  w.out(4, chunks);
  EXPECT_TRUE(w.conn.take_exchanges().empty());
  w.out(5, "0\r\n\r\n");
  const Exchange e = w.one();
  EXPECT_EQ(e.response_bytes, 47u + 2 * chunks.size() + 5);
  EXPECT_EQ(e.end_ns, 5u);
}

TEST(HttpConnection, ChunkedBlindWithTrailersNeverEnds) {
  // The heuristic cannot see the end; the exchange is not reported rather than mis-measured.
  Wire w;
  w.in(1, kGet);
  std::string response = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 3; ++i) response += "3e8\r\n" + std::string(1000, 'a') + "\r\n";
  response += "0\r\nChecksum: 1234\r\n\r\n";
  w.out(2, response);
  w.conn.on_close(3);
  EXPECT_TRUE(w.conn.take_exchanges().empty());
  EXPECT_FALSE(w.conn.gave_up());
}

TEST(HttpConnection, ChunkedRequestBody) {
  Wire w;
  const std::string request = "POST /p HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
  w.out(1, request);
  w.in(2, kOk);
  const Exchange e = w.one();
  EXPECT_EQ(e.method, "POST");
  EXPECT_EQ(e.request_bytes, request.size());
}

TEST(HttpConnection, HeadResponseHasNoBody) {
  Wire w;
  w.in(1, "HEAD /file HTTP/1.1\r\n\r\n");
  w.out(2, "HTTP/1.1 200 OK\r\nContent-Length: 123456\r\n\r\n");
  const Exchange e = w.one();
  EXPECT_EQ(e.method, "HEAD");
  EXPECT_EQ(e.response_bytes, 43u);
  w.in(3, kGet);
  w.out(4, kOk);
  EXPECT_EQ(w.one().status, 200);
}

TEST(HttpConnection, NoBodyFor204And304) {
  Wire w;
  w.in(1, kGet);
  w.out(2, "HTTP/1.1 204 No Content\r\n\r\n");
  EXPECT_EQ(w.one().response_bytes, 27u);
  w.in(3, kGet);
  w.out(4, "HTTP/1.1 304 Not Modified\r\nContent-Length: 5000\r\nETag: \"x\"\r\n\r\n");
  const Exchange e = w.one();
  EXPECT_EQ(e.status, 304);
  EXPECT_EQ(e.response_bytes, 62u);
}

TEST(HttpConnection, InterimResponsesCountButDoNotEnd) {
  Wire w;
  w.out(1, "POST /big HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n");
  w.in(2, "HTTP/1.1 100 Continue\r\n\r\n");
  w.out(3, "data");
  w.in(4, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
  const Exchange e = w.one();
  EXPECT_EQ(e.status, 201);
  EXPECT_EQ(e.request_bytes, 63u + 4u);
  EXPECT_EQ(e.response_bytes, 25u + 43u);
  EXPECT_EQ(e.end_ns, 4u);
}

TEST(HttpConnection, CloseDelimitedResponse) {
  Wire w;
  w.out(1, "GET /old HTTP/1.0\r\n\r\n");
  w.in(2, "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n");
  w.in(3, std::string(700, 'x'));
  w.in(4, "end");
  EXPECT_TRUE(w.conn.take_exchanges().empty());
  w.conn.on_close(9);
  const Exchange e = w.one();
  EXPECT_EQ(e.status, 200);
  EXPECT_EQ(e.end_ns, 4u);  // the last byte's chunk, not the close
  EXPECT_EQ(e.response_bytes, 45u + 700u + 3u);
  EXPECT_TRUE(w.conn.closed());
}

TEST(HttpConnection, ConnectionCloseWithoutLengthAndNonChunkedCoding) {
  Wire w;
  w.in(1, kGet);
  w.out(2, "HTTP/1.1 200 OK\r\nConnection: close\r\nTransfer-Encoding: gzip\r\n\r\n");
  w.out(3, "zzzz");
  w.conn.on_close(4);
  const Exchange e = w.one();
  EXPECT_EQ(e.response_bytes, 63u + 4u);
}

TEST(HttpConnection, ExchangesWaitingAtCloseAreDropped) {
  Wire w;
  w.in(1, kGet);
  w.out(2, kOk);
  w.in(3, kGet);  // never answered
  w.conn.on_close(4);
  EXPECT_EQ(w.conn.take_exchanges().size(), 1u);
  w.in(5, kGet);  // after the close: ignored
  EXPECT_TRUE(w.conn.take_exchanges().empty());
}

TEST(HttpConnection, MethodsOutsideTheStandardSetAreOther) {
  Wire w;
  w.in(1, "PROPFIND /dav HTTP/1.1\r\n\r\n");
  w.out(2, kOk);
  const Exchange e = w.one();
  EXPECT_EQ(e.method, "_OTHER");
  EXPECT_EQ(e.target, "/dav");
  for (const char* m : {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"}) {
    EXPECT_EQ(method_name(m), m);
  }
  EXPECT_EQ(method_name("get"), "_OTHER");
}

TEST(HttpConnection, LooksLikeHttp) {
  for (const char* s :
       {"GET / HTTP/1.1", "POST /x", "PATCH /", "OPTIONS *", "HTTP/1.1 200 OK", "HTTP/1.0 "}) {
    EXPECT_TRUE(looks_like_http(s)) << s;
  }
  for (const char* s :
       {"", "GET", "GET/", "get / HTTP/1.1", "HTTP/2 200", "PRI * HTTP/2.0", "\x16\x03\x01", "GE"}) {
    EXPECT_FALSE(looks_like_http(s)) << s;
  }
}

TEST(HttpConnection, SwitchingProtocolsEndsTheParse) {
  Wire w;
  w.in(1, "GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
  w.out(2, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n");
  const Exchange e = w.one();
  EXPECT_EQ(e.status, 101);
  EXPECT_TRUE(w.conn.upgraded());
  w.in(3, "\x81\x85garbage");
  EXPECT_FALSE(w.conn.gave_up());
  EXPECT_TRUE(w.conn.take_exchanges().empty());
}

TEST(HttpConnection, ConnectTunnel) {
  Wire w;
  w.out(1, "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
  w.in(2, "HTTP/1.1 200 Connection Established\r\n\r\n");
  const Exchange e = w.one();
  EXPECT_EQ(e.method, "CONNECT");
  EXPECT_EQ(e.target, "example.com:443");
  EXPECT_TRUE(w.conn.upgraded());
}

}  // namespace
}  // namespace waggle::http
