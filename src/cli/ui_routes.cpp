#include "cli/ui_routes.hpp"

#include <fmt/format.h>
#include <time.h>

#include <charconv>
#include <nlohmann/json.hpp>

#include "cli/event_history.hpp"
#include "cli/ui_assets.hpp"
#include "core/net_address.hpp"
#include "export/service_map.hpp"

namespace waggle {
namespace {

using nlohmann::json;
constexpr auto kAskTimeout = std::chrono::seconds(2);

// Label values and event fields carry what clients sent: bytes that are not UTF-8 become
// U+FFFD instead of an exception.
std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

HttpReply json_reply(std::string body) {
  HttpReply r;
  // With a charset, httplib does not compress it (brotli at its default quality costs more CPU
  // than the rest of the request; the UI is on loopback).
  r.content_type = "application/json; charset=utf-8";
  r.body = std::move(body);
  r.headers["Cache-Control"] = "no-store";
  return r;
}

HttpReply error_reply(int status, const std::string& message) {
  HttpReply r = json_reply(dump(json{{"error", message}}));
  r.status = status;
  return r;
}

// A non-negative decimal query parameter; `fallback` when absent; nothing when malformed.
std::optional<uint64_t> number_param(const std::map<std::string, std::string>& query, const std::string& name,
                                     uint64_t fallback) {
  auto it = query.find(name);
  if (it == query.end()) return fallback;
  uint64_t n = 0;
  const std::string& v = it->second;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || end != v.data() + v.size() || v.empty()) return std::nullopt;
  return n;
}

// The bridge's answer to "observe AFTER": its header values and the lines after them.
struct History {
  uint64_t last = 0, dropped = 0;
  std::string_view lines;
};

bool read_history(const std::string& reply, History* h) {
  if (reply.rfind("ok\n", 0) != 0) return false;
  size_t eol = reply.find('\n', 3);
  if (eol == std::string::npos) return false;
  if (sscanf(reply.c_str() + 3, "last %lu dropped %lu", &h->last, &h->dropped) != 2) return false;
  h->lines = std::string_view(reply).substr(eol + 1);
  return true;
}

uint64_t unix_now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return uint64_t(ts.tv_sec) * 1'000'000'000 + uint64_t(ts.tv_nsec);
}

double steady_now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

HttpReply events(UiBridge& bridge, const std::map<std::string, std::string>& query) {
  auto after = number_param(query, "after", 0);
  if (!after) return error_reply(400, "after: expected a sequence number");
  auto limit = number_param(query, "limit", EventHistory::kMaxEvents);
  if (!limit || *limit == 0) return error_reply(400, "limit: expected a number of events, 1 or more");
  auto reply = bridge.ask(fmt::format("observe {} {}", *after, *limit), kAskTimeout);
  History h;
  if (!reply || !read_history(*reply, &h)) return error_reply(503, "the agent's event loop did not answer");
  // The lines are JSON objects already: joined, not parsed.
  std::string body = fmt::format("{{\"last\":{},\"dropped\":{},\"events\":[", h.last, h.dropped);
  bool first = true;
  for (size_t pos = 0; pos < h.lines.size();) {
    size_t end = h.lines.find('\n', pos);
    if (end == std::string_view::npos) end = h.lines.size();
    if (end > pos) {
      if (!first) body += ',';
      body.append(h.lines.substr(pos, end - pos));
      first = false;
    }
    pos = end + 1;
  }
  body += "]}";
  return json_reply(std::move(body));
}

HttpReply services(UiBridge& bridge, const metrics::Registry& registry, const HttpTraffic& traffic,
                   const std::string& self, const std::map<std::string, std::string>& query) {
  auto window = number_param(query, "window", 300);
  if (!window || *window == 0 || *window > 3600) return error_reply(400, "window: expected seconds, 1 to 3600");
  // Only what the map uses: far less to copy than the whole history.
  auto reply = bridge.ask("observe 0 " + std::to_string(EventHistory::kMaxEvents) + " http.request,network.tcp,dns.query",
                          kAskTimeout);
  History h;
  if (!reply || !read_history(*reply, &h)) return error_reply(503, "the agent's event loop did not answer");
  HttpTraffic::Window w = traffic.window(double(*window), registry.collect(), steady_now_s());
  return json_reply(service_map_json(w, h.lines, unix_now_ns(), self));
}

// "ok\nNAME\tMODE\tN rules\tSOURCE\n  RULE\tmatched N\n..." as JSON.
HttpReply policies(UiBridge& bridge) {
  auto reply = bridge.ask("list", kAskTimeout);
  if (!reply) return error_reply(503, "the agent's event loop did not answer");
  json out = {{"policies", json::array()}};
  if (reply->rfind("ok\n", 0) != 0) {
    out["error"] = reply->substr(reply->find('\n') + 1);
    return json_reply(dump(out));
  }
  std::string_view text = std::string_view(*reply).substr(3);
  for (size_t pos = 0; pos < text.size();) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string line(text.substr(pos, end - pos));
    pos = end + 1;
    std::vector<std::string> fields;
    for (size_t start = 0;;) {
      size_t tab = line.find('\t', start);
      fields.push_back(line.substr(start, tab == std::string::npos ? std::string::npos : tab - start));
      if (tab == std::string::npos) break;
      start = tab + 1;
    }
    if (line.rfind("  ", 0) == 0 && fields.size() == 2 && !out["policies"].empty()) {
      uint64_t matched = 0;
      sscanf(fields[1].c_str(), "matched %lu", &matched);
      out["policies"].back()["rules"].push_back({{"name", fields[0].substr(2)}, {"matched", matched}});
    } else if (fields.size() == 4) {
      out["policies"].push_back(
          {{"name", fields[0]}, {"mode", fields[1]}, {"source", fields[3]}, {"rules", json::array()}});
    }
  }
  return json_reply(dump(out));
}

HttpReply health(const metrics::Registry& registry) {
  json families = json::array();
  for (const metrics::FamilySnapshot& f : registry.collect()) {
    if (f.name.rfind("waggle_", 0) != 0) continue;
    json series = json::array();
    for (const auto& s : f.series) {
      json labels = json::object();
      for (size_t i = 0; i < f.label_names.size() && i < s.label_values.size(); i++)
        labels[f.label_names[i]] = s.label_values[i];
      uint64_t count = 0;
      for (uint64_t n : s.buckets) count += n;
      series.push_back({{"labels", labels}, {"value", f.type == metrics::Type::kHistogram ? double(count) : s.value}});
    }
    families.push_back({{"name", f.name}, {"help", f.help}, {"series", series}});
  }
  return json_reply(dump(json{{"families", families}}));
}

}  // namespace

std::vector<HttpRoute> ui_routes(UiBridge& bridge, const metrics::Registry& registry, const HttpTraffic& traffic,
                                 const std::string& self) {
  // As the events write endpoints: "ADDRESS PORT", without brackets (port 0: not known yet).
  std::string host, listener;
  uint16_t port = 0;
  if (split_host_port(self, &host, &port) && port != 0) listener = host + " " + std::to_string(port);
  std::vector<HttpRoute> routes;
  for (const UiAsset& asset : ui_assets()) {
    std::string path = asset.name == "index.html" ? "/" : "/ui/" + std::string(asset.name);
    routes.push_back({path, [&asset](const std::map<std::string, std::string>&) {
                        HttpReply r;
                        r.content_type = std::string(asset.content_type);
                        r.body = std::string(asset.bytes);
                        return r;
                      }});
  }
  routes.push_back({"/favicon.ico", [](const auto&) { return HttpReply{204, "image/x-icon", "", {}}; }});
  routes.push_back({"/api/events", [&bridge](const auto& q) { return events(bridge, q); }});
  routes.push_back({"/api/services", [&bridge, &registry, &traffic, listener](const auto& q) {
                      return services(bridge, registry, traffic, listener, q);
                    }});
  routes.push_back({"/api/policies", [&bridge](const auto&) { return policies(bridge); }});
  routes.push_back({"/api/health", [&registry](const auto&) { return health(registry); }});
  for (HttpRoute& route : routes) route.address_hosts_only = true;
  return routes;
}

}  // namespace waggle
