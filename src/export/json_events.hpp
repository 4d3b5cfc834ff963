// JSON Lines rendering of events: one object per line, fields in a fixed order.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/events.hpp"
#include "export/line_writer.hpp"

namespace waggle {

// Appends one line (ending in '\n') for the event. See the field contract in json_events.cpp.
//
// Memoizes the process part of the rendering in ProcessInfo::rendered_json: the first event of a
// process fills it, later ones reuse it. That memo is not synchronized, so one process's events
// must be rendered from one thread at a time.
void append_json_event(std::string& out, const Event& e);

// About how many bytes append_json_head writes for `process`, once its process object has been
// rendered (room to make for a line: a line longer than its room only makes more).
size_t json_head_room(const ProcessRef& process);

// `{"time":"...","type":"<type>","process":{...}` with the event object left open, for the
// renderers of each event family. `type_and_process` is `","type":"<type>","process":{`.
void append_json_head(LineWriter& w, uint64_t time_ns, std::string_view type_and_process, uint32_t tid,
                      const ProcessRef& process);

// The network events' lines (json_network_events.cpp).
void append_json_network_event(std::string& out, const TcpEvent& e);
void append_json_network_event(std::string& out, const HttpEvent& e);
void append_json_network_event(std::string& out, const DnsEvent& e);
// packet.sample (packet_sample_events.cpp).
void append_json_network_event(std::string& out, const PacketSampleEvent& e);

// Appends ns since the Unix epoch as an RFC 3339 UTC time with 9 fractional digits, without
// quotes: "2026-11-21T16:30:00.123456789Z".
void append_rfc3339(std::string& out, uint64_t time_ns);

// The reverse: a time as the events write it ("2026-12-07T01:02:03.123456789Z", fewer fraction
// digits allowed) as Unix ns; 0 when it is not that.
uint64_t parse_rfc3339_ns(std::string_view text);

}  // namespace waggle
