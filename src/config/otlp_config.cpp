#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "config/otlp_reader.hpp"

namespace waggle {
namespace {

using yaml_check::Entry;
using yaml_check::Reader;
using yaml_check::Value;

bool is_token_char(unsigned char c) {
  return std::isalnum(c) || std::string_view("!#$%&'*+-.^_`|~").find(char(c)) != std::string_view::npos;
}

double read_seconds(Reader& r, const Value& value, double min, double max) {
  std::string expected = fmt::format("a duration from {}s to {}s (e.g. 10s or 500ms)", min, max);
  auto seconds = parse_duration(r.string(value, expected));
  if (!seconds || *seconds < min || *seconds > max) r.fail(value, expected);
  return *seconds;
}

uint32_t read_count(Reader& r, const Value& value, int64_t min, int64_t max) {
  std::string expected = fmt::format("an integer from {} to {}", min, max);
  int64_t n = r.integer(value, expected);
  if (n < min || n > max) r.fail(value, expected);
  return uint32_t(n);
}

void read_headers(Reader& r, const Value& value, OtlpConfig& otlp) {
  constexpr std::string_view kExpected = "a mapping of header names to values (e.g. {Authorization: Bearer x})";
  if (!value.node.IsMap()) r.fail(value, kExpected);
  for (const auto& item : value.node) {
    Value key{item.first, value.path, item.first.Mark()};
    std::string name = r.string(key, "a header name");
    if (name.empty() || !std::all_of(name.begin(), name.end(), [](unsigned char c) { return is_token_char(c); }))
      Reader::fail_message(key, "\"" + name + "\" is not a header name (letters, digits and !#$%&'*+-.^_`|~)");
    Value v{item.second, value.path + "." + name, item.second.Mark()};
    std::string text = r.string(v, "a header value");
    if (std::any_of(text.begin(), text.end(), [](unsigned char c) { return (c < 0x20 && c != '\t') || c == 0x7f; }))
      Reader::fail_message(v, "a header value cannot hold control characters or line breaks");
    // The exporter sets these itself.
    for (std::string_view reserved : {"content-type", "content-length", "host", "transfer-encoding", "connection",
                                      "content-encoding"})
      if (std::equal(name.begin(), name.end(), reserved.begin(), reserved.end(),
                     [](char a, char b) { return std::tolower(a) == b; }))
        Reader::fail_message(key, "header " + name + " is set by the exporter itself");
    for (const auto& [other, _] : otlp.headers)
      if (std::equal(other.begin(), other.end(), name.begin(), name.end(),
                     [](char a, char b) { return std::tolower(a) == std::tolower(b); }))
        Reader::fail_message(key, "header " + name + " is given twice");
    otlp.headers.emplace_back(std::move(name), std::move(text));
  }
}

void read_tls(Reader& r, const Value& value, OtlpConfig& otlp) {
  for (const Entry& e : r.mapping(value, {"ca_file", "cert_file", "key_file", "insecure_skip_verify"})) {
    if (e.key == "insecure_skip_verify") {
      otlp.insecure_skip_verify = r.boolean(e.value);
      continue;
    }
    std::string path = r.string(e.value, "a file path");
    if (path.empty()) r.fail(e.value, "a file path");
    (e.key == "ca_file" ? otlp.ca_file : e.key == "cert_file" ? otlp.cert_file : otlp.key_file) = std::move(path);
  }
  if (otlp.cert_file.empty() != otlp.key_file.empty())
    Reader::fail_message(value, "cert_file and key_file go together (a client certificate and its key)");
}

}  // namespace

std::string parse_otlp_endpoint(std::string_view endpoint, std::string* origin, std::string* path,
                                uint16_t default_port) {
  constexpr std::string_view kExpected = "expected http://HOST[:PORT][/PATH] or https://... (e.g. http://127.0.0.1:4318)";
  bool tls = endpoint.starts_with("https://");
  if (!tls && !endpoint.starts_with("http://")) return fmt::format("{}, got \"{}\"", kExpected, endpoint);
  std::string_view rest = endpoint.substr(tls ? 8 : 7);
  if (rest.find_first_of("?#@ \t\\") != std::string_view::npos ||
      std::any_of(rest.begin(), rest.end(), [](unsigned char c) { return c < 0x20 || c >= 0x7f; }))
    return fmt::format("{} without user, query, fragment or spaces, got \"{}\"", kExpected, endpoint);
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view p = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  while (p.ends_with('/')) p.remove_suffix(1);
  if (!authority.starts_with('[') && std::count(authority.begin(), authority.end(), ':') > 1)
    return fmt::format("{}: an IPv6 address goes in brackets (http://[::1]:4318), got \"{}\"", kExpected, endpoint);
  std::string_view host = authority;
  uint16_t port = default_port;
  size_t colon = authority.rfind(':');
  bool bracketed = authority.starts_with('[');
  if (colon != std::string_view::npos && (!bracketed || colon > authority.find(']'))) {
    std::string_view digits = authority.substr(colon + 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || port == 0)
      return fmt::format("{}: the port must be 1 to 65535, got \"{}\"", kExpected, endpoint);
    host = authority.substr(0, colon);
  }
  if (host.empty() || host == "[]" || (bracketed && !host.ends_with(']')))
    return fmt::format("{}: no host in \"{}\"", kExpected, endpoint);
  *origin = fmt::format("{}://{}:{}", tls ? "https" : "http", host, port);
  *path = std::string(p);
  return {};
}

void read_otlp(Reader& r, const Value& value, OtlpConfig& otlp) {
  for (const Entry& e : r.mapping(value, {"endpoint", "protocol", "headers", "tls", "traces", "metrics", "logs",
                                          "metrics_interval", "queue_size", "batch_size", "batch_timeout",
                                          "timeout", "max_backoff"})) {
    if (e.key == "endpoint") {
      otlp.endpoint = r.string(e.value, "an URL (e.g. http://127.0.0.1:4318)");
      std::string problem = parse_otlp_endpoint(otlp.endpoint, &otlp.origin, &otlp.path);
      if (!problem.empty()) Reader::fail_message(e.value, problem);
    } else if (e.key == "protocol") {
      constexpr std::string_view kProtocols = "http/protobuf, http/json or grpc";
      std::string protocol = r.string(e.value, kProtocols);
      if (protocol == "http/protobuf")
        otlp.protocol = OtlpProtocol::kHttpProtobuf;
      else if (protocol == "http/json")
        otlp.protocol = OtlpProtocol::kHttpJson;
      else if (protocol == "grpc")
        otlp.protocol = OtlpProtocol::kGrpc;
      else
        r.fail(e.value, kProtocols);
    } else if (e.key == "headers") {
      read_headers(r, e.value, otlp);
    } else if (e.key == "tls") {
      read_tls(r, e.value, otlp);
    } else if (e.key == "traces" || e.key == "metrics" || e.key == "logs") {
      (e.key == "traces" ? otlp.traces : e.key == "metrics" ? otlp.metrics : otlp.logs) = r.boolean(e.value);
    } else if (e.key == "metrics_interval") {
      otlp.metrics_interval_s = read_seconds(r, e.value, 0.1, 3600);
    } else if (e.key == "queue_size") {
      otlp.queue_size = read_count(r, e.value, 1, 1000000);
    } else if (e.key == "batch_size") {
      otlp.batch_size = read_count(r, e.value, 1, 100000);
    } else if (e.key == "batch_timeout") {
      otlp.batch_timeout_s = read_seconds(r, e.value, 0.001, 60);
    } else if (e.key == "timeout") {
      otlp.timeout_s = read_seconds(r, e.value, 0.1, 300);
    } else {
      otlp.max_backoff_s = read_seconds(r, e.value, 0.5, 3600);
    }
  }
  if (otlp.protocol == OtlpProtocol::kGrpc && !otlp.endpoint.empty()) {
    parse_otlp_endpoint(otlp.endpoint, &otlp.origin, &otlp.path, 4317);  // gRPC's port by default
    if (!otlp.path.empty())
      Reader::fail_message(value, "a grpc endpoint has no path (e.g. http://127.0.0.1:4317), got " + otlp.endpoint);
    if (otlp.insecure_skip_verify)
      Reader::fail_message(value, "insecure_skip_verify is not available with grpc: give the collector's ca_file");
  }
  if (otlp.endpoint.empty() && value.node.IsMap() && value.node.size() > 0)
    Reader::fail_message(value, "endpoint is missing (e.g. endpoint: http://127.0.0.1:4318)");
  if (otlp.batch_size > otlp.queue_size)
    Reader::fail_message(value, "batch_size (" + std::to_string(otlp.batch_size) +
                                    ") is larger than queue_size (" + std::to_string(otlp.queue_size) + ")");
  if (!otlp.ca_file.empty() || !otlp.cert_file.empty() || otlp.insecure_skip_verify)
    if (!otlp.endpoint.empty() && !otlp.origin.starts_with("https://"))
      Reader::fail_message(value, "tls options are given but the endpoint is not https://");
}

}  // namespace waggle
