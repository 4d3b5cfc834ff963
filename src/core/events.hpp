// Typed events: what sensors produce and exporters consume. Neither side sees the other's
// internals; this header is their whole contract.
#pragma once

#include <array>
#include <cstdint>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "protocols/trace_context.hpp"

namespace waggle {

// A process as the agent knows it. Immutable once shared: an exec makes a new one, so events
// in flight keep the image they were made with.
struct ProcessInfo {
  std::string exec_id;
  uint32_t pid = 0;
  uint32_t ppid = 0;
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::string comm;
  std::string binary;  // absolute path, raw bytes (may be non-UTF-8)
  bool binary_truncated = false;
  std::vector<std::string> args;  // argv exactly as executed, raw bytes
  bool args_truncated = false;
  std::string cwd;
  bool cwd_truncated = false;
  uint64_t cgroup_id = 0;
  std::string container_id;        // empty when not in a container
  uint64_t start_time_ns = 0;      // wall clock, ns since the Unix epoch
  uint64_t start_boottime_ns = 0;  // CLOCK_BOOTTIME ns, to compute lifetimes
  // Exporters may memoize their rendering of this process here (it never changes).
  mutable std::string rendered_json;
};

using ProcessRef = std::shared_ptr<const ProcessInfo>;

// The service a process is, for metric labels and route bounds: its executable's file name,
// or its comm when the executable is unknown.
// The view lives as long as the process.
inline std::string_view service_name_view(const ProcessRef& process) {
  if (!process) return "unknown";
  if (!process->binary.empty()) return std::string_view(process->binary).substr(process->binary.rfind('/') + 1);
  return process->comm.empty() ? std::string_view("unknown") : std::string_view(process->comm);
}
inline std::string service_name_of(const ProcessRef& process) { return std::string(service_name_view(process)); }

struct ParentInfo {
  std::string exec_id;  // empty when the parent is unknown
  uint32_t pid = 0;
  std::string binary;
};

struct ExecEvent {
  uint64_t time_ns = 0;  // wall clock, ns since the Unix epoch
  uint32_t tid = 0;
  ProcessRef process;
  ParentInfo parent;
};

struct ExitEvent {
  uint64_t time_ns = 0;
  uint32_t tid = 0;
  ProcessRef process;
  std::optional<int> exit_code;  // set when the process exited by itself
  std::optional<int> signal;     // set when a signal ended it
  bool core_dumped = false;
  uint64_t duration_ns = 0;  // lifetime of the process
};

enum class OpenSyscall { kOpen, kOpenat, kOpenat2, kCreat };

struct FileOpenEvent {
  uint64_t time_ns = 0;
  uint32_t tid = 0;
  ProcessRef process;
  OpenSyscall syscall = OpenSyscall::kOpenat;
  std::string path;        // absolute: as given, or resolved against the cwd or dirfd
  std::string given_path;  // as the process gave it
  bool path_truncated = false;
  uint64_t flags = 0;  // O_* as passed to the call
  uint32_t mode = 0;
  std::optional<int> fd;     // on success
  std::optional<int> error;  // errno on failure
};

enum class PolicyOutcome { kLogged, kKilled, kWouldKill, kRefused, kDenied, kWouldDeny };

// A rule of a policy matched an event: a file open, an exec or an outbound connect.
struct PolicyEvent {
  uint64_t time_ns = 0;
  uint32_t tid = 0;
  ProcessRef process;
  std::string policy;
  std::string rule;
  std::string action;  // as the rule says: log, kill, deny, count
  PolicyOutcome outcome = PolicyOutcome::kLogged;
  std::vector<std::string> also_matched;  // "policy/rule" of the other rules that matched
  enum class Kind { kOpen, kConnect, kExec, kAccept };
  Kind kind = Kind::kOpen;  // what matched
  // kConnect: the destination. kAccept: the peer, and the local port; no process when the
  // connection's first packet (or a UDP datagram) was judged as it arrived.
  std::string address;  // "10.1.2.3" or "2001:db8::1"
  uint16_t port = 0;
  uint16_t peer_port = 0;
  std::string protocol;  // "tcp" or "udp"
  // kOpen: the call, the path (absolute) and as given. kExec: `path` is the new executable.
  OpenSyscall syscall = OpenSyscall::kOpenat;
  std::string path;
  std::string given_path;
  bool path_truncated = false;
  uint64_t flags = 0;
};

// One end of a connection: "10.1.2.3" or "2001:db8::1", and a port.
struct Endpoint {
  std::string address;
  uint16_t port = 0;
};

enum class TcpDirection { kUnknown, kConnected, kAccepted };
enum class TcpEnd { kClosed, kResetSent, kResetReceived, kFailed };

// A TCP connection that ended.
struct TcpEvent {
  uint64_t time_ns = 0;                             // when it closed
  ProcessRef process;                               // null when no process accepted it
  TcpDirection direction = TcpDirection::kUnknown;  // kUnknown: open before the agent started
  TcpEnd end = TcpEnd::kClosed;
  Endpoint local, remote;
  uint64_t bytes_sent = 0;  // data bytes sent (a retransmission counts once)
  uint64_t bytes_received = 0;
  uint32_t retransmits = 0;
  uint64_t duration_ns = 0;  // 0 when its start was not seen
};

// The bounds of the HTTP request duration histograms' buckets, in seconds (OpenTelemetry's
// defaults); a duration d is in the first bucket whose bound b has d <= b, or in +Inf.
inline constexpr std::array<double, 14> kHttpDurationBounds = {0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25,
                                                               0.5,   0.75, 1,     2.5,  5,     7.5, 10};

// Exchanges counted together, under one HttpEvent's labels (the kernel tallies them when
// http.request events are off): how many, their durations summed, and how many fell in each
// bucket of kHttpDurationBounds (+Inf last; not cumulative).
struct HttpTally {
  uint64_t count = 0;
  uint64_t sum_ns = 0;
  std::array<uint64_t, kHttpDurationBounds.size() + 1> buckets{};
};

// One HTTP/1.x request and its response, seen by the server or the client process.
struct HttpEvent {
  uint64_t time_ns = 0;  // the last response byte
  ProcessRef process;
  bool server = true;  // the process served it (false: it sent the request)
  std::string method;  // GET, POST, ..., or _OTHER
  std::string target;  // as on the request line
  std::string route;   // target with IDs collapsed, or the configured pattern it matched
  int status = 0;
  uint64_t duration_ns = 0;  // first request byte to last response byte
  uint64_t request_bytes = 0, response_bytes = 0;
  Endpoint local, remote;
  // Counted in the metrics but not written out (sensors.network.http_events): its target is
  // left empty.
  bool metrics_only = false;
  std::optional<TraceContext> trace;  // the request's W3C traceparent, when it had a valid one
  // Set: the event stands for these exchanges (metrics_only; its duration, times and byte
  // counts unset), not for one.
  std::shared_ptr<const HttpTally> tally;
};

// A DNS query a process made and the answer it got.
struct DnsEvent {
  uint64_t time_ns = 0;  // the answer, or the query when none came
  ProcessRef process;
  std::string name;                  // the question, dotted
  std::string type;                  // A, AAAA, ...
  std::string rcode;                 // NOERROR, NXDOMAIN, ...; empty when no answer was seen
  std::vector<std::string> answers;  // "A 10.0.0.1", "CNAME example.org", ...
  uint64_t latency_ns = 0;
  Endpoint server;
  std::string transport;  // "udp" or "tcp"
};

// A packet an XDP `sample` rule took, its headers decoded as far as the captured prefix goes.
struct PacketSampleEvent {
  uint64_t time_ns = 0;  // wall clock
  std::string interface, rule;
  uint32_t length = 0;    // the frame's
  uint32_t captured = 0;  // bytes of it sampled
  std::string eth_src, eth_dst;  // empty when even the Ethernet header was not captured
  uint16_t eth_type = 0;
  int vlan = -1;                 // -1: untagged
  int ip_version = 0;            // 0: no IP header captured
  std::string ip_src, ip_dst;
  int protocol = -1;             // IPv4 protocol or IPv6 next header
  int ttl = 0;                   // TTL or hop limit
  uint32_t ip_length = 0;
  std::string fragment;          // "", "first" or "later" (no L4 header then)
  std::string l4;                // "tcp", "udp", "icmp" or "" (not captured, or another protocol)
  uint16_t sport = 0, dport = 0;
  std::string tcp_flags;         // "SA", ...
  int icmp_type = -1, icmp_code = -1;
};

using Event = std::variant<ExecEvent, ExitEvent, FileOpenEvent, PolicyEvent, TcpEvent, HttpEvent, DnsEvent,
                           PacketSampleEvent>;

// The "type" of the events held at each index of Event, as written out: "process.exec", ...
inline constexpr const char* kEventTypeNames[] = {"process.exec", "process.exit", "file.open", "policy.match",
                                                  "network.tcp",  "http.request", "dns.query",  "packet.sample"};
static_assert(std::size(kEventTypeNames) == std::variant_size_v<Event>);

inline const char* event_type_name(const Event& e) { return kEventTypeNames[e.index()]; }

// Whether an event is written out, or only counted in the metrics.
inline bool written_out(const Event& e) {
  const auto* http = std::get_if<HttpEvent>(&e);
  return !http || !http->metrics_only;
}

// Counts of records the kernel could not deliver, by sensor and cause.
struct DropCount {
  std::string sensor;
  std::string cause;
  uint64_t count = 0;
};

struct Stats {
  uint64_t events = 0;  // delivered to the exporter
  std::vector<DropCount> drops;
};

}  // namespace waggle
