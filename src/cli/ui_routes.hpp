// The web UI of `waggle run`, on the metrics endpoint (docs/ui.md):
//   /                 the page (ui/index.html, app.js, style.css, embedded)
//   /api/events       ?after=N: the events written out after sequence number N (the history
//                     `waggle observe` reads), as {"last","dropped","events":[...]}
//   /api/services     ?window=SECONDS: the service map (export/service_map.hpp)
//   /api/policies     the policies in force, with each rule's match count
//   /api/health       the agent's own metrics (waggle_*), as JSON
// What the event loop owns is read through the bridge; the metrics from the registry.
#pragma once

#include <vector>

#include "cli/ui_bridge.hpp"
#include "export/http_traffic.hpp"
#include "export/metrics_registry.hpp"
#include "export/prometheus_endpoint.hpp"

namespace waggle {

// The requests the routes send through the bridge, which the event loop answers: "observe N"
// (EventHistory::handle) and "list" (PolicyControl::handle).
// `self`: the endpoint's address ("127.0.0.1:9464"), whose clients the map shows calling waggle.
std::vector<HttpRoute> ui_routes(UiBridge& bridge, const metrics::Registry& registry, const HttpTraffic& traffic,
                                 const std::string& self);

}  // namespace waggle
