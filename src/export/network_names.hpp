// Names of network event values, as they appear in JSON and text lines.
#pragma once

#include <string_view>

#include "core/events.hpp"

namespace waggle {

std::string_view tcp_direction_name(TcpDirection d);  // connected, accepted, unknown
std::string_view tcp_end_name(TcpEnd e);              // closed, reset_sent, reset_received, failed

}  // namespace waggle
