// The agent's event history (what `waggle observe` reads) and observe's filters and text.
#include <gtest/gtest.h>

#include "cli/event_history.hpp"
#include "cli/observe_command.hpp"

namespace waggle {
namespace {

using nlohmann::json;

TEST(EventHistory, GivesTheEventsAfterASequenceNumberAndSaysWhatWasDropped) {
  EventHistory h;
  EXPECT_EQ(h.handle("observe 0\n"), "ok\nlast 0 dropped 0\n");
  h.add("{\"n\":1}\n");
  h.add("{\"n\":2}");
  h.add("{\"n\":3}\n");
  EXPECT_EQ(h.handle("observe 0\n"), "ok\nlast 3 dropped 0\n{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n");
  EXPECT_EQ(h.handle("observe 2\n"), "ok\nlast 3 dropped 0\n{\"n\":3}\n");
  EXPECT_EQ(h.handle("observe 3\n"), "ok\nlast 3 dropped 0\n");
  EXPECT_EQ(h.handle("observe x\n"), "error\nobserve: expected the sequence number to read after, got \"x\"\n");
  // The newest MAX, and only some types.
  EXPECT_EQ(h.handle("observe 0 2\n"), "ok\nlast 3 dropped 0\n{\"n\":2}\n{\"n\":3}\n");
  EXPECT_EQ(h.handle("observe 1 y\n"), "error\nobserve: expected how many events at most, got \"y\"\n");
  // Past the newest: nothing (no wrap-around into old slots).
  EXPECT_EQ(h.handle("observe 7\n"), "ok\nlast 3 dropped 0\n");
  EXPECT_EQ(h.handle("observe 18446744073709551615\n"), "ok\nlast 3 dropped 0\n");
  for (size_t i = 4; i <= EventHistory::kMaxEvents + 5; i++) h.add("{\"n\":" + std::to_string(i) + "}");
  EXPECT_EQ(h.size(), EventHistory::kMaxEvents);
  // The oldest five left: a reader that had seen event 3 missed events 4 and 5.
  std::string reply = h.handle("observe 3\n");
  EXPECT_EQ(reply.substr(0, reply.find("\n{")), "ok\nlast 10005 dropped 2");
  EXPECT_EQ(reply.substr(reply.find('{'), 8), "{\"n\":6}\n");
}

TEST(EventHistory, KeepsOnlyTheTypesAsked) {
  EventHistory h;
  h.add("{\"time\":\"t\",\"type\":\"file.open\",\"path\":\"\\\"type\\\":\\\"dns.query\\\"\"}");
  h.add("{\"time\":\"t\",\"type\":\"http.request\"}");
  h.add("{\"time\":\"t\",\"type\":\"dns.query\"}");
  EXPECT_EQ(h.handle("observe 0 100 http.request,dns.query"),
            "ok\nlast 3 dropped 0\n{\"time\":\"t\",\"type\":\"http.request\"}\n{\"time\":\"t\",\"type\":\"dns.query\"}\n");
}

TEST(EventHistory, KeepsWithinItsByteBound) {
  EventHistory h;
  const std::string big(1 << 20, 'x');
  for (int i = 0; i < 20; i++) h.add(big);
  EXPECT_EQ(h.size(), EventHistory::kMaxBytes / big.size());
}

TEST(EventHistory, KeepsALineThatWrapsRoundItsByteRingWhole) {
  EventHistory h;
  h.add(std::string(EventHistory::kMaxBytes - 10, 'x'));  // the next line starts 10 bytes before the end
  const std::string wrapped = "{\"time\":\"t\",\"type\":\"http.request\",\"n\":2}";
  h.add(wrapped);
  h.add("{\"time\":\"t\",\"type\":\"dns.query\",\"n\":3}");
  // The first line made room for the others; the second is read back across the ring's end.
  EXPECT_EQ(h.size(), 2u);
  EXPECT_EQ(h.handle("observe 1 100 http.request"), "ok\nlast 3 dropped 0\n" + wrapped + "\n");
  EXPECT_EQ(h.handle("observe 0"), "ok\nlast 3 dropped 1\n" + wrapped + "\n{\"time\":\"t\",\"type\":\"dns.query\",\"n\":3}\n");
}

TEST(EventHistory, CountsALineLongerThanItsByteBoundAsDropped) {
  EventHistory h;
  h.add("{\"n\":1}");
  h.add(std::string(EventHistory::kMaxBytes + 1, 'x'));
  h.add("{\"n\":3}");
  EXPECT_EQ(h.handle("observe 0"), "ok\nlast 3 dropped 1\n{\"n\":1}\n{\"n\":3}\n");
  EXPECT_EQ(h.handle("observe 2"), "ok\nlast 3 dropped 0\n{\"n\":3}\n");
}

const char* kHttp =
    R"({"time":"2026-12-06T10:00:00.5Z","type":"http.request","process":{"pid":42,"comm":"nginx","binary":"/usr/sbin/nginx","container_id":"abc123ff"},"role":"server","method":"GET","target":"/x","status":404,"duration_ns":1500000,"local":{"address":"127.0.0.1","port":80},"remote":{"address":"::1","port":5000}})";
const char* kPolicy =
    R"({"time":"2026-12-06T10:00:01Z","type":"policy.match","process":{"pid":7,"comm":"sh","binary":"/bin/sh","container_id":null},"policy":"p","rule":"r","action":"kill","outcome":"killed"})";

TEST(ObserveFilter, EachFilterKeepsWhatItNames) {
  auto keeps = [&](const ObserveFilter& f, const char* line) { return f.matches(json::parse(line), line); };
  ObserveFilter all;
  EXPECT_TRUE(keeps(all, kHttp));
  EXPECT_TRUE(keeps(all, kPolicy));
  ObserveFilter f;
  f.types = {"policy.match", "dns.query"};
  EXPECT_FALSE(keeps(f, kHttp));
  EXPECT_TRUE(keeps(f, kPolicy));
  f = {};
  f.pid = 42;
  EXPECT_TRUE(keeps(f, kHttp));
  EXPECT_FALSE(keeps(f, kPolicy));
  f = {};
  f.process = "nginx";  // the executable's name
  EXPECT_TRUE(keeps(f, kHttp));
  f.process = "sh";     // a comm
  EXPECT_FALSE(keeps(f, kHttp));
  EXPECT_TRUE(keeps(f, kPolicy));
  f = {};
  f.container = "abc1";
  EXPECT_TRUE(keeps(f, kHttp));
  EXPECT_FALSE(keeps(f, kPolicy));
  f = {};
  f.port = 5000;
  EXPECT_TRUE(keeps(f, kHttp));
  f.port = 5001;
  EXPECT_FALSE(keeps(f, kHttp));
  f = {};
  f.status = 404;
  EXPECT_TRUE(keeps(f, kHttp));
  f.status = 200;
  EXPECT_FALSE(keeps(f, kHttp));
  EXPECT_FALSE(keeps(f, kPolicy));
  f = {};
  f.verdict = "killed";
  EXPECT_TRUE(keeps(f, kPolicy));
  EXPECT_FALSE(keeps(f, kHttp));
  f = {};
  f.text = "\"rule\":\"r\"";
  EXPECT_TRUE(keeps(f, kPolicy));
  EXPECT_FALSE(keeps(f, kHttp));
}

// Fields of another type than expected (an agent of another version) neither match nor crash.
TEST(ObserveFilter, UnexpectedShapesAreNotMatchesNorCrashes) {
  const std::string odd = R"({"type":5,"process":"x","status":"404","local":[1],"outcome":{}})";
  const json e = json::parse(odd);
  ObserveFilter f;
  f.pid = 1;
  EXPECT_FALSE(f.matches(e, odd));
  f = {};
  f.port = 1;
  EXPECT_FALSE(f.matches(e, odd));
  f = {};
  f.status = 404;
  EXPECT_FALSE(f.matches(e, odd));
  f = {};
  f.verdict = "killed";
  EXPECT_FALSE(f.matches(e, odd));
  f = {};
  f.process = "x";
  EXPECT_FALSE(f.matches(e, odd));
  EXPECT_EQ(observe_text(json::parse(R"({"type":"http.request","time":1})")),
            "1 http.request -    ->  in 0.000 ms, ? -> ?");
  EXPECT_FALSE(ObserveFilter().matches(json::parse("[1]"), "[1]"));
  EXPECT_EQ(observe_text(json::parse("[1]")), "  - [1]");
}

TEST(ObserveText, OneLinePerEvent) {
  EXPECT_EQ(observe_text(json::parse(kHttp)),
            "2026-12-06T10:00:00.5Z http.request nginx[42] server GET /x -> 404 in 1.500 ms, 127.0.0.1:80 <- "
            "[::1]:5000");
  EXPECT_EQ(observe_text(json::parse(kPolicy)), "2026-12-06T10:00:01Z policy.match sh[7] p/r kill -> killed");
}

}  // namespace
}  // namespace waggle
