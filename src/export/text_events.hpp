// Compact human-readable rendering of events, one line each, for terminals.
#pragma once

#include <string>
#include <string_view>

#include "core/events.hpp"

namespace waggle {

// Appends one line (ending in '\n'), local time with microseconds:
//   16:30:00.123456 exec   1234 ppid=1 uid=0 /usr/bin/ls -l /tmp
//   16:30:00.200000 exit   1234 ls code=0 0.077s
//   16:30:00.200000 exit   1234 sleep signal=SIGKILL 2.001s
//   16:30:00.300000 open   1234 cat /etc/passwd O_RDONLY fd=3
//   16:30:00.300000 open   1234 cat /nope O_WRONLY|O_CREAT mode=0644 error=EACCES
// Strings go through append_shell_word: the terminal never sees control bytes.
void append_text_event(std::string& out, const Event& e);

// `HH:MM:SS.uuuuuu`, local time, for events of no process.
void append_text_time(std::string& out, uint64_t time_ns);

// `HH:MM:SS.uuuuuu type    pid comm` for the renderers of each event family.
void append_text_head(std::string& out, uint64_t time_ns, std::string_view type, uint32_t tid,
                      const ProcessRef& process);

// The network events' lines (text_network_events.cpp):
//   16:30:00.400000 tcp    1234 curl connected 127.0.0.1:40000 -> 127.0.0.1:80 sent=77 received=850 closed 0.002s
//   16:30:00.400000 http   4321 nginx server GET /users/{id} 200 0.001s
//   16:30:00.500000 dns    1234 dig example.test A NXDOMAIN 0.000412s
void append_text_network_event(std::string& out, const TcpEvent& e);
void append_text_network_event(std::string& out, const HttpEvent& e);
void append_text_network_event(std::string& out, const DnsEvent& e);
//   16:30:00.600000 packet eth1 watch-dns 192.0.2.1:5000 > 198.51.100.2:53 udp len=74
void append_text_network_event(std::string& out, const PacketSampleEvent& e);

// Appends `raw` as one shell word that is safe to print on a terminal:
//  - as is when it is non-empty and made only of [A-Za-z0-9_@%+=:,./-] and printable UTF-8;
//  - else single-quoted ('it'\''s') when it has nothing unprintable;
//  - else ANSI-C quoted ($'a\x1bb'), where control bytes, DEL, C1 controls, bidirectional
//    overrides and bytes that are not valid UTF-8 appear as \xNN.
// Pasted into bash, every form gives back the exact bytes.
void append_shell_word(std::string& out, std::string_view raw);

}  // namespace waggle
