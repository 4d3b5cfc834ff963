// policy.match events as JSON lines.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "export/json_events.hpp"
#include "export/text_events.hpp"

namespace waggle {
namespace {

PolicyEvent killed_open() {
  auto p = std::make_shared<ProcessInfo>();
  p->exec_id = "h:b:1:42";
  p->pid = 42;
  p->comm = "reader";
  PolicyEvent e;
  e.time_ns = 1'795'000'000'123'456'789;
  e.tid = 43;
  e.process = p;
  e.policy = "protect-shadow";
  e.rule = "readers";
  e.action = "kill";
  e.outcome = PolicyOutcome::kKilled;
  e.also_matched = {"audit/all-etc"};
  e.syscall = OpenSyscall::kOpenat;
  e.path = "/etc/shadow";
  e.given_path = "shadow";
  e.flags = 0;
  return e;
}

TEST(PolicyEventJson, NamesPolicyRuleActionOutcomeAndTheOpen) {
  std::string line;
  append_json_event(line, Event{killed_open()});
  ASSERT_EQ(line.back(), '\n');
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["type"], "policy.match");
  EXPECT_EQ(j["time"], "2026-11-18T11:06:40.123456789Z");
  EXPECT_EQ(j["process"]["pid"], 42);
  EXPECT_EQ(j["process"]["tid"], 43);
  EXPECT_EQ(j["policy"], "protect-shadow");
  EXPECT_EQ(j["rule"], "readers");
  EXPECT_EQ(j["action"], "kill");
  EXPECT_EQ(j["outcome"], "killed");
  EXPECT_EQ(j["also_matched"], nlohmann::json({"audit/all-etc"}));
  EXPECT_EQ(j["event"]["type"], "file.open");
  EXPECT_EQ(j["event"]["syscall"], "openat");
  EXPECT_EQ(j["event"]["path"], "/etc/shadow");
  EXPECT_EQ(j["event"]["given_path"], "shadow");
  EXPECT_EQ(j["event"]["flags"], nlohmann::json({"O_RDONLY"}));
}

TEST(PolicyEventJson, AnInboundConnectionNamesThePeerAndTheLocalPort) {
  PolicyEvent e = killed_open();
  e.kind = PolicyEvent::Kind::kAccept;
  e.process = nullptr;  // judged as its first packet arrived
  e.tid = 0;
  e.outcome = PolicyOutcome::kDenied;
  e.address = "2001:db8::7";
  e.peer_port = 40000;
  e.port = 22;
  e.protocol = "tcp";
  std::string line;
  append_json_event(line, Event{e});
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["outcome"], "denied");
  EXPECT_EQ(j["process"], nullptr);
  EXPECT_EQ(j["event"], nlohmann::json({{"type", "network.accept"},
                                        {"peer_address", "2001:db8::7"},
                                        {"peer_port", 40000},
                                        {"local_port", 22},
                                        {"protocol", "tcp"}}));
  std::string text;
  append_text_event(text, Event{e});
  EXPECT_NE(text.find("DENIED protect-shadow/readers accept tcp 2001:db8::7:40000 to port 22\n"),
            std::string::npos)
      << text;
}

TEST(PolicyEventJson, EveryOutcomeHasItsName) {
  std::vector<std::pair<PolicyOutcome, std::string>> cases = {{PolicyOutcome::kLogged, "logged"},
                                                              {PolicyOutcome::kKilled, "killed"},
                                                              {PolicyOutcome::kWouldKill, "would_kill"},
                                                              {PolicyOutcome::kRefused, "refused"}};
  for (auto& [outcome, name] : cases) {
    PolicyEvent e = killed_open();
    e.outcome = outcome;
    std::string line;
    append_json_event(line, Event{e});
    EXPECT_EQ(nlohmann::json::parse(line)["outcome"], name);
    std::string text;
    append_text_event(text, Event{e});
    EXPECT_NE(text.find("protect-shadow/readers open /etc/shadow"), std::string::npos) << text;
  }
}

}  // namespace
}  // namespace waggle
