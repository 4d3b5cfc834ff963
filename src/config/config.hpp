// The agent's configuration: read from YAML, validated against its schema, or built from
// command-line options. A Config that exists is valid.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace waggle {

enum class OutputFormat { kJson, kText };

struct OutputConfig {
  OutputFormat format = OutputFormat::kJson;
  std::string file;                      // empty: standard output
  uint64_t rotate_bytes = 100ull << 20;  // rotate the file when it would pass this size
  uint32_t rotate_keep = 5;              // rotated files kept: file.1 ... file.N
};

struct FileFilterConfig {
  std::vector<std::string> prefix;
  std::vector<std::string> exact;
  std::vector<std::string> suffix;
};

// Network sensor: TCP connections, and HTTP/1.x and DNS seen in socket reads and writes.
struct NetworkConfig {
  bool tcp = true;
  bool http = true;
  bool dns = true;
  std::vector<uint16_t> ports;          // only sockets with one of these local or remote ports
  std::vector<std::string> binaries;    // only processes running one of these executables
  std::vector<std::string> containers;  // only processes in one of these containers (id prefixes)
  std::vector<std::string> routes;      // HTTP route patterns, e.g. /users/{id}
  // Which HTTP exchanges become http.request events (the metrics count every one): 1 all,
  // 0 none, N one in N of each service's route and role (`http_events: sampled N`).
  uint32_t http_events_every = 1;
  // `http_parsing: kernel`: exchanges the kernel can delimit are parsed there and posted once
  // each; `user`: every call of an HTTP connection is posted and parsed in user space.
  bool http_in_kernel = true;
};

// The Prometheus endpoint of `waggle run`.
struct MetricsConfig {
  bool enabled = true;
  std::string address = "127.0.0.1:9464";
  bool program_stats = false;  // per-program run counts and times (the kernel's BPF statistics)
  bool ui = true;              // the web UI at http://ADDRESS/ (docs/ui.md)
};

// The CPU profiler of `waggle run`: sampling stays attached; stacks are unwound and named only
// while the metrics endpoint serves a /debug/pprof/profile or /debug/flamegraph request.
struct ProfilerConfig {
  bool enabled = true;
  uint32_t frequency_hz = 19;                 // samples per second per CPU, 1 to 999
  bool kernel_stacks = true;
  bool user_stacks = true;
  uint32_t stack_bytes = 16384;               // user stack copied per sample, at most 32768
  double max_seconds = 60;                    // longest window a request may ask for
  std::string debug_root = "/usr/lib/debug";  // debug files by build-id and debuglink
  uint32_t max_processes = 256;               // unwinding contexts kept (least recently used go first)
};

// Packet rules `waggle run` attaches at start and detaches at stop (docs/xdp.md).
struct XdpAttachConfig {
  std::string interface;
  std::string rules;           // a PacketRules file
  std::string netns;           // the interface's network namespace (name under /run/netns, or a path)
  std::string mode = "auto";   // auto, native or generic
  bool keep_attached = false;  // left attached (pinned) when the agent stops
  int line = 0;                // where the entry is, for errors found when the rules are read
};

// OTLP export of `waggle run` (docs/otlp.md): HTTP exchanges as spans, the metrics, and
// optionally the events as logs, to an OpenTelemetry collector. Off while endpoint is empty.
enum class OtlpProtocol { kHttpProtobuf, kHttpJson, kGrpc };

struct OtlpConfig {
  std::string endpoint;  // as written: http[s]://host[:port][/path]; signals go to path/v1/traces, ...
  std::string origin;    // http[s]://host:port of the endpoint (port 4318 when not given, 4317 for grpc)
  std::string path;      // its path, without a trailing '/' ("" for none)
  OtlpProtocol protocol = OtlpProtocol::kHttpProtobuf;
  std::vector<std::pair<std::string, std::string>> headers;  // sent with every request
  std::string ca_file;    // https: certificates to verify the collector with (else the system's)
  std::string cert_file;  // https: a client certificate and its key
  std::string key_file;
  bool insecure_skip_verify = false;
  bool traces = true;                // http.request exchanges as spans
  bool metrics = true;               // what the Prometheus endpoint serves, every metrics_interval_s
  bool logs = false;                 // every event written out, as a log record (its JSON line)
  double metrics_interval_s = 10;
  uint32_t queue_size = 8192;        // spans (and log records) waiting to be sent; beyond: dropped, counted
  uint32_t batch_size = 512;         // at most this many per request
  double batch_timeout_s = 1;        // a batch waits at most this long to fill
  double timeout_s = 10;             // per request
  double max_backoff_s = 30;         // retries after failures wait 0.5 s, 1 s, ... up to this
};

// Checks an OTLP endpoint and splits it into origin and path. Returns "" when valid, else
// what is wrong.
std::string parse_otlp_endpoint(std::string_view endpoint, std::string* origin, std::string* path,
                                uint16_t default_port = 4318);

struct Config {
  OutputConfig output;
  bool process_enabled = true;
  bool file_enabled = true;
  FileFilterConfig file_filter;
  bool network_enabled = true;
  NetworkConfig network;
  MetricsConfig metrics;
  ProfilerConfig profiler;
  std::vector<XdpAttachConfig> xdp;
  OtlpConfig otlp;
  std::optional<uint32_t> pid;              // only this process
  std::optional<std::string> comm;          // only processes with this comm
  uint64_t ring_buffer_bytes = 8ull << 20;  // power of two, at least one page; mapped twice into the agent
  std::optional<double> duration_s;         // stop after this long
  bool stats = false;                       // print drop statistics periodically and at exit
};

// Reads and validates a YAML configuration. On error, returns nothing and sets *error to
// "FILE:LINE:COLUMN: what was wrong and what was expected".
std::optional<Config> load_config(const std::string& path, std::string* error);

// Same, from YAML text; `name` stands for the file in error messages.
std::optional<Config> parse_config(const std::string& yaml, const std::string& name, std::string* error);

// Checks limits that hold whatever the source (YAML or command line): filter lengths,
// ring buffer size. Returns an empty string when valid, else the error.
std::string validate_limits(const Config& config);

// Parses a byte size as written in the configuration: an integer, optionally followed by a
// unit B, K or KiB, M or MiB, G or GiB (powers of 1024), e.g. "64MiB" or "4096". Returns
// nothing when malformed or beyond 64 bits. Limits are checked by validate_limits.
std::optional<uint64_t> parse_size(std::string_view text);

// Parses a duration: a decimal number (e.g. 10 or 1.5), optionally followed by a unit ms,
// s, m or h; a plain number means seconds. Returns seconds, or nothing when malformed.
std::optional<double> parse_duration(std::string_view text);

}  // namespace waggle
