#!/usr/bin/env python3
"""waggle HTTP benchmark: nginx under wrk on loopback, without and with the agent (its network
sensor and metrics endpoint on, as `waggle run` starts them; and the same in metrics-only mode,
`http_events: none`, and with HTTP parsed in user space, `http_parsing: user`), measured in the same run with the variants interleaved round by round
(and, as the floor of the hooks, bpftrace with empty programs on the same tracepoints).

Prints, per variant: median throughput and p99 latency over the rounds, and their ratios to the
baseline; for the agent, its CPU time per second and peak RSS, and what it lost. Then, with
events on and in metrics-only mode, the agent's CPU and RSS at a fixed rate of about 10,000
requests per second, and, in a run with the kernel's BPF statistics on, the network programs'
time and the agent's CPU per request.

Usage: sudo bench/http_run.py [--build build] [--rounds 5] [--seconds 5] [--connections 50]
Needs root (loads BPF programs), nginx and wrk (scripts/setup.sh installs both).
"""
import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import Agent  # noqa: E402


# The floor of the hooks themselves: empty programs on every tracepoint the network sensor
# uses for data and connections, on a kernel with the socket layer's tracepoints (as `waggle
# doctor` shows): those two, the syscall exits it keeps, and the connection tracepoints.
_EXITS = ["accept", "accept4", "recvmmsg", "sendmmsg", "sendfile64", "recvfrom", "recvmsg"]
FLOOR_PROGRAM = ("tracepoint:sock:sock_send_length,tracepoint:sock:sock_recv_length," +
                 ",".join(f"tracepoint:syscalls:sys_exit_{c}" for c in _EXITS) +
                 ",tracepoint:sock:inet_sock_set_state,tracepoint:tcp:tcp_destroy_sock {}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_nginx(tmp, port):
    root = os.path.join(tmp, "nginx")
    os.makedirs(root, exist_ok=True)
    conf = os.path.join(root, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""worker_processes 1;
daemon off;
pid {root}/nginx.pid;
error_log {root}/error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {root}/body;
  proxy_temp_path {root}/proxy;
  fastcgi_temp_path {root}/fastcgi;
  uwsgi_temp_path {root}/uwsgi;
  scgi_temp_path {root}/scgi;
  keepalive_requests 1000000;
  server {{
    listen 127.0.0.1:{port};
    location /users/ {{ return 200 "user\\n"; }}
  }}
}}
""")
    proc = subprocess.Popen(["/usr/sbin/nginx", "-c", conf, "-p", root, "-e", root + "/error.log"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    return wait_for_port(proc, port, "nginx")


def wait_for_port(proc, port, name):
    """proc, once it accepts connections on 127.0.0.1:port (10 s at most)."""
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return proc
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(name + " did not start")


def network_program_stats(metrics_port):
    """program -> [runs, seconds] of the network sensor's BPF programs, from the agent's /metrics."""
    text = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10).read().decode()
    stats = {}
    for m in re.finditer(r'^waggle_bpf_program_(runs|run_seconds)_total\{([^}]*)\} (\S+)$', text, re.MULTILINE):
        if 'sensor="network"' not in m.group(2):
            continue
        name = re.search(r'program="([^"]+)"', m.group(2)).group(1)
        stats.setdefault(name, [0.0, 0.0])[0 if m.group(1) == "runs" else 1] += float(m.group(3))
    return stats


def network_program_seconds(metrics_port):
    """Seconds the network sensor's BPF programs have run, from the agent's /metrics."""
    return sum(seconds for _, seconds in network_program_stats(metrics_port).values())


def wrk(port, seconds, connections, script=None):
    """Requests per second and p99 latency (seconds) of one wrk run."""
    argv = ["/usr/bin/wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if script:
        argv += ["-s", script]
    out = subprocess.run(argv + [f"http://127.0.0.1:{port}/users/42"], check=True, capture_output=True,
                         text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    m = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    p99 = float(m.group(1)) * {"us": 1e-6, "ms": 1e-3, "s": 1.0}[m.group(2)]
    return rps, p99


def paced_script(tmp):
    """A wrk script for a fixed rate: with 12 connections, each waiting 1 ms after every
    response, about 10,000 requests/s."""
    script = os.path.join(tmp, "paced.lua")
    with open(script, "w") as f:
        f.write("function delay()\n  return 1\nend\n")
    return script


def bench_arguments(doc):
    """The options every network benchmark takes: the build directory and the rounds."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--rounds", type=int, default=5)
    return ap


def binaries(build):
    """The agent and the test helper of a build directory, as absolute paths."""
    return (os.path.abspath(os.path.join(build, "waggle")),
            os.path.abspath(os.path.join(build, "tests", "waggle_test_helper")))


def run_config(tmp):
    """A `waggle run` configuration as the HTTP benchmarks run the agent: the file sensor off,
    the metrics endpoint on a free port. Its path."""
    config = os.path.join(tmp, "config.yaml")
    with open(config, "w") as f:
        f.write(f"sensors:\n  file: {{enabled: false}}\nmetrics: {{address: 127.0.0.1:{free_port()}}}\n")
    return config


def stats_agent(waggle, tmp, network=""):
    """`waggle run` (file sensor off, the network sensor's settings `network` if any) with the
    kernel's BPF statistics on, and its metrics port."""
    port = free_port()
    config = os.path.join(tmp, "stats.yaml")
    with open(config, "w") as f:
        f.write(f"sensors:\n  file: {{enabled: false}}\n" + (f"  network: {network}\n" if network else "") +
                f"metrics: {{address: 127.0.0.1:{port}, program_stats: true}}\n")
    return Agent([waggle, "run", "--config", config, "--output-file", os.devnull], "waggle: ready"), port


def main():
    ap = bench_arguments(__doc__)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--connections", type=int, default=50)
    args = ap.parse_args()

    waggle = os.path.abspath(os.path.join(args.build, "waggle"))
    tmp = tempfile.mkdtemp(prefix="waggle-http-bench-")
    port = free_port()
    nginx = start_nginx(tmp, port)
    agent_argv = [waggle, "run", "--config", run_config(tmp)]
    metrics_config = os.path.join(tmp, "metrics-only.yaml")
    with open(metrics_config, "w") as f:
        f.write(f"sensors:\n  file: {{enabled: false}}\n  network: {{http_events: none}}\n"
                f"metrics: {{address: 127.0.0.1:{free_port()}}}\n")
    user_config = os.path.join(tmp, "user-parsing.yaml")
    with open(user_config, "w") as f:
        f.write(f"sensors:\n  file: {{enabled: false}}\n  network: {{http_parsing: user}}\n"
                f"metrics: {{address: 127.0.0.1:{free_port()}}}\n")
    argv_of = {"waggle": agent_argv, "metrics-only": [waggle, "run", "--config", metrics_config],
               "user-parsing": [waggle, "run", "--config", user_config]}
    results = {"baseline": {"rps": [], "p99": []}, "floor": {"rps": [], "p99": []}}
    for name in argv_of:
        results[name] = {"rps": [], "p99": [], "cpu": [], "rss": [], "lost": []}
    variants = ["baseline", "waggle", "metrics-only", "user-parsing", "floor"]
    try:
        wrk(port, 1, args.connections)  # warm up nginx
        for r in range(args.rounds):
            for name in variants[r % len(variants):] + variants[:r % len(variants)]:
                floor = Agent(["bpftrace", "-e", FLOOR_PROGRAM], None) if name == "floor" else None
                if floor and floor.proc.poll() is not None:  # a probe it could not attach
                    raise RuntimeError("bpftrace exited: " + floor.proc.stderr.read())
                agent = Agent(argv_of[name] + ["--output-file", os.devnull], "waggle: ready") \
                    if name in argv_of else None
                cpu0 = agent.cpu() if agent else 0
                start = time.perf_counter()
                rps, p99 = wrk(port, args.seconds, args.connections)
                elapsed = time.perf_counter() - start
                res = results[name]
                res["rps"].append(rps)
                res["p99"].append(p99)
                if agent:
                    res["cpu"].append((agent.cpu() - cpu0) / elapsed)
                    res["rss"].append(agent.rss())
                    stats = agent.stop()
                    res["lost"].append(stats["lost"] if stats else -1)
                if floor:
                    floor.proc.terminate()
                    floor.proc.wait(timeout=30)
                print(f"round {r + 1} {name:12} {rps:10.0f} req/s  p99 {p99 * 1e3:7.3f} ms", flush=True)

        # Paced, and where the cost goes per request (the network sensor's programs, from the
        # kernel's BPF statistics, on for this pass only: they cost every program run
        # something; and the agent), with events on and in metrics-only mode.
        script = paced_script(tmp)
        paced, passes = {}, {}
        for mode, argv, network in (("events on", agent_argv, ""),
                                    ("metrics-only", argv_of["metrics-only"], "{http_events: none}")):
            agent = Agent(argv + ["--output-file", os.devnull], "waggle: ready")
            cpu0 = agent.cpu()
            start = time.perf_counter()
            paced_rps, _ = wrk(port, args.seconds * 2, 12, script)
            paced[mode] = (paced_rps, (agent.cpu() - cpu0) / (time.perf_counter() - start), agent.rss())
            agent.stop()

            agent, stats_port = stats_agent(waggle, tmp, network)
            cpu0 = agent.cpu()
            before = network_program_seconds(stats_port)
            start = time.perf_counter()
            stats_rps, _ = wrk(port, args.seconds, args.connections)
            elapsed = time.perf_counter() - start
            time.sleep(1.2)  # the agent reads the kernel's statistics once a second: the last second too
            kernel_s = network_program_seconds(stats_port) - before
            agent_s = agent.cpu() - cpu0
            agent.stop()
            passes[mode] = (stats_rps, kernel_s, agent_s, elapsed)
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)

    base, wag = results["baseline"], results["waggle"]
    b_rps, w_rps = statistics.median(base["rps"]), statistics.median(wag["rps"])
    b_p99, w_p99 = statistics.median(base["p99"]), statistics.median(wag["p99"])
    print()
    print(f"nginx + wrk ({args.connections} connections, {args.seconds} s, {args.rounds} rounds, medians)")
    print(f"  baseline  {b_rps:10.0f} req/s   p99 {b_p99 * 1e3:7.3f} ms")
    print(f"  waggle    {w_rps:10.0f} req/s   p99 {w_p99 * 1e3:7.3f} ms   "
          f"throughput {w_rps / b_rps:.3f}x  p99 {w_p99 / b_p99:.3f}x")
    def per_round(res):
        """Per-round ratios to the baseline (each pair measured back to back): throughput, p99."""
        t = [v / b for v, b in zip(res["rps"], base["rps"])]
        p = [v / b for v, b in zip(res["p99"], base["p99"])]
        return (f"throughput {statistics.median(t):.3f}x [{min(t):.3f}..{max(t):.3f}], "
                f"p99 {statistics.median(p):.3f}x")

    def agent_cpu(res):
        return (f"agent CPU {statistics.median(res['cpu']) * 100:.1f}% of a core "
                f"({statistics.median(c / q for c, q in zip(res['cpu'], res['rps'])) * 1e6:.2f} us per request)")

    floor = results["floor"]
    print(f"  floor     {statistics.median(floor['rps']):10.0f} req/s   p99 "
          f"{statistics.median(floor['p99']) * 1e3:7.3f} ms   per round: {per_round(floor)} "
          f"(empty programs on the same hooks, bpftrace)")
    print(f"  per round (each pair measured back to back): {per_round(wag)}")
    print(f"  {agent_cpu(wag)}, peak RSS {max(wag['rss']) / 1024:.1f} MiB, lost {sum(wag['lost'])}")
    mo = results["metrics-only"]
    print(f"  metrics-only (http_events: none) {statistics.median(mo['rps']):10.0f} req/s, per round: "
          f"{per_round(mo)}; {agent_cpu(mo)}, lost {sum(mo['lost'])}")
    up = results["user-parsing"]
    print(f"  user-parsing (http_parsing: user) {statistics.median(up['rps']):10.0f} req/s, per round: "
          f"{per_round(up)}; {agent_cpu(up)}, lost {sum(up['lost'])}")
    for mode, (paced_rps, paced_cpu, paced_rss) in paced.items():
        print(f"{mode}, at {paced_rps:.0f} req/s (paced): agent CPU {paced_cpu * 100:.1f}% of a core, "
              f"peak RSS {paced_rss / 1024:.1f} MiB")
    for mode, (stats_rps, kernel_s, agent_s, elapsed) in passes.items():
        requests = stats_rps * args.seconds
        print(f"{mode}, per request, with BPF statistics on ({stats_rps:.0f} req/s): network programs "
              f"{kernel_s / requests * 1e6:.2f} us in the kernel, agent {agent_s / requests * 1e6:.2f} us of CPU "
              f"(over {elapsed:.1f} s)")


if __name__ == "__main__":
    main()
