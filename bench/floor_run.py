#!/usr/bin/env python3
"""Each sensor's floor: what `waggle run` with only that sensor costs syscalls it does not look
at. Two workloads from the test helper: getppid() (no sensor has a program on it: the cost is
the kernel's syscall tracing path, taken by every syscall of every task while any syscall
tracepoint has a program) and 1-byte write/read pairs through a pipe (not a socket, not an
open). Variants: no agent, each sensor alone, and the default configuration; they take turns
round by round.

Prints nanoseconds per call (median over rounds) and each variant's difference from no agent.

Usage: sudo bench/floor_run.py [--build build] [--rounds 5] [--calls 2000000]
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import Agent  # noqa: E402
from http_run import bench_arguments, binaries  # noqa: E402

# Sensors on (the rest off), as configuration; None: no agent.
VARIANTS = {
    "no agent": None,
    "process only": "sensors:\n  file: {enabled: false}\n  network: {enabled: false}\nmetrics: {enabled: false}\n",
    "file only (opens under /etc/)": "sensors:\n  process: {enabled: false}\n  file: {prefix: [/etc/]}\n"
                                     "  network: {enabled: false}\nmetrics: {enabled: false}\nprofiler: {enabled: false}\n",
    "network only": "sensors:\n  process: {enabled: false}\n  file: {enabled: false}\nmetrics: {enabled: false}\n"
                    "profiler: {enabled: false}\n",
    "default (config/waggle.yaml)": "",
}


def per_call_ns(helper, workload, calls):
    out = subprocess.run([helper, "syscalls", workload, str(calls)], check=True, capture_output=True,
                         text=True).stdout
    return float(out.strip())


def main():
    ap = bench_arguments(__doc__)
    ap.add_argument("--calls", type=int, default=2000000)
    args = ap.parse_args()
    waggle, helper = binaries(args.build)
    shipped = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "config", "waggle.yaml")
    tmp = tempfile.mkdtemp(prefix="waggle-floor-bench-")
    names = list(VARIANTS)
    ns = {(n, w): [] for n in names for w in ("getppid", "pipe")}
    try:
        for r in range(args.rounds):
            for name in names[r % len(names):] + names[:r % len(names)]:
                agent = None
                if VARIANTS[name] is not None:
                    config = shipped
                    if VARIANTS[name]:
                        config = os.path.join(tmp, "config.yaml")
                        with open(config, "w") as f:
                            f.write(VARIANTS[name])
                    agent = Agent([waggle, "run", "--config", config, "--output-file", os.devnull,
                                   "--control-socket", ""], "waggle: ready")
                for workload in ("getppid", "pipe"):
                    ns[(name, workload)].append(per_call_ns(helper, workload, args.calls))
                if agent:
                    agent.stop()
            print(f"round {r + 1} done", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print()
    print(f"ns per call ({args.calls} calls, {args.rounds} rounds, medians; difference from no agent)")
    print(f"{'variant':32} {'getppid':>16} {'pipe write/read':>18}")
    base = {w: statistics.median(ns[("no agent", w)]) for w in ("getppid", "pipe")}
    for name in names:
        cells = []
        for w in ("getppid", "pipe"):
            m = statistics.median(ns[(name, w)])
            cells.append(f"{m:7.1f} ({m - base[w]:+6.1f})")
        print(f"{name:32} {cells[0]:>16} {cells[1]:>18}")


if __name__ == "__main__":
    main()
