#!/usr/bin/env python3
"""Two or more waggle binaries under the same nginx + wrk load, in turns: per request, the
network sensor's BPF programs' time in the kernel and the agent's CPU, and the programs' time
per run of the socket-data programs (wg_sock_send, wg_sock_recv). The kernel's BPF statistics
are on for every run. For comparing builds (copy each build's `waggle` aside first):

    sudo python3 bench/http_builds_run.py --rounds 8 /tmp/before/waggle build/waggle

With --paced, the load and the agent's configuration are http_run.py's paced ones (about 10,000
requests/s, the kernel's statistics off) instead, and each build's agent CPU (share of a core,
and per request) and peak RSS are given:

    sudo python3 bench/http_builds_run.py --paced --rounds 4 --seconds 10 /tmp/before/waggle build/waggle
"""
import os
import shutil
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from http_run import bench_arguments, free_port, network_program_stats, paced_script, start_nginx, wrk  # noqa: E402
from run import Agent  # noqa: E402


def measure(waggle, config, metrics_port, nginx_port, seconds):
    """(kernel µs per request, ns per socket-data run, agent µs per request, requests/s)."""
    agent = Agent([waggle, "run", "--config", config, "--output-file", os.devnull], "waggle: ready")
    try:
        before, cpu0 = network_program_stats(metrics_port), agent.cpu()
        rps, _ = wrk(nginx_port, seconds, 50)
        time.sleep(1.2)  # the agent reads the kernel's statistics once a second
        after, cpu = network_program_stats(metrics_port), agent.cpu() - cpu0
    finally:
        agent.stop()
    requests = rps * seconds
    delta = {k: [after[k][i] - before.get(k, [0.0, 0.0])[i] for i in (0, 1)] for k in after}
    kernel = sum(s for _, s in delta.values())
    data_runs = sum(r for k, (r, _) in delta.items() if k.startswith("wg_sock_"))
    data_seconds = sum(s for k, (_, s) in delta.items() if k.startswith("wg_sock_"))
    return (kernel / requests * 1e6, data_seconds / data_runs * 1e9 if data_runs else 0.0, cpu / requests * 1e6,
            rps)


def measure_paced(waggle, config, nginx_port, seconds, script):
    """(agent's share of a core, agent µs per request, peak RSS in MiB, requests/s)."""
    agent = Agent([waggle, "run", "--config", config, "--output-file", os.devnull], "waggle: ready")
    try:
        cpu0, start = agent.cpu(), time.perf_counter()
        rps, _ = wrk(nginx_port, seconds, 12, script)
        share = (agent.cpu() - cpu0) / (time.perf_counter() - start)
        rss = agent.rss() / 1024
    finally:
        agent.stop()
    return share, share / rps * 1e6, rss, rps


def main():
    ap = bench_arguments(__doc__)
    ap.add_argument("--seconds", type=int, default=4)
    ap.add_argument("--paced", action="store_true", help="about 10,000 requests/s instead of wrk's most")
    ap.add_argument("waggle", nargs="+", help="waggle binaries to compare")
    args = ap.parse_args()
    binaries = [os.path.abspath(b) for b in args.waggle]
    tmp = tempfile.mkdtemp(prefix="waggle-builds-bench-")
    nginx = None
    try:
        nginx_port, metrics_port = free_port(), free_port()
        nginx = start_nginx(tmp, nginx_port)
        config = os.path.join(tmp, "config.yaml")
        with open(config, "w") as f:
            f.write(f"sensors:\n  file: {{enabled: false}}\n"
                    f"metrics: {{address: 127.0.0.1:{metrics_port}, program_stats: true}}\n")
        paced_config = os.path.join(tmp, "paced.yaml")  # as http_run.py's paced step: no statistics
        with open(paced_config, "w") as f:
            f.write(f"sensors:\n  file: {{enabled: false}}\nmetrics: {{address: 127.0.0.1:{metrics_port}}}\n")
        wrk(nginx_port, 1, 50)  # warm up
        results = {b: [] for b in binaries}
        for r in range(args.rounds):
            order = binaries if r % 2 == 0 else binaries[::-1]
            for b in order:
                if args.paced:
                    results[b].append(measure_paced(b, paced_config, nginx_port, args.seconds, paced_script(tmp)))
                    share, a, rss, rps = results[b][-1]
                    print(f"round {r + 1} {b}: agent {share * 100:.2f}% of a core, {a:.3f} µs/request, "
                          f"peak RSS {rss:.1f} MiB, {rps:.0f} req/s", flush=True)
                    continue
                results[b].append(measure(b, config, metrics_port, nginx_port, args.seconds))
                k, ns, a, rps = results[b][-1]
                print(f"round {r + 1} {b}: kernel {k:.3f} µs/request, {ns:.0f} ns per data run, agent {a:.3f} "
                      f"µs/request, {rps:.0f} req/s", flush=True)
    finally:
        if nginx:
            nginx.terminate()
            nginx.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    if args.paced:
        print(f"\nnginx + wrk, paced (12 connections, {args.seconds} s, {args.rounds} rounds, medians)")
        for b in binaries:
            share, a, rss, rps = (statistics.median(x[i] for x in results[b]) for i in range(4))
            print(f"  {b}: agent {share * 100:.2f}% of a core at {rps:.0f} req/s, {a:.3f} µs per request, "
                  f"peak RSS {rss:.1f} MiB")
        return
    print(f"\nnginx + wrk (50 connections, {args.seconds} s, {args.rounds} rounds, medians)")
    for b in binaries:
        k, ns, a = (statistics.median(x[i] for x in results[b]) for i in range(3))
        print(f"  {b}: kernel {k:.3f} µs per request, {ns:.0f} ns per data run, agent {a:.3f} µs per request")


if __name__ == "__main__":
    main()
