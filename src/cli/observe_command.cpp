#include "cli/observe_command.hpp"

#include <fmt/format.h>
#include <time.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <sstream>

#include "cli/control_socket.hpp"
#include "export/json_events.hpp"

namespace waggle {

namespace {

using nlohmann::json;

std::string text_of(const json& v) { return v.is_string() ? v.get<std::string>() : v.is_null() ? "" : v.dump(); }

// A member of an object, or null (an agent of another version may not have it).
json field(const json& v, const char* key) { return v.is_object() && v.contains(key) ? v[key] : json(); }

std::string basename_of(const std::string& path) { return path.substr(path.rfind('/') + 1); }

// The event's time as ns since the epoch; 0 when it has none.
uint64_t time_ns_of(const json& event) { return parse_rfc3339_ns(text_of(field(event, "time"))); }

std::string endpoint(const json& e) {
  if (!e.is_object()) return "?";
  std::string address = text_of(field(e, "address"));
  if (address.find(':') != std::string::npos) address = "[" + address + "]";
  return address + ":" + text_of(field(e, "port"));
}

std::string summary(const json& e, const std::string& type) {
  if (type == "http.request") {
    const std::string role = text_of(field(e, "role"));
    const json duration = field(e, "duration_ns");
    return fmt::format("{} {} {} -> {} in {:.3f} ms, {} {} {}", role, text_of(field(e, "method")),
                       text_of(field(e, "target")), text_of(field(e, "status")),
                       duration.is_number() ? duration.get<double>() / 1e6 : 0.0,
                       endpoint(field(e, "local")), role == "server" ? "<-" : "->", endpoint(field(e, "remote")));
  }
  if (type == "network.tcp")
    return fmt::format("{} {} <-> {}, {}, sent {} received {}", text_of(field(e, "direction")), endpoint(field(e, "local")),
                       endpoint(field(e, "remote")), text_of(field(e, "end")), text_of(field(e, "bytes_sent")),
                       text_of(field(e, "bytes_received")));
  if (type == "dns.query")
    return fmt::format("{} {} -> {} {} ({})", text_of(field(e, "query_type")), text_of(field(e, "name")),
                       field(e, "rcode").is_null() ? "no answer" : text_of(field(e, "rcode")), text_of(field(e, "answers")),
                       endpoint(field(e, "server")));
  if (type == "policy.match")
    return fmt::format("{}/{} {} -> {}", text_of(field(e, "policy")), text_of(field(e, "rule")), text_of(field(e, "action")),
                       text_of(field(e, "outcome")));
  if (type == "file.open")
    return fmt::format("{} {} -> {}", text_of(field(e, "syscall")), text_of(field(e, "path")),
                       e.contains("fd") ? "fd " + text_of(field(e, "fd")) : text_of(field(e, "error")));
  if (type == "process.exec") return text_of(field(field(e, "process"), "args"));
  if (type == "process.exit")
    return field(e, "signal").is_null() ? "exit " + text_of(field(e, "exit_code")) : "killed by " + text_of(field(e, "signal"));
  json rest = e;
  if (rest.is_object())
    for (const char* key : {"time", "type", "process"}) rest.erase(key);
  return rest.dump();
}

volatile sig_atomic_t g_stop = 0;

}  // namespace

bool ObserveFilter::matches(const json& e, const std::string& line) const {
  if (!e.is_object()) return false;
  const std::string type = text_of(field(e, "type"));
  if (!types.empty() && std::find(types.begin(), types.end(), type) == types.end()) return false;
  const json process = field(e, "process");
  if (pid && field(process, "pid") != json(*pid)) return false;
  if (!this->process.empty()) {
    if (!process.is_object()) return false;
    if (text_of(field(process, "comm")) != this->process &&
        basename_of(text_of(field(process, "binary"))) != this->process)
      return false;
  }
  if (!container.empty() && !(process.is_object() && text_of(field(process, "container_id"))
                                                         .rfind(container, 0) == 0))
    return false;
  if (port) {
    bool any = false;
    for (const char* side : {"local", "remote", "server"})
      if (field(field(e, side), "port") == json(*port)) any = true;
    if (!any) return false;
  }
  if (status && field(e, "status") != json(*status)) return false;
  if (!verdict.empty() && text_of(field(e, "outcome")) != verdict) return false;
  return text.empty() || line.find(text) != std::string::npos;
}

std::string observe_text(const json& e) {
  const std::string type = text_of(field(e, "type"));
  const json process = field(e, "process");
  std::string who = "-";
  if (process.is_object() && process.contains("pid"))
    who = fmt::format("{}[{}]", text_of(field(process, "comm")), text_of(process["pid"]));
  return fmt::format("{} {} {} {}", text_of(field(e, "time")), type, who, summary(e, type));
}

int run_observe(const ObserveOptions& options) {
  signal(SIGINT, [](int) { g_stop = 1; });
  signal(SIGTERM, [](int) { g_stop = 1; });
  uint64_t after = 0;
  bool first = true;
  do {
    std::string error;
    auto reply = control_request(options.socket, fmt::format("observe {}\n", after), &error);
    if (!reply) {
      fmt::print(stderr, "waggle: {}\n", error);
      return 1;
    }
    if (reply->rfind("ok\n", 0) != 0) {
      fmt::print(stderr, "waggle: {}", reply->substr(reply->find('\n') + 1));
      return 2;
    }
    std::istringstream in(reply->substr(3));
    std::string header, line;
    std::getline(in, header);
    uint64_t last = 0, dropped = 0;
    if (sscanf(header.c_str(), "last %lu dropped %lu", &last, &dropped) != 2) {
      fmt::print(stderr, "waggle: the agent answered \"{}\": is it a waggle agent of another version?\n", header);
      return 2;
    }
    if (last < after) {  // another agent, started since: read its history from the start
      after = 0;
      continue;
    }
    if (dropped && !first)
      fmt::print(stderr, "waggle: {} events left the agent's history before they were read\n", dropped);
    const uint64_t now_ns = uint64_t(time(nullptr)) * 1000000000ull;
    std::vector<std::pair<json, std::string>> shown;
    while (std::getline(in, line)) {
      json e = json::parse(line, nullptr, false);
      if (e.is_discarded() || !options.filter.matches(e, line)) continue;
      if (options.since_s && time_ns_of(e) + uint64_t(*options.since_s * 1e9) < now_ns) continue;
      shown.emplace_back(std::move(e), std::move(line));
    }
    if (first && options.last && shown.size() > *options.last)
      shown.erase(shown.begin(), shown.end() - long(*options.last));
    for (const auto& [e, text] : shown) fmt::print("{}\n", options.json ? text : observe_text(e));
    fflush(stdout);
    after = last;
    first = false;
    if (options.follow && !g_stop) usleep(useconds_t(options.poll_s * 1e6));
  } while (options.follow && !g_stop);
  return 0;
}

}  // namespace waggle
