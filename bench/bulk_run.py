#!/usr/bin/env python3
"""waggle's cost on a connection that carries neither HTTP nor DNS: a bulk TCP transfer on
loopback (the test helper's tcp-pair: 4 KiB writes, read to the end), without and with the
agent (`waggle run` with the file sensor off, as bench/http_run.py runs it), the two taking
turns round by round. Then one run with the kernel's BPF statistics on: the network programs'
time per data call on that connection.

Prints the median transfer time of each, their ratio, and the per-call kernel time.

Usage: sudo bench/bulk_run.py [--build build] [--rounds 5] [--mib 2048]
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
from http_run import bench_arguments, binaries, run_config, network_program_stats, stats_agent  # noqa: E402


def transfer_seconds(helper, nbytes):
    start = time.perf_counter()
    subprocess.run([helper, "tcp-pair", str(nbytes), "0"], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def data_program_stats(metrics_port):
    """(runs, seconds) of the network sensor's data programs (not its TCP state ones)."""
    data = [v for name, v in network_program_stats(metrics_port).items() if not name.startswith("wg_tcp")]
    return sum(r for r, _ in data), sum(s for _, s in data)


def main():
    ap = bench_arguments(__doc__)
    ap.add_argument("--mib", type=int, default=2048)
    args = ap.parse_args()
    waggle, helper = binaries(args.build)
    nbytes = args.mib << 20
    tmp = tempfile.mkdtemp(prefix="waggle-bulk-bench-")
    try:
        config = run_config(tmp)
        times = {"baseline": [], "waggle": []}
        transfer_seconds(helper, nbytes >> 4)  # warm up
        for r in range(args.rounds):
            for name in (["baseline", "waggle"] if r % 2 == 0 else ["waggle", "baseline"]):
                agent = Agent([waggle, "run", "--config", config, "--output-file", os.devnull], "waggle: ready") \
                    if name == "waggle" else None
                times[name].append(transfer_seconds(helper, nbytes))
                if agent:
                    agent.stop()
                print(f"round {r + 1} {name:8} {times[name][-1]:.3f} s", flush=True)

        agent, stats_port = stats_agent(waggle, tmp)
        time.sleep(1.5)  # the agent reads the kernel's statistics once a second
        runs0, s0 = data_program_stats(stats_port)
        transfer_seconds(helper, nbytes)
        time.sleep(1.5)
        runs1, s1 = data_program_stats(stats_port)
        agent.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    base, wag = statistics.median(times["baseline"]), statistics.median(times["waggle"])
    pairs = [w / b for w, b in zip(times["waggle"], times["baseline"])]
    print()
    print(f"bulk TCP transfer of {args.mib} MiB on loopback ({args.rounds} rounds, medians)")
    print(f"  baseline  {base:.3f} s  ({args.mib / base:.0f} MiB/s)")
    print(f"  waggle    {wag:.3f} s  ({args.mib / wag:.0f} MiB/s)   time {wag / base:.3f}x, per round "
          f"{statistics.median(pairs):.3f}x [{min(pairs):.3f}..{max(pairs):.3f}]")
    print_data_calls(runs1 - runs0, s1 - s0)


def print_data_calls(runs, seconds):
    """The data programs' runs and time per run, from two reads of data_program_stats."""
    if runs > 0:
        print(f"  network data programs, BPF statistics on: {runs:.0f} runs, {seconds / runs * 1e9:.0f} ns per run")


if __name__ == "__main__":
    main()
