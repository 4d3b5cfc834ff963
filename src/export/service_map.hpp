// The service map the UI draws: services (executables or containers) and the peers they talk
// to, with HTTP edges from the request-duration histograms over a window (http_traffic.hpp)
// and TCP edges from the connections in the agent's recent events. A server address and port
// becomes a service where the recent events show a process of this host serving on it;
// otherwise it is a peer, named with the names the DNS sensor saw resolve to it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "export/http_traffic.hpp"

namespace waggle {

// `history`: the recent events' JSON lines (one per line); those older than the window are not
// used for TCP edges. `now_unix_ns`: the wall clock now. Returns
//   {"window_s":..., "nodes":[{"id","kind":"service"|"peer","label","names":[...],
//     "requests","errors","client_errors","p50_ms","p99_ms"}...],
//    "edges":[{"from","to","http":{"requests","rate","errors","client_errors","error_rate",
//     "p50_ms","p99_ms"}|null,"tcp":{"connections","bytes_sent","bytes_received"}|null}...]}
// `self`: the agent's own listening address and port ("127.0.0.1 9464"), shown as the service
// "waggle" (its own sockets are not watched).
std::string service_map_json(const HttpTraffic::Window& window, std::string_view history, uint64_t now_unix_ns,
                             const std::string& self = "");

}  // namespace waggle
