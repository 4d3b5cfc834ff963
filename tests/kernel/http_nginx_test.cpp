// HTTP request metrics against a real nginx, real curl and wrk: per route, method and status,
// the counts in /metrics equal what nginx's access log says it served.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <functional>
#include <regex>
#include <thread>

#include "agent_runner.hpp"
#include "test_servers.hpp"

namespace waggle::test {
namespace {

class HttpNginxTest : public ::testing::Test {
 protected:
  void SetUp() override { skip_unless_bpf(); }

  // The agent with the network sensor and its metrics on a free port. Its output is not rotated
  // during a test (wrk's requests are well over 100 MiB of events).
  // `network`: the network sensor's settings, if any (e.g. "{ports: [8080]}"); `disabled`:
  // kernel features to do without (WAGGLE_DISABLE_FEATURES).
  std::unique_ptr<AgentRun> start_agent(const std::string& network = "", const std::string& disabled = "") {
    metrics_port_ = free_port();
    std::string config = dir_.file("config.yaml",
                                   "output: {rotate: {max_size: 4GiB}}\nsensors:\n  file: {enabled: false}\n" +
                                       (network.empty() ? std::string() : "  network: " + network + "\n") +
                                   "metrics: {address: 127.0.0.1:" +
                                       std::to_string(metrics_port_) + "}\n");
    return std::make_unique<AgentRun>(std::vector<std::string>{"run", "--config", config},
                                      std::vector<std::string>{"WAGGLE_DISABLE_FEATURES=" + disabled});
  }

  // Runs `check` against an agent started with `network`, twice: with socket data from the
  // socket tracepoints, and from the syscalls' exits.
  void from_both_hooks(const std::string& network, const std::function<void()>& check) {
    for (std::string disabled : {"", "socket tracepoints"}) {
      SCOPED_TRACE(disabled);
      auto agent = start_agent(network, disabled);
      ASSERT_TRUE(agent->ready()) << agent->stderr_text();
      check();
      ASSERT_EQ(agent->stop(), 0) << agent->stderr_text();
    }
  }

  Spawned curl(std::vector<std::string> args) {
    args.insert(args.begin(), {"/usr/bin/curl", "-s", "-S"});
    return spawn(args);
  }

  std::string url(const Nginx& nginx, const std::string& path) {
    return "http://127.0.0.1:" + std::to_string(nginx.port()) + path;
  }

  // Requests of many routes, methods and statuses to nginx, from curl (returns how many) and from wrk (1 s, two connections): keep-alive and not, 404s, bodies sent after
  // 100-continue, a large static file (sent with sendfile; `big` is the curl that fetched it),
  // HEAD. curl and wrk run as 8 processes.
  int mixed_traffic(const Nginx& nginx, Spawned* big);
  // mixed_traffic, then the metrics page (in `page`) once the server histogram counts what
  // nginx logged (nginx may still finish the last requests wrk left, and an exchange is counted
  // once its last response byte is seen): checks that it does, and that curl's client histogram
  // counts its requests. Returns what nginx logged, by "METHOD ROUTE STATUS".
  std::map<std::string, double> counted_as_served(const Nginx& nginx, Spawned* big, std::string* page);

  TempDir dir_;
  int metrics_port_ = 0;
};

// What the route of a URI nginx logged should be: IDs collapse, words stay.
std::string expected_route(const std::string& uri) {
  static const std::regex kUser("^/users/[^/]+$");
  return std::regex_match(uri, kUser) ? "/users/{id}" : uri;
}

// "METHOD ROUTE STATUS" -> requests, from nginx's access log (its lines from `from` on).
std::map<std::string, double> served(const Nginx& nginx, size_t from = 0) {
  std::map<std::string, double> counts;
  const auto log = nginx.access_log();
  for (size_t i = from; i < log.size(); i++) {
    std::istringstream in(log[i]);
    std::string method, uri, status;
    in >> method >> uri >> status;
    counts[method + " " + expected_route(uri) + " " + status]++;
  }
  return counts;
}

// The same from the agent's server histogram for nginx.
std::map<std::string, double> measured(const std::string& page) {
  std::map<std::string, double> counts;
  for (auto& [labels, value] :
       samples(page, "http_server_request_duration_seconds_count", {{"service_name", "nginx"}})) {
    counts[labels.at("http_request_method") + " " + labels.at("http_route") + " " +
           labels.at("http_response_status_code")] += value;
  }
  return counts;
}

double total(const std::map<std::string, double>& counts) {
  double sum = 0;
  for (auto& [k, v] : counts) sum += v;
  return sum;
}

// A counter the agent exports without labels, waiting up to 3 s for it to reach `at_least`
// (counters are read once a second).
double counter(int metrics_port, const std::string& name, double at_least) {
  double value = -1;
  for (int i = 0; i < 30; i++) {
    auto found = samples(http_get(metrics_port, "/metrics"), name);
    value = found.size() == 1 ? found.begin()->second : -1;
    if (value >= at_least) break;
    usleep(100000);
  }
  return value;
}

// Waits until the server histogram of nginx counts `n` requests; returns the page.
std::string wait_for_requests(int metrics_port, double n) {
  std::string page;
  for (int i = 0; i < 50 && total(measured(page)) < n; i++) {
    usleep(100000);
    page = http_get(metrics_port, "/metrics");
  }
  usleep(300000);  // anything beyond would show now
  return http_get(metrics_port, "/metrics");
}

double client_requests(const std::string& page, const std::string& service) {
  double seen = 0;
  for (auto& [labels, value] : samples(page, "http_client_request_duration_seconds_count", {{"service_name", service}}))
    seen += value;
  return seen;
}

int HttpNginxTest::mixed_traffic(const Nginx& nginx, Spawned* big) {
  std::string body = dir_.file("body.bin", std::string(2000, 'p'));
  int curl_requests = 0;
  // Three requests on one keep-alive connection: IDs and a UUID in paths.
  Spawned keepalive =
      curl({"-o", "/dev/null", "-o", "/dev/null", "-o", "/dev/null", url(nginx, "/"), url(nginx, "/users/42"),
            url(nginx, "/users/9a3b5c7d-1234-4abc-8def-0123456789ab")});
  curl_requests += 3;
  EXPECT_EQ(WEXITSTATUS(keepalive.status), 0);
  EXPECT_EQ(WEXITSTATUS(curl({"-o", "/dev/null", url(nginx, "/missing/page")}).status), 0);
  EXPECT_EQ(WEXITSTATUS(curl({"-o", "/dev/null", url(nginx, "/missing/page?x=1")}).status), 0);
  curl_requests += 2;
  for (int i = 0; i < 2; i++) {  // 2000 bytes: curl asks for 100-continue first
    EXPECT_EQ(
        WEXITSTATUS(curl({"-o", "/dev/null", "--data-binary", "@" + body, url(nginx, "/api/orders")}).status),
        0);
    curl_requests++;
  }
  *big = curl({"-o", "/dev/null", "-w", "%{size_download} %{size_header}", url(nginx, "/static/big.bin")});
  curl_requests++;
  EXPECT_EQ(WEXITSTATUS(curl({"-o", "/dev/null", "-I", url(nginx, "/")}).status), 0);  // HEAD
  curl_requests++;
  Spawned wrk = spawn({"/usr/bin/wrk", "-t1", "-c2", "-d1s", url(nginx, "/users/7")});
  EXPECT_EQ(WEXITSTATUS(wrk.status), 0) << wrk.out;
  return curl_requests;
}

std::map<std::string, double> HttpNginxTest::counted_as_served(const Nginx& nginx, Spawned* big, std::string* page) {
  const int curl_requests = mixed_traffic(nginx, big);
  for (int i = 0; i < 100; i++) {
    usleep(100000);
    *page = http_get(metrics_port_, "/metrics");
    if (i > 3 && measured(*page) == served(nginx)) break;
  }
  std::map<std::string, double> expected = served(nginx);
  EXPECT_GT(total(expected), 100) << "wrk should have made many requests";
  EXPECT_EQ(measured(*page), expected);
  EXPECT_EQ(client_requests(*page, "curl"), curl_requests);  // curl's own requests, as a client
  return expected;
}

TEST_F(HttpNginxTest, CountsPerRouteMethodAndStatusEqualNginxsAccessLog) {
  Nginx nginx(dir_);
  auto agent = start_agent();
  ASSERT_TRUE(agent->ready()) << agent->stderr_text();
  Spawned big;
  std::string page;
  std::map<std::string, double> expected = counted_as_served(nginx, &big, &page);
  ASSERT_EQ(agent->stop(), 0) << agent->stderr_text();

  // The large static file went by sendfile: its bytes are counted all the same.
  std::istringstream sizes(big.out);
  uint64_t body_bytes = 0, header_bytes = 0;
  sizes >> body_bytes >> header_bytes;
  ASSERT_EQ(body_bytes, 100000u);
  int matched = 0;
  for (auto& e : agent->events()) {
    if (e["type"] != "http.request" || e["target"] != "/static/big.bin") continue;
    matched++;
    EXPECT_EQ(e["status"], 200);
    EXPECT_EQ(e["response_bytes"], body_bytes + header_bytes) << e.dump();
    EXPECT_GT(e["duration_ns"].get<uint64_t>(), 0u);
    EXPECT_LT(e["duration_ns"].get<uint64_t>(), 5'000'000'000u);
  }
  EXPECT_EQ(matched, 2);  // nginx's view and curl's
  // A target of at most 32 bytes comes in a short record, a longer one in a whole record: both
  // exactly, at both ends.
  for (std::string target : {"/users/42", "/users/9a3b5c7d-1234-4abc-8def-0123456789ab"}) {
    int seen = 0;
    for (auto& e : agent->events())
      if (e["type"] == "http.request" && e["target"] == target && e["status"] == 200) seen++;
    EXPECT_EQ(seen, 2) << target;
  }
  EXPECT_EQ(agent->final_stats()["lost"], 0);
}

// Without events the kernel counts the exchanges it parses itself (nothing is posted for them),
// to the same counts; each histogram's buckets add up to its count. The tallies of curl's
// processes, once they are gone, are read a last time and removed.
TEST_F(HttpNginxTest, TalliedInTheKernelTheCountsEqualNginxsAccessLog) {
  Nginx nginx(dir_);
  auto agent = start_agent("{http_events: none}");
  ASSERT_TRUE(agent->ready()) << agent->stderr_text();
  Spawned big;
  std::string page;
  std::map<std::string, double> expected = counted_as_served(nginx, &big, &page);
  // Both ends of nearly every exchange were tallied; none was posted for want of room.
  const double most = 2 * total(expected) - 20;
  EXPECT_GE(counter(metrics_port_, "waggle_http_exchanges_tallied_total", most), most);
  EXPECT_EQ(counter(metrics_port_, "waggle_http_tallies_full_total", 0), 0);
  // On loopback nearly every exchange takes under 5 ms: the first bucket (as every one would be
  // in +Inf were the kernel's bounds unset).
  double fast = 0;
  for (auto& [labels, n] : samples(page, "http_server_request_duration_seconds_bucket",
                                   {{"service_name", "nginx"}, {"le", "0.005"}}))
    fast += n;
  EXPECT_GT(fast, 0.9 * total(expected));
  for (const char* side : {"server", "client"}) {
    SCOPED_TRACE(side);
    std::string family = std::string("http_") + side + "_request_duration_seconds";
    auto counts = samples(page, family + "_count");
    ASSERT_FALSE(counts.empty());
    for (auto& [labels, count] : counts) {
      auto with_inf = labels;
      with_inf["le"] = "+Inf";
      auto inf = samples(page, family + "_bucket", with_inf);
      ASSERT_EQ(inf.size(), 1u);
      EXPECT_EQ(inf.begin()->second, count);
      auto sum = samples(page, family + "_sum", labels);
      ASSERT_EQ(sum.size(), 1u);
      EXPECT_GT(sum.begin()->second, 0);
      EXPECT_LT(sum.begin()->second, count);  // each exchange well under a second
    }
  }
  // curl and wrk ran as 8 processes, each with a tally at least: each one's tallies go once it
  // is gone (they are read once a second), and the counts stay.
  const double curl_seen = client_requests(page, "curl");  // checked against curl's count above
  EXPECT_GE(counter(metrics_port_, "waggle_http_tallies_removed_total", 8), 8);
  page = http_get(metrics_port_, "/metrics");
  EXPECT_EQ(measured(page), expected);
  EXPECT_EQ(client_requests(page, "curl"), curl_seen);
  EXPECT_EQ(counter(metrics_port_, "waggle_http_tallies_unnamed_total", 0), 0);
  EXPECT_EQ(counter(metrics_port_, "waggle_http_tally_reads_failed_total", 0), 0);
  ASSERT_EQ(agent->stop(), 0) << agent->stderr_text();
  for (auto& e : agent->events()) EXPECT_NE(e["type"], "http.request") << e.dump();
  EXPECT_EQ(agent->final_stats()["lost"], 0);
}
TEST_F(HttpNginxTest, MalformedRequestsNeitherStopTheAgentNorMislabelOthers) {
  Nginx nginx(dir_);
  auto agent = start_agent();
  ASSERT_TRUE(agent->ready()) << agent->stderr_text();
  std::string port = std::to_string(nginx.port());
  const std::vector<std::string> garbage = {
      "GARBAGE \x01\x02\x7f nonsense\r\n\r\n",
      "GET /users/1 HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
      "POST /api/orders HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n",
      "GET /users/2 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
      "GET \xff\xfe HTTP/9.9\r\n\r\n",
      "HTTP/1.1 200 OK\r\n\r\n",
  };
  for (int round = 0; round < 3; round++) {
    for (const std::string& bytes : garbage) spawn({helper_path(), "tcp-send", port, bytes});
    EXPECT_EQ(WEXITSTATUS(curl({"-o", "/dev/null", url(nginx, "/users/5")}).status), 0);
  }
  std::string page;
  for (int i = 0; i < 50 && total(measured(page)) < 3; i++) {
    usleep(100000);
    page = http_get(metrics_port_, "/metrics");
  }
  usleep(300000);
  page = http_get(metrics_port_, "/metrics");
  EXPECT_EQ(measured(page), (std::map<std::string, double>{{"GET /users/{id} 200", 3}}));
  // The connections it could not parse exactly were given up, and counted (the agent reads its
  // counters once a second).
  for (int i = 0; i < 30 && samples(page, "waggle_http_connections_abandoned_total").begin()->second < 3;
       i++) {
    usleep(100000);
    page = http_get(metrics_port_, "/metrics");
  }
  auto abandoned = samples(page, "waggle_http_connections_abandoned_total");
  ASSERT_EQ(abandoned.size(), 1u);
  EXPECT_GE(abandoned.begin()->second, 3);
  ASSERT_EQ(agent->stop(), 0) << agent->stderr_text();  // alive until asked to stop
  EXPECT_EQ(agent->final_stats()["lost"], 0);
}

TEST_F(HttpNginxTest, PipelinedSplitAndOlderKeepAliveConnectionsAreCounted) {
  Nginx nginx(dir_);
  std::string port = std::to_string(nginx.port());
  // A keep-alive connection with three requests before the agent starts, four after.
  std::string go = dir_.path() + "/go";
  Spawned older;
  std::thread client([&] { older = spawn({helper_path(), "http-keepalive", port, "3", "4", go}); });
  for (int i = 0; i < 100 && nginx.access_log().size() < 3; i++) usleep(50000);
  auto agent = start_agent("{ports: [" + port + "]}");  // the kernel's counters: nginx's traffic only
  ASSERT_TRUE(agent->ready()) << agent->stderr_text();
  dir_.file("go");
  client.join();
  ASSERT_EQ(WEXITSTATUS(older.status), 0);
  // Two requests in one write, then one split inside its method and its headers.
  Spawned pipelined =
      spawn({helper_path(), "tcp-send", port,
             "GET /users/1 HTTP/1.1\r\nHost: x\r\n\r\nGET /users/2 HTTP/1.1\r\nHost: x\r\n\r\n", "GET /us",
             "ers/3 HTTP/1.1\r\nHo", "st: x\r\nConnection: close\r\n\r\n"});
  ASSERT_EQ(WEXITSTATUS(pipelined.status), 0);
  std::string page = wait_for_requests(metrics_port_, 7);
  EXPECT_EQ(measured(page), (std::map<std::string, double>{{"GET /users/{id} 200", 7}}));
  auto client_side = samples(page, "http_client_request_duration_seconds_count",
                             {{"service_name", "waggle_test_helper"}, {"http_route", "/users/{id}"}});
  double seen = 0;
  for (auto& [labels, v] : client_side) seen += v;
  EXPECT_EQ(seen, 7);  // 4 from the older connection, 3 from the pipelined one
  // The older connection's exchanges were parsed in the kernel (both ends); the pipelined one
  // went to user space's parser at its first call, at both ends.
  EXPECT_EQ(counter(metrics_port_, "waggle_http_exchanges_kernel_total", 8), 8);
  // Handed over twice; had the agent offered nginx's end back in a pause of the split request,
  // the kernel took it back at "GET /us" and handed it over again at once (nothing else follows).
  const double returned = counter(metrics_port_, "waggle_http_connections_returned_total", 0);
  EXPECT_EQ(counter(metrics_port_, "waggle_http_connections_captured_total", 2 + returned), 2 + returned);
  ASSERT_EQ(agent->stop(), 0) << agent->stderr_text();
}

// One keep-alive connection, paced (the agent reads its records at least every 100 ms): two
// requests in one write (the second with `extra` header lines), then two more, each request's
// answer read 400 ms after it and the next request sent 400 ms later.
Spawned paced_client(const std::string& port, const std::string& extra) {
  return spawn({helper_path(), "tcp-send-paced", port, "400",
                "GET /users/1 HTTP/1.1\r\nHost: x\r\n\r\nGET /users/2 HTTP/1.1\r\nHost: x\r\n" + extra + "\r\n",
                "GET /users/3 HTTP/1.1\r\nHost: x\r\n\r\n", "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"});
}

// A connection handed to user space (two requests in one write) goes back to the kernel's
// parser once user space has parsed its exchanges, at both ends: the next requests on it are
// parsed in the kernel.
TEST_F(HttpNginxTest, ACapturedConnectionGoesBackToTheKernelBetweenExchanges) {
  Nginx nginx(dir_);
  std::string port = std::to_string(nginx.port());
  // Without events the kernel tallies what it parses, but posts a connection's first exchange
  // after it was given back (user space learns from it that the kernel parses it again).
  for (std::string events : {"all", "none"}) {
    SCOPED_TRACE(events);
    from_both_hooks("{ports: [" + port + "], http_events: " + events + "}", [&] {
      Spawned client = paced_client(port, "");
      ASSERT_EQ(WEXITSTATUS(client.status), 0);
      std::string page = wait_for_requests(metrics_port_, 4);
      EXPECT_EQ(measured(page), (std::map<std::string, double>{{"GET /users/{id} 200", 3}, {"GET / 200", 1}}));
      EXPECT_EQ(client_requests(page, "waggle_test_helper"), 4);
      // Captured at its first call at both ends, given back at both ends, the last two exchanges
      // parsed in the kernel at both ends.
      const double tallied = events == "none" ? 2 : 0;
      EXPECT_EQ(counter(metrics_port_, "waggle_http_connections_captured_total", 2), 2);
      EXPECT_EQ(counter(metrics_port_, "waggle_http_connections_returned_total", 2), 2);
      EXPECT_EQ(counter(metrics_port_, "waggle_http_exchanges_tallied_total", tallied), tallied);
      EXPECT_EQ(counter(metrics_port_, "waggle_http_exchanges_kernel_total", 4 - tallied), 4 - tallied);
      EXPECT_EQ(counter(metrics_port_, "waggle_http_connections_abandoned_total", 0), 0);
    });
  }
}

// A connection user space's parser gave up on (a control character in a header value, which
// nginx lets through) is quieted: the kernel posts nothing more of it, at both ends.
TEST_F(HttpNginxTest, ACapturedConnectionUserSpaceGaveUpOnIsNoLongerPosted) {
  Nginx nginx(dir_);
  std::string port = std::to_string(nginx.port());
  from_both_hooks("{ports: [" + port + "]}", [&] {
    size_t logged = nginx.access_log().size();
    Spawned client = paced_client(port, "X: a\x01b\r\n");
    ASSERT_EQ(WEXITSTATUS(client.status), 0);
    EXPECT_EQ(served(nginx, logged),
              (std::map<std::string, double>{{"GET /users/{id} 200", 3}, {"GET / 200", 1}}));
    EXPECT_EQ(counter(metrics_port_, "waggle_http_connections_quieted_total", 2), 2);
    EXPECT_EQ(counter(metrics_port_, "waggle_http_connections_abandoned_total", 2), 2);
    EXPECT_EQ(counter(metrics_port_, "waggle_http_connections_returned_total", 0), 0);
    EXPECT_EQ(counter(metrics_port_, "waggle_http_exchanges_kernel_total", 0), 0);
    EXPECT_EQ(measured(http_get(metrics_port_, "/metrics")), (std::map<std::string, double>{}));
  });
}

// Bytes past where a request must end (its body, then a request pipelined behind it in the same
// call): the kernel cannot delimit them, gives the connection up at both ends (counted) and
// ignores it from then on. Nothing is paired wrongly: the later request is not taken as the
// one the first response answers.
TEST_F(HttpNginxTest, AConnectionGivenUpInTheKernelIsIgnoredUntilItCloses) {
  Nginx nginx(dir_);
  std::string port = std::to_string(nginx.port());
  auto agent = start_agent("{ports: [" + port + "]}");
  ASSERT_TRUE(agent->ready()) << agent->stderr_text();
  Spawned sent = spawn({helper_path(), "tcp-send", port, "POST /api/orders HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n",
                        "helloGET /users/1 HTTP/1.1\r\nHost: x\r\n\r\n",
                        "GET /users/2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"});
  ASSERT_EQ(WEXITSTATUS(sent.status), 0);
  for (int i = 0; i < 50 && nginx.access_log().size() < 3; i++) usleep(100000);
  EXPECT_EQ(nginx.access_log().size(), 3u);
  EXPECT_EQ(counter(metrics_port_, "waggle_http_connections_abandoned_total", 2), 2);
  std::string page = http_get(metrics_port_, "/metrics");
  EXPECT_TRUE(measured(page).empty());
  EXPECT_TRUE(samples(page, "http_client_request_duration_seconds_count").empty());
  EXPECT_EQ(counter(metrics_port_, "waggle_http_exchanges_kernel_total", 0), 0);
  ASSERT_EQ(agent->stop(), 0) << agent->stderr_text();
}

// A connection is judged by its first bytes: blank lines before a request (which servers skip)
// leave it undecided; bytes that are neither HTTP nor DNS leave it in the kernel from then on.
TEST_F(HttpNginxTest, AConnectionIsJudgedByItsFirstBytesBlankLinesAside) {
  Nginx nginx(dir_);
  std::string port = std::to_string(nginx.port());
  auto agent = start_agent();
  ASSERT_TRUE(agent->ready()) << agent->stderr_text();
  Spawned blank = spawn({helper_path(), "tcp-send", port, "\r\n\r\n\r\n",
                         "GET /users/5 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"});
  ASSERT_EQ(WEXITSTATUS(blank.status), 0);
  EXPECT_EQ(blank.out.rfind("HTTP/1.1 200", 0), 0u) << blank.out;
  Spawned other = spawn({helper_path(), "tcp-send", port, "HELLO THERE\r\n\r\n",
                         "GET /users/6 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"});
  ASSERT_EQ(WEXITSTATUS(other.status), 0);
  EXPECT_EQ(other.out.rfind("HTTP/1.1 400", 0), 0u) << other.out;
  std::string page = wait_for_requests(metrics_port_, 1);
  usleep(300000);  // a wrongly counted exchange would show by now
  page = http_get(metrics_port_, "/metrics");
  EXPECT_EQ(measured(page), (std::map<std::string, double>{{"GET /users/{id} 200", 1}}));
  double client = 0;
  for (auto& [labels, v] : samples(page, "http_client_request_duration_seconds_count",
                                   {{"service_name", "waggle_test_helper"}}))
    client += v;
  EXPECT_EQ(client, 1);
  ASSERT_EQ(agent->stop(), 0) << agent->stderr_text();
}

// The kernel judges a head's bytes eight at a time, and the last few before the call's end from
// the word that ends there. Heads whose last lines end at every place within a word, and at 1 to
// 8 bytes before the call's end (a body of 0 to 7 bytes in the same write; the last header a
// one-letter name with no value): one user space would take is taken in the kernel, at both
// ends; one with a control byte is handed to user space (which gives it up), never counted.
TEST_F(HttpNginxTest, HeaderBytesAreJudgedLikeUserSpaceWhereverALineEnds) {
  Nginx nginx(dir_);
  std::string port = std::to_string(nginx.port());
  auto agent = start_agent("{ports: [" + port + "]}");
  ASSERT_TRUE(agent->ready()) << agent->stderr_text();
  const int kLengths = 9;  // every place within a word, and one more
  for (int n = 0; n < kLengths; n++) {
    const std::string body(n % 8, 'b');
    std::string head = "POST /users/" + std::to_string(n) + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" +
                       "Content-Length: " + std::to_string(body.size()) + "\r\nX-Pad-" + std::to_string(n) +
                       ": " + std::string(n, 'a');
    Spawned good = spawn({helper_path(), "tcp-send", port, head + "\xc3\xa9\t\r\nX:\r\n\r\n" + body});
    ASSERT_EQ(WEXITSTATUS(good.status), 0);
    EXPECT_EQ(good.out.rfind("HTTP/1.1 200", 0), 0u) << good.out;
    Spawned bad =
        spawn({helper_path(), "tcp-send", port, head + (n % 2 ? "\x7f" : "\x01") + "\r\nX:\r\n\r\n" + body});
    ASSERT_EQ(WEXITSTATUS(bad.status), 0);
  }
  std::string page = wait_for_requests(metrics_port_, kLengths);
  EXPECT_EQ(measured(page), (std::map<std::string, double>{{"POST /users/{id} 200", kLengths}}));
  double client = 0;
  for (auto& [labels, v] : samples(page, "http_client_request_duration_seconds_count",
                                   {{"service_name", "waggle_test_helper"}}))
    client += v;
  EXPECT_EQ(client, kLengths);
  EXPECT_EQ(counter(metrics_port_, "waggle_http_exchanges_kernel_total", 2 * kLengths), 2 * kLengths);
  EXPECT_EQ(counter(metrics_port_, "waggle_http_connections_captured_total", 2 * kLengths), 2 * kLengths);
  EXPECT_EQ(counter(metrics_port_, "waggle_http_connections_abandoned_total", 2 * kLengths), 2 * kLengths);
  ASSERT_EQ(agent->stop(), 0) << agent->stderr_text();
}

// Without the socket layer's tracepoints, the syscalls' exits read the calls' arguments from
// the saved registers; where they cannot, entry programs keep each call until its exit: with
// their thread (task storage) or, lacking that, in a hash. The counts are the same.
TEST_F(HttpNginxTest, WithEntryProgramsCallsInFlightGoToTaskStorageOrAHashAndCountTheSame) {
  Nginx nginx(dir_);
  for (std::string disabled : {"socket tracepoints", "exit arguments", "exit arguments,task storage"}) {
    SCOPED_TRACE(disabled);
    metrics_port_ = free_port();
    std::string config = dir_.file("entries.yaml",
                                   "sensors:\n  file: {enabled: false}\n"
                                   "metrics: {address: 127.0.0.1:" +
                                       std::to_string(metrics_port_) + "}\n");
    AgentRun agent({"run", "--config", config}, {"WAGGLE_DISABLE_FEATURES=" + disabled});
    ASSERT_TRUE(agent.ready()) << agent.stderr_text();
    const bool exits_only = disabled == "socket tracepoints";
    EXPECT_NE(agent.stderr_text().find(exits_only ? "; tracepoint/syscalls/sys_exit_{accept,accept4,read,"
                                                  : "; tracepoint/syscalls/sys_{enter,exit}_{accept,accept4,read,"),
              std::string::npos)
        << agent.stderr_text();
    EXPECT_EQ(
        WEXITSTATUS(
            curl({"-o", "/dev/null", "-o", "/dev/null", url(nginx, "/users/3"), url(nginx, "/")}).status),
        0);
    std::string page = wait_for_requests(metrics_port_, 2);
    EXPECT_EQ(measured(page), (std::map<std::string, double>{{"GET /users/{id} 200", 1}, {"GET / 200", 1}}));
    ASSERT_EQ(agent.stop(), 0) << agent.stderr_text();
  }
}

// http_events: none and sampled N change what is written out, never what is counted: 7
// requests of one route, as nginx serves them and as curl sends them.
TEST_F(HttpNginxTest, HttpEventsNoneOrSampledKeepTheMetricsExact) {
  Nginx nginx(dir_);
  for (std::string mode : {"none", "sampled 3"}) {
    SCOPED_TRACE(mode);
    metrics_port_ = free_port();
    std::string config = dir_.file("events.yaml",
                                   "sensors:\n  file: {enabled: false}\n  network: {http_events: " + mode +
                                       ", ports: [" + std::to_string(nginx.port()) + "]}\nmetrics: {address: 127.0.0.1:" + std::to_string(metrics_port_) + "}\n");
    AgentRun agent({"run", "--config", config});
    ASSERT_TRUE(agent.ready()) << agent.stderr_text();
    std::vector<std::string> args;
    for (int i = 1; i <= 7; i++) {
      args.insert(args.end(), {"-o", "/dev/null"});
      args.push_back(url(nginx, "/users/" + std::to_string(i)));
    }
    ASSERT_EQ(WEXITSTATUS(curl(args).status), 0);
    std::string page = wait_for_requests(metrics_port_, 7);
    EXPECT_EQ(measured(page), (std::map<std::string, double>{{"GET /users/{id} 200", 7}}));
    double curl_seen = 0;
    for (auto& [labels, value] : samples(page, "http_client_request_duration_seconds_count", {{"service_name", "curl"}}))
      curl_seen += value;
    EXPECT_EQ(curl_seen, 7);
    // One keep-alive connection, both ends: every exchange parsed in the kernel, and without
    // events counted there, not posted.
    const double tallied = mode == "none" ? 14 : 0;
    EXPECT_EQ(counter(metrics_port_, "waggle_http_exchanges_tallied_total", tallied), tallied);
    EXPECT_EQ(counter(metrics_port_, "waggle_http_exchanges_kernel_total", 14 - tallied), 14 - tallied);
    EXPECT_EQ(counter(metrics_port_, "waggle_http_connections_captured_total", 0), 0);
    ASSERT_EQ(agent.stop(), 0) << agent.stderr_text();
    std::map<std::string, std::vector<std::string>> written;  // server or client -> targets
    for (auto& e : agent.events())
      if (e["type"] == "http.request" && e["route"] == "/users/{id}")
        written[e["role"] == "server" ? "nginx" : "curl"].push_back(e["target"]);
    if (mode == "none") {
      EXPECT_TRUE(written.empty());
    } else {
      const std::vector<std::string> sampled = {"/users/1", "/users/4", "/users/7"};
      EXPECT_EQ(written["nginx"], sampled);
      EXPECT_EQ(written["curl"], sampled);
    }
  }
}

// nginx's and curl's events for /zipped/big.bin, each with the bytes curl received.
void expect_zipped_events(const AgentRun& agent, uint64_t body, uint64_t header) {
  ASSERT_GT(body, 0u);
  ASSERT_LT(body, 100000u) << "nginx should have compressed it";
  int matched = 0;
  for (auto& e : agent.events()) {
    if (e["type"] != "http.request" || e["target"] != "/zipped/big.bin") continue;
    matched++;
    EXPECT_EQ(e["response_bytes"], body + header) << e.dump();
    EXPECT_EQ(e["status"], 200);
  }
  EXPECT_EQ(matched, 2);
}

// A response the kernel cannot delimit (here one ended by the close: HTTP/1.0, gzip on the
// fly) is handed to user space with its request, at both ends; a keep-alive connection next to
// it is parsed whole in the kernel. With `http_parsing: user` every exchange is parsed in user
// space, to the same counts and bytes.
TEST_F(HttpNginxTest, AResponseTheKernelCannotDelimitIsHandedToUserSpaceWithTheSameCounts) {
  Nginx nginx(dir_);
  for (std::string parsing : {"kernel", "user"}) {
    SCOPED_TRACE(parsing);
    metrics_port_ = free_port();
    std::string config = dir_.file("parsing.yaml", "sensors:\n  file: {enabled: false}\n  network: {http_parsing: " +
                                                       parsing + ", ports: [" + std::to_string(nginx.port()) +
                                                       "]}\nmetrics: {address: 127.0.0.1:" +
                                                       std::to_string(metrics_port_) + "}\n");
    AgentRun agent({"run", "--config", config});
    ASSERT_TRUE(agent.ready()) << agent.stderr_text();
    size_t logged = nginx.access_log().size();
    Spawned closed = curl({"--http1.0", "-H", "Accept-Encoding: gzip", "-o", "/dev/null", "-w",
                           "%{size_download} %{size_header}", url(nginx, "/zipped/big.bin")});
    ASSERT_EQ(WEXITSTATUS(closed.status), 0);
    ASSERT_EQ(WEXITSTATUS(curl({"-o", "/dev/null", "-o", "/dev/null", url(nginx, "/users/2"), url(nginx, "/")}).status),
              0);
    std::string page = wait_for_requests(metrics_port_, 3);
    std::map<std::string, double> expected = served(nginx, logged);
    EXPECT_EQ(expected, (std::map<std::string, double>{
                            {"GET /zipped/big.bin 200", 1}, {"GET /users/{id} 200", 1}, {"GET / 200", 1}}));
    EXPECT_EQ(measured(page), expected);
    double curl_seen = 0;
    for (auto& [labels, value] : samples(page, "http_client_request_duration_seconds_count", {{"service_name", "curl"}}))
      curl_seen += value;
    EXPECT_EQ(curl_seen, 3);
    const bool kernel = parsing == "kernel";
    EXPECT_EQ(counter(metrics_port_, "waggle_http_connections_captured_total", kernel ? 2 : 0), kernel ? 2 : 0);
    EXPECT_EQ(counter(metrics_port_, "waggle_http_exchanges_kernel_total", kernel ? 4 : 0), kernel ? 4 : 0);
    ASSERT_EQ(agent.stop(), 0) << agent.stderr_text();
    std::istringstream in(closed.out);
    uint64_t body = 0, header = 0;
    in >> body >> header;
    expect_zipped_events(agent, body, header);
  }
}

// nginx writes a chunked body (gzip on the fly, HTTP/1.1) with writev, the last chunk in the
// call's last buffer: the end of the call is captured from that buffer, so the server's side
// of the response ends where it ends and the next request on the connection is counted too.
TEST_F(HttpNginxTest, AChunkedResponseWrittenWithWritevEndsAtItsLastChunk) {
  Nginx nginx(dir_);
  // Parsed in the kernel, in user space, and from the syscalls' exits (no socket tracepoints).
  for (auto [parsing, disabled] : {std::pair{"kernel", ""}, {"user", ""}, {"kernel", "socket tracepoints"}}) {
    SCOPED_TRACE(std::string(parsing) + " " + disabled);
    metrics_port_ = free_port();
    std::string config = dir_.file("chunked.yaml", "sensors:\n  file: {enabled: false}\n  network: {http_parsing: " +
                                                       std::string(parsing) + ", ports: [" + std::to_string(nginx.port()) +
                                                       "]}\nmetrics: {address: 127.0.0.1:" +
                                                       std::to_string(metrics_port_) + "}\n");
    AgentRun agent({"run", "--config", config}, {std::string("WAGGLE_DISABLE_FEATURES=") + disabled});
    ASSERT_TRUE(agent.ready()) << agent.stderr_text();
    size_t logged = nginx.access_log().size();
    // The body as sent, chunk framing included (curl's size_download counts it without).
    const std::string raw = dir_.path() + "/chunked.raw";
    Spawned run = curl({"--raw", "-H", "Accept-Encoding: gzip", "-o", raw, "-w", "%{size_header}\n",
                        url(nginx, "/zipped/big.bin"), "-o", "/dev/null", url(nginx, "/users/2")});
    ASSERT_EQ(WEXITSTATUS(run.status), 0);
    std::string page = wait_for_requests(metrics_port_, 2);
    std::map<std::string, double> expected = served(nginx, logged);
    EXPECT_EQ(expected, (std::map<std::string, double>{{"GET /zipped/big.bin 200", 1}, {"GET /users/{id} 200", 1}}));
    EXPECT_EQ(measured(page), expected);
    EXPECT_EQ(counter(metrics_port_, "waggle_http_connections_abandoned_total", 0), 0);
    ASSERT_EQ(agent.stop(), 0) << agent.stderr_text();
    uint64_t header = std::stoull(run.out);
    struct stat st {};
    ASSERT_EQ(stat(raw.c_str(), &st), 0);
    const uint64_t body = uint64_t(st.st_size);
    expect_zipped_events(agent, body, header);
  }
}

TEST_F(HttpNginxTest, OnlyTheSelectedBinariesAreInstrumented) {
  Nginx nginx(dir_);
  metrics_port_ = free_port();
  std::string config =
      dir_.file("only-nginx.yaml",
                "sensors:\n  file: {enabled: false}\n  network: {binaries: [/usr/sbin/nginx]}\n"
                "metrics: {address: 127.0.0.1:" +
                    std::to_string(metrics_port_) + "}\n");
  AgentRun agent({"run", "--config", config});
  ASSERT_TRUE(agent.ready()) << agent.stderr_text();
  // This kernel has the socket layer's tracepoints: socket data comes from them, and no
  // program is on the other syscalls' exits, nor on any entry.
  EXPECT_NE(agent.stderr_text().find("tp_btf/sock_{send,recv}_length; tracepoint/syscalls/sys_exit_{recvfrom,recvmsg} "
                                     "(unconnected UDP); tracepoint/syscalls/sys_exit_{accept,accept4,recvmmsg,"
                                     "sendfile64,sendmmsg}"),
            std::string::npos)
      << agent.stderr_text();
  EXPECT_EQ(WEXITSTATUS(curl({"-o", "/dev/null", url(nginx, "/users/3")}).status), 0);
  std::string page = wait_for_requests(metrics_port_, 1);
  EXPECT_EQ(measured(page), (std::map<std::string, double>{{"GET /users/{id} 200", 1}}));
  EXPECT_TRUE(samples(page, "http_client_request_duration_seconds_count").empty());
  ASSERT_EQ(agent.stop(), 0) << agent.stderr_text();
}

}  // namespace
}  // namespace waggle::test
