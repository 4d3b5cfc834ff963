#!/usr/bin/env python3
"""Off-CPU profiler cost, every variant measured in the same run and interleaved round by round.

The job is the worst case for an off-CPU profiler: two processes passing a byte back and forth
over two pipes, so that every round trip is two waits, two wakeups, two context switches per
side and four syscalls. Variants: no profiler, and `waggle profile --off-cpu` of every process
on the host at 19 and 99 Hz. Reports the job's slowdown against no profiler, the profiler's own
CPU time while the job runs, and the number of samples it wrote.

Usage: sudo python3 bench/offcpu_run.py [--build build] [--rounds 5] [--trips 50000]
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

from profile_run import proc_cpu_seconds  # this directory is on the path


def folded_samples(path):
    with open(path) as f:
        return sum(int(line.rsplit(" ", 1)[1]) for line in f if line.strip())


def measure(hz, args, tmp):
    """One job under one variant (hz 0: no profiler); returns (job wall s, profiler CPU s, samples)."""
    profiler = None
    out = os.path.join(tmp, "offcpu.folded")
    if hz:
        profiler = subprocess.Popen([args.waggle, "profile", "--off-cpu", "--frequency", str(hz), "--duration",
                                     "600", "--format", "folded", "--output", out], stderr=subprocess.DEVNULL)
        time.sleep(1.5)  # loaded and attached
    before = proc_cpu_seconds(profiler.pid) if profiler else 0
    wall = float(subprocess.run([args.target, "pingpong", str(args.trips)], check=True, capture_output=True,
                                text=True).stdout)
    cpu, samples = 0.0, 0
    if profiler:
        cpu = proc_cpu_seconds(profiler.pid) - before
        profiler.send_signal(2)
        profiler.wait()
        samples = folded_samples(out)
    return wall, cpu, samples


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--trips", type=int, default=50_000)
    args = ap.parse_args()
    args.waggle = os.path.join(args.build, "waggle")
    args.target = os.path.join(args.build, "tests", "profile_target")
    if os.geteuid() != 0:
        sys.exit("run as root: the profiler loads BPF programs")
    variants = [0, 19, 99]
    results = {v: [] for v in variants}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.rounds):
            for v in variants:
                results[v].append(measure(v, args, tmp))
    base = statistics.median(r[0] for r in results[0])
    print(f"pipe ping-pong, {args.trips} round trips, {args.rounds} rounds interleaved (medians)")
    print(f"{'variant':<22}{'job wall s':>11}{'slowdown':>10}{'per trip us':>12}{'profiler CPU s':>16}"
          f"{'of one core':>12}{'samples':>9}")
    for v in variants:
        wall = statistics.median(r[0] for r in results[v])
        cpu = statistics.median(r[1] for r in results[v])
        samples = statistics.median(r[2] for r in results[v])
        name = "none" if v == 0 else f"waggle --off-cpu {v} Hz"
        print(f"{name:<22}{wall:>11.3f}{wall / base:>9.3f}x{(wall - base) / args.trips * 1e6:>12.2f}"
              f"{cpu:>16.4f}{100 * cpu / wall:>11.2f}%{samples:>9.0f}")


if __name__ == "__main__":
    main()
