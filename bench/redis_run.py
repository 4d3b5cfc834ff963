#!/usr/bin/env python3
"""waggle's cost on request/response traffic that is neither HTTP nor DNS: redis-benchmark
against redis-server on loopback (50 connections, SET and GET), without and with the agent
(`waggle run` with the file sensor off, as bench/http_run.py runs it), the two taking turns
round by round. Then one run with the kernel's BPF statistics on: the network programs' time
per data call on those connections (their first bytes are not HTTP: each call costs the
connection's lookup and no more).

Prints the median requests per second of each test, the ratios, and the per-call kernel time.

Usage: sudo bench/redis_run.py [--build build] [--rounds 5] [--requests 200000]
Needs root (loads BPF programs) and redis-server (scripts/setup.sh installs it).
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import Agent  # noqa: E402
from http_run import bench_arguments, binaries, free_port, run_config, stats_agent, wait_for_port  # noqa: E402
from bulk_run import data_program_stats, print_data_calls  # noqa: E402

TESTS = ("SET", "GET")


def start_redis(tmp, port):
    proc = subprocess.Popen(["/usr/bin/redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", tmp, "--daemonize", "no"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    return wait_for_port(proc, port, "redis-server")


def benchmark(port, requests):
    """Requests per second of each test, from one redis-benchmark run."""
    out = subprocess.run(["/usr/bin/redis-benchmark", "-p", str(port), "-c", "50", "-n", str(requests), "-t",
                          ",".join(t.lower() for t in TESTS), "--csv"], check=True, capture_output=True,
                         text=True).stdout
    rates = {}
    for line in out.splitlines():
        fields = [f.strip('"') for f in line.split(",")]
        if fields and fields[0] in TESTS:
            rates[fields[0]] = float(fields[1])
    if set(rates) != set(TESTS):
        raise RuntimeError("unexpected redis-benchmark output: " + out)
    return rates


def main():
    ap = bench_arguments(__doc__)
    ap.add_argument("--requests", type=int, default=200000)
    args = ap.parse_args()
    if not os.path.exists("/usr/bin/redis-benchmark"):
        sys.exit("redis-benchmark is missing: run scripts/setup.sh")
    waggle, _ = binaries(args.build)
    tmp = tempfile.mkdtemp(prefix="waggle-redis-bench-")
    port = free_port()
    redis = start_redis(tmp, port)
    try:
        config = run_config(tmp)
        rates = {"baseline": [], "waggle": []}
        benchmark(port, args.requests // 10)  # warm up
        for r in range(args.rounds):
            for name in (["baseline", "waggle"] if r % 2 == 0 else ["waggle", "baseline"]):
                agent = Agent([waggle, "run", "--config", config, "--output-file", os.devnull], "waggle: ready") \
                    if name == "waggle" else None
                rates[name].append(benchmark(port, args.requests))
                if agent:
                    agent.stop()
                print(f"round {r + 1} {name:8} " + "  ".join(f"{t} {rates[name][-1][t]:,.0f}/s" for t in TESTS),
                      flush=True)

        agent, stats_port = stats_agent(waggle, tmp)
        time.sleep(1.5)  # the agent reads the kernel's statistics once a second
        runs0, s0 = data_program_stats(stats_port)
        benchmark(port, args.requests)
        time.sleep(1.5)
        runs1, s1 = data_program_stats(stats_port)
        agent.stop()
    finally:
        redis.terminate()
        redis.wait()
        shutil.rmtree(tmp, ignore_errors=True)

    print()
    print(f"redis-benchmark, 50 connections, {args.requests} requests per test ({args.rounds} rounds, medians)")
    for t in TESTS:
        base = statistics.median(x[t] for x in rates["baseline"])
        wag = statistics.median(x[t] for x in rates["waggle"])
        pairs = [w[t] / b[t] for w, b in zip(rates["waggle"], rates["baseline"])]
        print(f"  {t}: baseline {base:,.0f}/s, waggle {wag:,.0f}/s: {wag / base:.3f}x, per round "
              f"{statistics.median(pairs):.3f}x [{min(pairs):.3f}..{max(pairs):.3f}]")
    print_data_calls(runs1 - runs0, s1 - s0)


if __name__ == "__main__":
    main()
