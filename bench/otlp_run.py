#!/usr/bin/env python3
"""waggle OTLP export cost: the agent's CPU per exported span.

nginx under a paced wrk load on loopback (12 connections, each waiting 1 ms after every
response: about 10,000 requests per second, both ends instrumented: two spans per request),
with the agent's OTLP export off and on (to a sink on loopback that takes every request),
interleaved round by round. Prints the agent's CPU per request in both, the difference per
span, the spans the collector accepted against those made, and the agent's peak RSS.

Usage: sudo bench/otlp_run.py [--build build] [--rounds 5] [--seconds 10]
"""
import http.server
import os
import re
import shutil
import statistics
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from http_run import bench_arguments, binaries, free_port, start_nginx, wrk  # noqa: E402
from run import Agent  # noqa: E402


class Sink(http.server.BaseHTTPRequestHandler):
    """An OTLP/HTTP collector that takes everything (and decodes nothing)."""
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def metric(port, name, labels):
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    m = re.search(r"^" + name + r"\{" + labels + r"\} (\S+)$", text, re.MULTILINE)
    return float(m.group(1)) if m else 0.0


def main():
    ap = bench_arguments(__doc__)
    ap.add_argument("--seconds", type=int, default=10)
    args = ap.parse_args()
    waggle, _ = binaries(args.build)
    tmp = tempfile.mkdtemp(prefix="waggle-otlp-bench-")
    sink = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Sink)
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    port = free_port()
    nginx = start_nginx(tmp, port)
    script = os.path.join(tmp, "paced.lua")
    with open(script, "w") as f:
        f.write("function delay()\n  return 1\nend\n")
    results = {"off": {"cpu": [], "rps": [], "rss": []}, "on": {"cpu": [], "rps": [], "rss": [], "sent": [],
                                                                 "made": [], "dropped": []}}
    try:
        wrk(port, 1, 12, script)
        for r in range(args.rounds):
            for name in (["off", "on"] if r % 2 == 0 else ["on", "off"]):
                metrics_port = free_port()
                config = os.path.join(tmp, f"{name}.yaml")
                with open(config, "w") as f:
                    f.write(f"sensors:\n  file: {{enabled: false}}\nmetrics: {{address: 127.0.0.1:{metrics_port}}}\n")
                    if name == "on":
                        f.write(f"otlp: {{endpoint: 'http://127.0.0.1:{sink.server_port}', metrics: false}}\n")
                agent = Agent([waggle, "run", "--config", config, "--output-file", os.devnull], "waggle: ready")
                cpu0 = agent.cpu()
                made0 = metric(metrics_port, "waggle_events_total", 'type="http.request"')
                rps, _ = wrk(port, args.seconds, 12, script)
                time.sleep(1.5)  # the last batches leave (batch_timeout 1 s)
                res = results[name]
                requests = rps * args.seconds
                res["cpu"].append((agent.cpu() - cpu0) / requests)
                res["rps"].append(rps)
                res["rss"].append(agent.rss())
                if name == "on":
                    res["made"].append(metric(metrics_port, "waggle_events_total", 'type="http.request"') - made0)
                    res["sent"].append(metric(metrics_port, "waggle_otlp_sent_total", 'signal="traces"'))
                    res["dropped"].append(metric(metrics_port, "waggle_otlp_dropped_total", '[^}]*'))
                agent.stop()
                print(f"round {r + 1} otlp {name:3} {rps:8.0f} req/s  agent {res['cpu'][-1] * 1e6:.2f} us/request",
                      flush=True)
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)
        sink.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)
    off, on = results["off"], results["on"]
    per_span = statistics.median((a - b) / 2 for a, b in zip(on["cpu"], off["cpu"]))
    print()
    print(f"paced nginx + wrk (12 connections, 1 ms think time, {args.seconds} s, {args.rounds} rounds, medians)")
    print(f"  otlp off  {statistics.median(off['rps']):8.0f} req/s  agent {statistics.median(off['cpu']) * 1e6:.2f} us "
          f"per request, peak RSS {max(off['rss']) / 1024:.1f} MiB")
    print(f"  otlp on   {statistics.median(on['rps']):8.0f} req/s  agent {statistics.median(on['cpu']) * 1e6:.2f} us "
          f"per request, peak RSS {max(on['rss']) / 1024:.1f} MiB")
    print(f"  per exported span: {per_span * 1e6:.2f} us of agent CPU; spans accepted {sum(on['sent']):.0f} "
          f"of {sum(on['made']):.0f} made, dropped {sum(on['dropped']):.0f}")


if __name__ == "__main__":
    main()
