// OTLP export without the kernel: spans and metrics as messages, OTLP's JSON, the `otlp:`
// configuration, and the exporter's batching, retries and drops against an in-process receiver.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "config/config.hpp"
#include "export/otlp/otlp_exporter.hpp"
#include "export/otlp/otlp_json.hpp"
#include "export/otlp/otlp_metrics.hpp"
#include "otlp_receiver.hpp"

namespace waggle::otlp {
namespace {

using test::OtlpReceiver;

HttpEvent exchange(bool server, const std::string& target, int status) {
  auto process = std::make_shared<ProcessInfo>();
  process->pid = server ? 10 : 20;
  process->binary = server ? "/usr/sbin/nginx" : "/usr/bin/curl";
  process->comm = server ? "nginx" : "curl";
  HttpEvent e;
  e.process = process;
  e.server = server;
  e.method = "GET";
  e.target = target;
  e.route = "/users/{id}";
  e.status = status;
  e.time_ns = 2'000'000'000;
  e.duration_ns = 1500;
  e.request_bytes = 80;
  e.response_bytes = 120;
  e.local = {"127.0.0.1", uint16_t(server ? 8080 : 40000)};
  e.remote = {"127.0.0.1", uint16_t(server ? 40000 : 8080)};
  return e;
}

// The spans of `events` as SpanEncoder writes them, parsed with the generated classes.
proto::collector::trace::v1::ExportTraceServiceRequest encoded(const std::vector<HttpEvent>& events,
                                                                 uint64_t seed = 1) {
  SpanEncoder encoder(HostResource{"host-a"}, seed);
  std::string bytes;
  encoder.encode(events, &bytes);
  proto::collector::trace::v1::ExportTraceServiceRequest request;
  EXPECT_TRUE(request.ParseFromString(bytes));
  // Encoded again, the same bytes: the encoder's buffers start clean every batch.
  std::string again;
  SpanEncoder(HostResource{"host-a"}, seed).encode(events, &again);
  EXPECT_EQ(again, bytes);
  return request;
}

std::string attribute(const proto::trace::v1::Span& span, const std::string& key) {
  for (const auto& kv : span.attributes())
    if (kv.key() == key)
      return kv.value().has_int_value() ? std::to_string(kv.value().int_value()) : kv.value().string_value();
  return "(none)";
}

TEST(OtlpSpans, ServerAndClientSpansFollowTheSemanticConventions) {
  HttpEvent server = exchange(true, "/users/7?x=1", 503), client = exchange(false, "/users/7?x=1", 404);
  TraceContext ctx;
  ctx.trace_id.fill(0xab);
  ctx.parent_id.fill(0xcd);
  server.trace = client.trace = ctx;
  auto request = encoded({server, client, exchange(true, "/users/8", 200)});
  ASSERT_EQ(request.resource_spans_size(), 3);  // one resource per process
  const auto& s = request.resource_spans(0).scope_spans(0).spans(0);
  EXPECT_EQ(s.name(), "GET /users/{id}");
  EXPECT_EQ(s.kind(), proto::trace::v1::Span::SPAN_KIND_SERVER);
  EXPECT_EQ(s.trace_id(), std::string(16, '\xab'));
  EXPECT_EQ(s.parent_span_id(), std::string(8, '\xcd'));
  EXPECT_EQ(s.span_id().size(), 8u);
  EXPECT_EQ(s.start_time_unix_nano(), 2'000'000'000u - 1500);
  EXPECT_EQ(s.end_time_unix_nano(), 2'000'000'000u);
  EXPECT_EQ(s.status().code(), proto::trace::v1::Status::STATUS_CODE_ERROR);  // a 5xx
  EXPECT_EQ(attribute(s, "url.path"), "/users/7");
  EXPECT_EQ(attribute(s, "url.query"), "x=1");
  EXPECT_EQ(attribute(s, "http.route"), "/users/{id}");
  EXPECT_EQ(attribute(s, "http.response.status_code"), "503");
  EXPECT_EQ(attribute(s, "server.port"), "8080");
  EXPECT_EQ(attribute(s, "client.port"), "40000");
  EXPECT_EQ(attribute(s, "http.request.size"), "80");
  EXPECT_EQ(attribute(s, "http.response.size"), "120");
  const auto& resource = request.resource_spans(0).resource();
  EXPECT_EQ(resource.attributes(0).key(), "service.name");
  EXPECT_EQ(resource.attributes(0).value().string_value(), "nginx");
  EXPECT_EQ(resource.attributes(1).key(), "host.name");
  EXPECT_EQ(resource.attributes(1).value().string_value(), "host-a");
  EXPECT_EQ(resource.attributes(2).key(), "process.pid");
  EXPECT_EQ(resource.attributes(2).value().int_value(), 10);
  EXPECT_EQ(request.resource_spans(0).scope_spans(0).scope().name(), "waggle");

  const auto& c = request.resource_spans(1).scope_spans(0).spans(0);
  EXPECT_EQ(c.name(), "GET");
  EXPECT_EQ(c.kind(), proto::trace::v1::Span::SPAN_KIND_CLIENT);
  EXPECT_EQ(c.trace_id(), std::string(16, '\xab'));
  EXPECT_EQ(c.parent_span_id(), std::string(8, '\xcd'));  // a child of the span the client named
  EXPECT_EQ(c.span_id().size(), 8u);
  EXPECT_NE(c.span_id(), std::string(8, '\xcd'));
  EXPECT_EQ(c.status().code(), proto::trace::v1::Status::STATUS_CODE_ERROR);  // a 4xx, for a client
  EXPECT_EQ(attribute(c, "url.full"), "http://127.0.0.1:8080/users/7?x=1");
  EXPECT_EQ(attribute(c, "server.port"), "8080");
  EXPECT_EQ(attribute(c, "http.route"), "(none)");

  const auto& plain = request.resource_spans(2).scope_spans(0).spans(0);
  EXPECT_EQ(plain.trace_id().size(), 16u);
  EXPECT_NE(plain.trace_id(), s.trace_id());
  EXPECT_EQ(plain.status().code(), proto::trace::v1::Status::STATUS_CODE_UNSET);
}

TEST(OtlpSpans, BytesThatAreNotUtf8BecomeReplacementCharacters) {
  HttpEvent e = exchange(true, "/caf\xe9?q=\xff", 200);
  e.route = "/caf\xe9";
  auto request = encoded({e});  // parses: every string is UTF-8
  const auto& s = request.resource_spans(0).scope_spans(0).spans(0);
  EXPECT_EQ(s.name(), "GET /caf\xEF\xBF\xBD");
  EXPECT_EQ(attribute(s, "url.path"), "/caf\xEF\xBF\xBD");
  EXPECT_EQ(attribute(s, "url.query"), "q=\xEF\xBF\xBD");
  std::string json, error;
  EXPECT_TRUE(to_otlp_json(request, &json, &error)) << error;
}

TEST(OtlpSpans, OneResourcePerProcessWithItsSpansInOrder) {
  std::vector<HttpEvent> events;
  for (int i = 0; i < 5; i++) events.push_back(exchange(i % 2 == 0, "/users/" + std::to_string(i), 200));
  // A long target: lengths over 127 bytes take two varint bytes.
  events.push_back(exchange(true, "/" + std::string(300, 'a'), 200));
  for (size_t i = 2; i < 5; i++) events[i].process = events[i % 2].process;  // two processes
  events[5].process = events[0].process;
  auto request = encoded(events);
  ASSERT_EQ(request.resource_spans_size(), 2);
  std::vector<std::string> paths;
  for (const auto& span : request.resource_spans(0).scope_spans(0).spans()) paths.push_back(attribute(span, "url.path"));
  EXPECT_EQ(paths, (std::vector<std::string>{"/users/0", "/users/2", "/users/4", "/" + std::string(300, 'a')}));
  EXPECT_EQ(request.resource_spans(1).scope_spans(0).spans_size(), 2);
}

TEST(OtlpMetrics, CountersGaugesAndHistogramsKeepTheirValuesAndLabels) {
  metrics::Registry registry;
  registry.counter("requests_total", "Requests.", {"route"})->add({"/a"}, 3);
  registry.gauge("queue_bytes", "Queued.", {})->set({}, 7);
  const double bounds[] = {0.1, 1};
  auto* h = registry.histogram("latency_seconds", "Latency.", {"route"}, bounds);
  h->observe({"/a"}, 0.05);
  h->observe({"/a"}, 0.5);
  h->observe({"/a"}, 5);
  proto::collector::metrics::v1::ExportMetricsServiceRequest request;
  add_metrics(registry.collect(), HostResource{"h"}, 100, 200, &request);
  std::map<std::string, proto::metrics::v1::Metric> by_name;
  for (const auto& m : request.resource_metrics(0).scope_metrics(0).metrics()) by_name[m.name()] = m;
  const auto& counter = by_name.at("requests_total").sum();
  EXPECT_TRUE(counter.is_monotonic());
  EXPECT_EQ(counter.aggregation_temporality(), proto::metrics::v1::AGGREGATION_TEMPORALITY_CUMULATIVE);
  EXPECT_EQ(counter.data_points(0).as_double(), 3);
  EXPECT_EQ(counter.data_points(0).attributes(0).key(), "route");
  EXPECT_EQ(counter.data_points(0).attributes(0).value().string_value(), "/a");
  EXPECT_EQ(counter.data_points(0).start_time_unix_nano(), 100u);
  EXPECT_EQ(counter.data_points(0).time_unix_nano(), 200u);
  EXPECT_EQ(by_name.at("queue_bytes").gauge().data_points(0).as_double(), 7);
  EXPECT_EQ(by_name.at("queue_bytes").unit(), "By");
  const auto& hist = by_name.at("latency_seconds");
  EXPECT_EQ(hist.unit(), "s");
  const auto& point = hist.histogram().data_points(0);
  EXPECT_EQ(point.count(), 3u);
  EXPECT_DOUBLE_EQ(point.sum(), 5.55);
  EXPECT_EQ(std::vector<uint64_t>(point.bucket_counts().begin(), point.bucket_counts().end()),
            (std::vector<uint64_t>{1, 1, 1}));
  EXPECT_EQ(std::vector<double>(point.explicit_bounds().begin(), point.explicit_bounds().end()),
            (std::vector<double>{0.1, 1}));
}

TEST(OtlpJson, IdsAreHexAndEnumsNumbersBothWays) {
  HttpEvent e = exchange(true, "/x", 200);
  TraceContext ctx;
  ctx.trace_id.fill(0x01);
  ctx.parent_id.fill(0xfe);
  e.trace = ctx;
  auto request = encoded({e}, 2);
  std::string json, error;
  ASSERT_TRUE(to_otlp_json(request, &json, &error)) << error;
  EXPECT_NE(json.find("\"traceId\":\"01010101010101010101010101010101\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"parentSpanId\":\"fefefefefefefefe\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"kind\":2"), std::string::npos) << json;
  proto::collector::trace::v1::ExportTraceServiceRequest back;
  ASSERT_TRUE(from_otlp_json(json, &back, &error)) << error;
  EXPECT_EQ(back.SerializeAsString(), request.SerializeAsString());
}

Config parse_ok(const std::string& yaml) {
  std::string error;
  auto config = parse_config(yaml, "waggle.yaml", &error);
  EXPECT_TRUE(config) << error;
  return config.value_or(Config{});
}

std::string parse_error(const std::string& yaml) {
  std::string error;
  EXPECT_FALSE(parse_config(yaml, "waggle.yaml", &error)) << yaml;
  return error;
}

TEST(OtlpConfig, EndpointsHeadersAndOptions) {
  Config c = parse_ok(
      "otlp:\n  endpoint: https://collector.example:4319/otlp/\n  protocol: http/json\n"
      "  headers: {Authorization: Bearer x, X-Scope: team-a}\n  tls: {ca_file: /etc/ca.pem}\n"
      "  logs: true\n  queue_size: 100\n  batch_size: 10\n  batch_timeout: 250ms\n");
  EXPECT_EQ(c.otlp.origin, "https://collector.example:4319");
  EXPECT_EQ(c.otlp.path, "/otlp");
  EXPECT_EQ(c.otlp.protocol, OtlpProtocol::kHttpJson);
  EXPECT_EQ(c.otlp.headers, (std::vector<std::pair<std::string, std::string>>{{"Authorization", "Bearer x"},
                                                                              {"X-Scope", "team-a"}}));
  EXPECT_EQ(c.otlp.ca_file, "/etc/ca.pem");
  EXPECT_TRUE(c.otlp.logs);
  EXPECT_EQ(c.otlp.queue_size, 100u);
  EXPECT_DOUBLE_EQ(c.otlp.batch_timeout_s, 0.25);
  Config d = parse_ok("otlp: {endpoint: \"http://[::1]\"}\n");
  EXPECT_EQ(d.otlp.origin, "http://[::1]:4318");
  EXPECT_EQ(d.otlp.path, "");
  EXPECT_TRUE(parse_ok("metrics: {enabled: true}\n").otlp.endpoint.empty());  // off by default
}

TEST(OtlpConfig, BadValuesSayWhereAndWhatWasExpected) {
  EXPECT_EQ(parse_error("otlp:\n  endpoint: collector:4318\n"),
            "waggle.yaml:2:13: otlp.endpoint: expected http://HOST[:PORT][/PATH] or https://... (e.g. "
            "http://127.0.0.1:4318), got \"collector:4318\"");
  EXPECT_NE(parse_error("otlp:\n  endpoint: http://c:99999\n").find("waggle.yaml:2:13: otlp.endpoint: "), std::string::npos);
  EXPECT_NE(parse_error("otlp:\n  endpoint: http://c?x\n").find("without user, query"), std::string::npos);
  EXPECT_NE(parse_error("otlp:\n  endpoint: http://::1\n").find("in brackets"), std::string::npos);
  EXPECT_NE(parse_error("otlp:\n  endpoint: http://c\n  headers: {Content-Type: text/plain}\n").find("set by the exporter"),
            std::string::npos);
  EXPECT_NE(parse_error("otlp:\n  endpoint: http://c\n  protocol: thrift\n").find("waggle.yaml:3:13: otlp.protocol: expected http/protobuf, http/json or grpc"),
            std::string::npos);
  EXPECT_NE(parse_error("otlp:\n  endpoint: http://c/otlp\n  protocol: grpc\n").find("a grpc endpoint has no path"),
            std::string::npos);
  EXPECT_EQ(parse_ok("otlp: {endpoint: \"http://c\", protocol: grpc}\n").otlp.origin, "http://c:4317");
  EXPECT_NE(parse_error("otlp:\n  batch_size: 5\n").find("endpoint is missing"), std::string::npos);
  EXPECT_NE(parse_error("otlp:\n  endpoint: http://c\n  tls: {ca_file: /x}\n").find("the endpoint is not https://"),
            std::string::npos);
  EXPECT_NE(parse_error("otlp:\n  endpoint: https://c\n  tls: {cert_file: /x}\n").find("cert_file and key_file go together"),
            std::string::npos);
  EXPECT_NE(parse_error("otlp:\n  endpoint: http://c\n  headers: {\"Bad Name\": x}\n").find("is not a header name"),
            std::string::npos);
  EXPECT_NE(parse_error("otlp:\n  endpoint: http://c\n  queue_size: 10\n  batch_size: 20\n").find("larger than queue_size"),
            std::string::npos);
  EXPECT_NE(parse_error("otlp:\n  endpoint: http://c\n  batch_timeout: soon\n").find("waggle.yaml:3:18: otlp.batch_timeout"),
            std::string::npos);
}

OtlpConfig exporter_config(int port) {
  OtlpConfig c;
  c.endpoint = "http://127.0.0.1:" + std::to_string(port);
  EXPECT_EQ(parse_otlp_endpoint(c.endpoint, &c.origin, &c.path), "");
  c.batch_timeout_s = 0.02;
  c.max_backoff_s = 0.5;
  c.timeout_s = 2;
  c.metrics = false;
  return c;
}

TEST(OtlpExporter, RetriesUntilTheCollectorTakesTheBatchAndLosesNothing) {
  OtlpReceiver receiver;
  receiver.fail_next(2, 503);
  OtlpConfig config = exporter_config(receiver.port());
  config.batch_size = 3;
  config.logs = true;
  metrics::Registry registry;
  std::string start_error;
  auto exporter = OtlpExporter::start(config, &registry, "h", &start_error);
  for (int i = 0; i < 7; i++) exporter->on_event(Event(exchange(true, "/users/" + std::to_string(i), 200)));
  HttpEvent sampled_out = exchange(true, "/skipped", 200);
  sampled_out.metrics_only = true;  // not written out: no span
  exporter->on_event(Event(sampled_out));
  exporter->on_line("{\"type\":\"process.exec\"}\n");
  ASSERT_TRUE(OtlpReceiver::wait_for([&] { return receiver.spans().size() >= 7 && !receiver.logs().empty(); }, 10));
  exporter->stop(1);
  std::vector<std::string> targets;
  for (const auto& s : receiver.spans()) targets.push_back(s.attribute("url.path"));
  EXPECT_EQ(targets, (std::vector<std::string>{"/users/0", "/users/1", "/users/2", "/users/3", "/users/4", "/users/5",
                                               "/users/6"}));
  EXPECT_EQ(receiver.failed(), 2u);
  OtlpExporter::Counts counts = exporter->counts();
  EXPECT_EQ(counts.sent_spans, 7u);
  EXPECT_EQ(counts.sent_logs, 1u);
  EXPECT_EQ(counts.dropped_spans, 0u);
  EXPECT_EQ(counts.failed_requests, 2u);
  EXPECT_EQ(receiver.logs()[0].resource_logs(0).scope_logs(0).log_records(0).body().string_value(),
            "{\"type\":\"process.exec\"}");
}

TEST(OtlpExporter, OverGrpcWithMetadataAndRetries) {
  OtlpReceiver receiver(OtlpReceiver::Grpc{});
  ASSERT_GT(receiver.port(), 0);
  receiver.fail_next(1, 503);  // UNAVAILABLE: tried again
  OtlpConfig config = exporter_config(receiver.port());
  config.protocol = OtlpProtocol::kGrpc;
  config.headers = {{"X-Scope-OrgID", "team-a"}};
  config.metrics = true;
  config.metrics_interval_s = 3600;
  metrics::Registry registry;
  registry.counter("things_total", "Things.", {})->add({}, 3);
  std::string start_error;
  auto exporter = OtlpExporter::start(config, &registry, "h", &start_error);
  ASSERT_TRUE(exporter) << start_error;
  for (int i = 0; i < 3; i++) exporter->on_event(Event(exchange(true, "/g/" + std::to_string(i), 200)));
  ASSERT_TRUE(OtlpReceiver::wait_for([&] { return receiver.spans().size() == 3; }, 10));
  exporter->stop(2);
  EXPECT_EQ(receiver.spans()[2].attribute("url.path"), "/g/2");
  EXPECT_EQ(test::otlp_metric_value(receiver.metrics(), "things_total"), 3);
  EXPECT_EQ(receiver.failed(), 1u);
  for (const std::string& v : receiver.header_values("x-scope-orgid")) EXPECT_EQ(v, "team-a");
  EXPECT_EQ(exporter->counts().failed_requests, 1u);
}

TEST(OtlpExporter, RejectedBatchesAndWhatIsLeftAtStopAreDroppedAndCounted) {
  OtlpReceiver receiver;
  receiver.fail_next(1, 400);  // a batch the collector will never take
  OtlpConfig config = exporter_config(receiver.port());
  config.batch_size = 2;
  config.queue_size = 4;
  metrics::Registry registry;
  std::string start_error;
  auto exporter = OtlpExporter::start(config, &registry, "h", &start_error);
  exporter->on_event(Event(exchange(true, "/a", 200)));
  exporter->on_event(Event(exchange(true, "/b", 200)));
  ASSERT_TRUE(OtlpReceiver::wait_for([&] { return exporter->counts().dropped_spans == 2; }, 5));
  EXPECT_TRUE(receiver.spans().empty());
  // Now the collector only answers 503: the queue fills (4), the rest is dropped at once; at
  // stop, the four still queued are dropped too.
  receiver.fail_next(1000, 503);
  for (int i = 0; i < 6; i++) exporter->on_event(Event(exchange(true, "/c", 200)));
  exporter->stop(0.3);
  OtlpExporter::Counts counts = exporter->counts();
  EXPECT_EQ(counts.sent_spans, 0u);
  EXPECT_EQ(counts.dropped_spans, 2u + 2u + 4u);
  auto families = registry.collect();
  std::map<std::string, double> dropped;
  for (const auto& f : families)
    if (f.name == "waggle_otlp_dropped_total")
      for (const auto& s : f.series) dropped[s.label_values[1]] = s.value;
  EXPECT_EQ(dropped, (std::map<std::string, double>{{"rejected", 2}, {"queue_full", 2}, {"shutdown", 4}}));
}

TEST(OtlpExporter, SendsTheMetricsOnceMoreAtStop) {
  OtlpReceiver receiver;
  OtlpConfig config = exporter_config(receiver.port());
  config.metrics = true;
  config.metrics_interval_s = 3600;
  metrics::Registry registry;
  auto* counter = registry.counter("things_total", "Things.", {});
  std::string start_error;
  auto exporter = OtlpExporter::start(config, &registry, "h", &start_error);
  counter->add({}, 5);
  exporter->stop(2);
  EXPECT_EQ(test::otlp_metric_value(receiver.metrics(), "things_total"), 5);
  EXPECT_EQ(exporter->counts().sent_metrics, 1u);
}

// A self-signed certificate for 127.0.0.1 (and its key) made with openssl in `dir`.
struct Certificate {
  std::string cert, key;
};
Certificate make_certificate(const std::filesystem::path& dir, const std::string& name) {
  Certificate c{(dir / (name + ".pem")).string(), (dir / (name + ".key")).string()};
  std::string command = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 "
                        "-addext subjectAltName=IP:127.0.0.1 -keyout " + c.key + " -out " + c.cert + " 2>/dev/null";
  EXPECT_EQ(system(command.c_str()), 0) << command;
  return c;
}

// Sends one span with `config` to `receiver`; whether it arrived.
bool delivered(OtlpConfig config, OtlpReceiver& receiver) {
  metrics::Registry registry;
  std::string error;
  auto exporter = OtlpExporter::start(config, &registry, "h", &error);
  EXPECT_TRUE(exporter) << error;
  if (!exporter) return false;
  exporter->on_event(Event(exchange(true, "/tls", 200)));
  bool ok = OtlpReceiver::wait_for([&] { return receiver.spans().size() == 1; }, 3);
  exporter->stop(0);
  return ok;
}

TEST(OtlpExporter, HttpsWithTheCollectorsCaClientCertificatesOrNoVerification) {
  char pattern[] = "/tmp/waggle-otlp-tls-XXXXXX";
  ASSERT_NE(mkdtemp(pattern), nullptr);
  std::filesystem::path dir = pattern;
  struct Remove {
    std::filesystem::path dir;
    ~Remove() { std::filesystem::remove_all(dir); }
  } remove{dir};  // also when an assertion fails
  Certificate server = make_certificate(dir, "server"), client = make_certificate(dir, "client");
  {
    OtlpReceiver receiver(OtlpReceiver::Tls{server.cert, server.key, ""});
    ASSERT_GT(receiver.port(), 0);
    OtlpConfig config = exporter_config(receiver.port());
    config.endpoint = "https://127.0.0.1:" + std::to_string(receiver.port());
    ASSERT_EQ(parse_otlp_endpoint(config.endpoint, &config.origin, &config.path), "");
    config.timeout_s = 1;
    EXPECT_FALSE(delivered(config, receiver));  // a self-signed certificate the system does not trust
    config.insecure_skip_verify = true;
    EXPECT_TRUE(delivered(config, receiver));
  }
  {
    OtlpReceiver receiver(OtlpReceiver::Tls{server.cert, server.key, ""});
    OtlpConfig config = exporter_config(receiver.port());
    config.endpoint = "https://127.0.0.1:" + std::to_string(receiver.port());
    ASSERT_EQ(parse_otlp_endpoint(config.endpoint, &config.origin, &config.path), "");
    config.ca_file = server.cert;
    EXPECT_TRUE(delivered(config, receiver));
  }
  {
    // A collector that wants a client certificate signed by `client`: given, then not.
    OtlpReceiver receiver(OtlpReceiver::Tls{server.cert, server.key, client.cert});
    OtlpConfig config = exporter_config(receiver.port());
    config.endpoint = "https://127.0.0.1:" + std::to_string(receiver.port());
    ASSERT_EQ(parse_otlp_endpoint(config.endpoint, &config.origin, &config.path), "");
    config.ca_file = server.cert;
    config.timeout_s = 1;
    EXPECT_FALSE(delivered(config, receiver));
    config.cert_file = client.cert;
    config.key_file = client.key;
    EXPECT_TRUE(delivered(config, receiver));
  }
}

TEST(OtlpExporter, UnreadableTlsFilesStopItFromStarting) {
  OtlpConfig config = exporter_config(4318);
  config.ca_file = "/nonexistent/ca.pem";
  std::string error;
  EXPECT_EQ(OtlpExporter::start(config, nullptr, "h", &error), nullptr);
  EXPECT_EQ(error, "otlp.tls.ca_file: cannot read /nonexistent/ca.pem: No such file or directory");
}

}  // namespace
}  // namespace waggle::otlp
