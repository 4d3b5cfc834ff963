#include "export/service_map.hpp"

#include "export/json_events.hpp"

#include <map>
#include <nlohmann/json.hpp>
#include <set>

namespace waggle {
namespace {

using nlohmann::json;

// The service an event's process is (as metrics name it: the executable's file name, else comm).
std::string service_of(const json& process) {
  if (!process.is_object()) return "unknown";
  std::string binary = process.value("binary", "");
  if (!binary.empty()) return binary.substr(binary.rfind('/') + 1);
  std::string comm = process.value("comm", "");
  return comm.empty() ? "unknown" : comm;
}

std::string endpoint_key(const json& e) {
  if (!e.is_object()) return "";
  return e.value("address", "") + " " + std::to_string(e.value("port", 0));
}

struct Tcp {
  uint64_t connections = 0, sent = 0, received = 0;
};

// What the recent events say: who serves where, the names of addresses, TCP connections.
struct Recent {
  std::map<std::string, std::string> listeners;        // "address port" -> service
  std::map<std::string, std::set<std::string>> names;  // address -> DNS names
  std::map<std::pair<std::string, std::string>, Tcp> tcp;  // (service, "address port") -> totals
};

Recent read_recent(std::string_view history, uint64_t since_ns) {
  Recent r;
  size_t pos = 0;
  while (pos < history.size()) {
    size_t end = history.find('\n', pos);
    std::string_view line = history.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    pos = end == std::string_view::npos ? history.size() : end + 1;
    // Only the kinds used here are parsed.
    bool http = line.find("\"type\":\"http.request\"") != std::string_view::npos;
    bool tcp = line.find("\"type\":\"network.tcp\"") != std::string_view::npos;
    bool dns = line.find("\"type\":\"dns.query\"") != std::string_view::npos;
    if (!http && !tcp && !dns) continue;
    json e = json::parse(line, nullptr, false);
    if (!e.is_object()) continue;
    if (http && e.value("role", "") == "server") {
      r.listeners[endpoint_key(e["local"])] = service_of(e["process"]);
    } else if (tcp) {
      std::string direction = e.value("direction", "");
      if (direction == "accepted") {
        r.listeners[endpoint_key(e["local"])] = service_of(e["process"]);
      } else if (direction == "connected" && parse_rfc3339_ns(e.value("time", "")) >= since_ns) {
        Tcp& t = r.tcp[{service_of(e["process"]), endpoint_key(e["remote"])}];
        t.connections++;
        t.sent += e.value("bytes_sent", uint64_t{0});
        t.received += e.value("bytes_received", uint64_t{0});
      }
    } else if (dns && e.contains("answers") && e["answers"].is_array()) {
      for (const json& a : e["answers"]) {
        if (!a.is_string()) continue;
        std::string answer = a;
        if (answer.rfind("A ", 0) == 0) r.names[answer.substr(2)].insert(e.value("name", ""));
        if (answer.rfind("AAAA ", 0) == 0) r.names[answer.substr(5)].insert(e.value("name", ""));
      }
    }
  }
  return r;
}

double ms(double s) { return s * 1e3; }

}  // namespace

std::string service_map_json(const HttpTraffic::Window& window, std::string_view history, uint64_t now_unix_ns,
                             const std::string& self) {
  uint64_t window_ns = uint64_t(window.seconds * 1e9);
  Recent recent = read_recent(history, now_unix_ns > window_ns ? now_unix_ns - window_ns : 0);
  if (!self.empty()) recent.listeners[self] = "waggle";
  std::map<std::string, json> nodes;
  auto service_node = [&](const std::string& name) -> json& {
    json& n = nodes["svc:" + name];
    if (n.is_null()) n = {{"id", "svc:" + name}, {"kind", "service"}, {"label", name}, {"names", json::array()}};
    return n;
  };
  // A server address and port: the service serving there, or a peer.
  auto target = [&](const std::string& address, uint16_t port) -> std::string {
    std::string key = address + " " + std::to_string(port);
    if (auto it = recent.listeners.find(key); it != recent.listeners.end()) return service_node(it->second)["id"];
    std::string id = "peer:" + key;
    json& n = nodes[id];
    if (n.is_null()) {
      json names = json::array();
      if (auto it = recent.names.find(address); it != recent.names.end())
        for (const auto& name : it->second) names.push_back(name);
      n = {{"id", id}, {"kind", "peer"}, {"label", address + ":" + std::to_string(port)}, {"names", names}};
    }
    return id;
  };
  auto parse_key = [](const std::string& key, std::string* address, uint16_t* port) {
    size_t space = key.rfind(' ');
    *address = key.substr(0, space);
    *port = uint16_t(std::stoi(key.substr(space + 1)));
  };
  for (const TrafficStats& s : window.services) {
    json& n = service_node(s.service);
    n["requests"] = s.requests;
    n["errors"] = s.errors;
    n["client_errors"] = s.client_errors;
    n["p50_ms"] = ms(s.p50_s);
    n["p99_ms"] = ms(s.p99_s);
  }
  std::map<std::pair<std::string, std::string>, json> edges;
  auto edge = [&](const std::string& from, const std::string& to) -> json& {
    json& e = edges[{from, to}];
    if (e.is_null()) e = {{"from", from}, {"to", to}, {"http", nullptr}, {"tcp", nullptr}};
    return e;
  };
  for (const TrafficStats& s : window.edges) {
    std::string from = service_node(s.service)["id"];
    double seconds = window.seconds > 0 ? window.seconds : 1;
    edge(from, target(s.server_address, s.server_port))["http"] = {
        {"requests", s.requests},
        {"rate", double(s.requests) / seconds},
        {"errors", s.errors},
        {"client_errors", s.client_errors},
        {"error_rate", double(s.errors) / double(s.requests)},
        {"p50_ms", ms(s.p50_s)},
        {"p99_ms", ms(s.p99_s)}};
  }
  for (const auto& [key, t] : recent.tcp) {
    std::string address;
    uint16_t port = 0;
    parse_key(key.second, &address, &port);
    std::string from = service_node(key.first)["id"];
    edge(from, target(address, port))["tcp"] = {
        {"connections", t.connections}, {"bytes_sent", t.sent}, {"bytes_received", t.received}};
  }
  json out = {{"window_s", window.seconds}, {"nodes", json::array()}, {"edges", json::array()}};
  for (auto& [id, n] : nodes) out["nodes"].push_back(std::move(n));
  for (auto& [id, e] : edges) out["edges"].push_back(std::move(e));
  return out.dump(-1, ' ', false, json::error_handler_t::replace);  // names carry what clients sent
}

}  // namespace waggle
