#!/usr/bin/env python3
"""Profiler benchmarks, every variant measured in the same run and interleaved round by round:

  * cost: both cores busy with a fixed CPU-bound job (two copies of profile_target fixed),
    under no profiler, `waggle profile` and `perf record --call-graph dwarf`, at 19 and 99 Hz.
    Reports the job's slowdown against no profiler and the profiler's own CPU time against the
    job's (ratio and percent of one core).
  * memory: `waggle profile` of 100 distinct processes (100 spinning processes sharing the
    2 cores, selected by binary) at 99 Hz; its peak RSS, against perf record's of the same pids.

The profiler's CPU is its own process's while the job runs (for perf, whose stack copies are
made in the kernel on the sampled task's time, most of its cost shows in the job's slowdown).

Usage: sudo python3 bench/profile_run.py [--build build] [--rounds 5] [--iterations N]
"""
import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time


def run_job(target, iterations, copies):
    """Starts `copies` fixed jobs at once; returns their wall seconds, each as it measured."""
    procs = [subprocess.Popen([target, "fixed", str(iterations)], stdout=subprocess.PIPE, text=True)
             for _ in range(copies)]
    return [float(p.communicate()[0]) for p in procs]


def proc_cpu_seconds(pid):
    """On-CPU time of every thread of the process, in ns resolution (schedstat), as seconds."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except FileNotFoundError:
            pass
    return total / 1e9


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def measure(variant, args, tmp):
    """Runs the job under one variant; returns (job wall s, job CPU s, profiler CPU s, profiler peak RSS KiB)."""
    kind, hz = variant
    profiler = None
    if kind == "waggle":
        profiler = subprocess.Popen([args.waggle, "profile", "--frequency", str(hz), "--duration", "600",
                                     "--format", "folded", "--output", os.path.join(tmp, "w.folded")],
                                    stderr=subprocess.DEVNULL)
    elif kind == "perf":
        profiler = subprocess.Popen(["perf", "record", "-q", "-a", "-e", "cpu-clock", "-F", str(hz),
                                     "--call-graph", "dwarf", "-o", os.path.join(tmp, "perf.data")],
                                    stderr=subprocess.DEVNULL)
    if profiler:
        time.sleep(1.0)  # loaded and attached
    # The profiler's CPU while the job runs: its steady cost, without loading the programs and
    # the kernel's symbols before, or writing the output after.
    prof_before = proc_cpu_seconds(profiler.pid) if profiler else 0.0
    job_before = children_cpu()
    walls = run_job(args.target, args.iterations, 2)
    job_cpu = children_cpu() - job_before
    prof_cpu, rss = 0.0, 0
    if profiler:
        prof_cpu = proc_cpu_seconds(profiler.pid) - prof_before
        profiler.send_signal(2)  # SIGINT: both write what they have and exit
        _, status, usage = os.wait4(profiler.pid, 0)
        profiler.returncode = status
        rss = usage.ru_maxrss
    return statistics.mean(walls), job_cpu, prof_cpu, rss


def memory(kind, args, tmp, count=100):
    spinners = [subprocess.Popen([args.target, "fixed", str(10**12)], stdout=subprocess.DEVNULL)
                for _ in range(count)]
    try:
        time.sleep(0.5)
        # Exactly these processes: whatever else runs on the machine does not count.
        if kind == "waggle":
            argv = [args.waggle, "profile", "--binary", args.target, "--frequency", "99", "--duration", "8",
                    "--per-pid", "--format", "folded", "--output", os.path.join(tmp, "m.folded")]
        else:
            argv = ["perf", "record", "-q", "-e", "cpu-clock", "-F", "99", "--call-graph", "dwarf",
                    "-p", ",".join(str(s.pid) for s in spinners), "-o", os.path.join(tmp, "m.data"),
                    "--", "sleep", "8"]
        p = subprocess.Popen(argv, stderr=subprocess.DEVNULL)
        _, _, usage = os.wait4(p.pid, 0)
        return usage.ru_maxrss
    finally:
        for s in spinners:
            s.kill()
            s.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--iterations", type=int, default=400_000_000)
    args = ap.parse_args()
    args.waggle = os.path.abspath(os.path.join(args.build, "waggle"))
    args.target = os.path.abspath(os.path.join(args.build, "tests", "profile_target"))
    variants = [("none", 0), ("waggle", 19), ("perf", 19), ("waggle", 99), ("perf", 99)]
    results = {v: [] for v in variants}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            for v in variants:
                results[v].append(measure(v, args, tmp))
            print(f"round {r + 1}/{args.rounds} done", file=sys.stderr)
        base = statistics.median(w for w, _, _, _ in results[("none", 0)])
        print(f"CPU-bound job on both cores, {args.rounds} rounds interleaved (medians)")
        print(f"{'variant':<12} {'job wall s':>10} {'slowdown':>9} {'profiler CPU s':>15} "
              f"{'vs job CPU':>11} {'% of a core':>12} {'peak RSS MiB':>13}")
        for v in variants:
            rows = results[v]
            wall = statistics.median(w for w, _, _, _ in rows)
            job = statistics.median(c for _, c, _, _ in rows)
            prof = statistics.median(p for _, _, p, _ in rows)
            rss = max(m for _, _, _, m in rows) / 1024
            name = "none" if v[0] == "none" else f"{v[0]} {v[1]} Hz"
            print(f"{name:<12} {wall:>10.3f} {wall / base:>8.3f}x {prof:>15.4f} {prof / job:>10.5f}x "
                  f"{100 * prof / wall:>11.2f}% {rss:>13.1f}")
        print("\n100 distinct processes profiled at 99 Hz for 8 s: peak RSS")
        for kind in ("waggle", "perf"):
            print(f"{kind:<12} {memory(kind, args, tmp) / 1024:>8.1f} MiB")


if __name__ == "__main__":
    main()
