// The network sensor's DNS tracker: queries paired with their answers by user space, answers
// the kernel paired with the query it held, and held queries that had no answer.
#include "sensors/network/dns_tracker.hpp"

#include <gtest/gtest.h>

#include <string>

namespace waggle {
namespace {

// The question section of a query for `name` (dotted) of type `type`, class IN.
std::string question(const std::string& name, uint16_t type) {
  std::string q;
  for (size_t at = 0; at <= name.size();) {
    size_t dot = name.find('.', at);
    if (dot == std::string::npos) dot = name.size();
    q += char(dot - at);
    q += name.substr(at, dot - at);
    at = dot + 1;
  }
  q += '\0';
  q += {char(type >> 8), char(type & 0xff), 0, 1};
  return q;
}

std::string query(uint16_t id, const std::string& name, uint16_t type) {
  return std::string{char(id >> 8), char(id & 0xff), 1, 0, 0, 1, 0, 0, 0, 0, 0, 0} + question(name, type);
}

// An answer with one A record, 10.1.2.3, named by a pointer to the question's name.
std::string answer(uint16_t id, const std::string& name) {
  std::string a = {char(id >> 8), char(id & 0xff), char(0x81), char(0x80), 0, 1, 0, 1, 0, 0, 0, 0};
  a += question(name, 1);
  a += {char(0xc0), 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 1, 2, 3};
  return a;
}

ProcessRef dig() {
  auto p = std::make_shared<ProcessInfo>();
  p->pid = 9;
  p->binary = "/usr/bin/dig";
  return p;
}

const Endpoint kServer{"127.0.0.77", 53};

TEST(DnsTracker, AQueryAndItsAnswerArePairedByTheirSocketIdAndName) {
  DnsTracker dns;
  std::vector<DnsEvent> out;
  std::string q = query(0x1234, "example.test", 1), a = answer(0x1234, "example.test");
  dns.on_payload(5, true, false, q, true, 1000, 0, dig(), kServer, &out);
  EXPECT_TRUE(out.empty());
  dns.on_payload(5, false, false, a, true, 1700, 0, dig(), kServer, &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].name, "example.test");
  EXPECT_EQ(out[0].type, "A");
  EXPECT_EQ(out[0].rcode, "NOERROR");
  EXPECT_EQ(out[0].answers, std::vector<std::string>{"A 10.1.2.3"});
  EXPECT_EQ(out[0].latency_ns, 700u);
  EXPECT_EQ(out[0].time_ns, 1700u);
}

TEST(DnsTracker, AnAnswerTheKernelPairedTakesItsQuerysTimeAndNothingWaitsForIt) {
  DnsTracker dns;
  std::vector<DnsEvent> out;
  dns.on_payload(5, false, false, answer(0x1234, "example.test"), true, 1700, 1200, dig(), kServer, &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].name, "example.test");
  EXPECT_EQ(out[0].rcode, "NOERROR");
  EXPECT_EQ(out[0].answers, std::vector<std::string>{"A 10.1.2.3"});
  EXPECT_EQ(out[0].latency_ns, 500u);
  EXPECT_EQ(out[0].server.address, kServer.address);
  EXPECT_EQ(out[0].server.port, 53);
  EXPECT_EQ(out[0].transport, "udp");
  out.clear();
  dns.expire(1200 + DnsTracker::kAnswerTimeoutNs + 1, &out);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(dns.unanswered(), 0u);
}

TEST(DnsTracker, AHeldQueryWithoutAnAnswerIsReportedFromItsQuestion) {
  DnsTracker dns;
  std::vector<DnsEvent> out;
  std::string q = question("silent.test", 28);
  dns.on_unanswered(std::span(reinterpret_cast<const uint8_t*>(q.data()), q.size()), 4000, dig(), kServer, &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].name, "silent.test");
  EXPECT_EQ(out[0].type, "AAAA");
  EXPECT_EQ(out[0].rcode, "");
  EXPECT_TRUE(out[0].answers.empty());
  EXPECT_EQ(out[0].time_ns, 4000u);
  EXPECT_EQ(dns.unanswered(), 1u);
  // A question cut short is not a query.
  dns.on_unanswered(std::span(reinterpret_cast<const uint8_t*>(q.data()), 5), 4000, dig(), kServer, &out);
  EXPECT_EQ(out.size(), 1u);
  EXPECT_EQ(dns.malformed(), 1u);
}

}  // namespace
}  // namespace waggle
