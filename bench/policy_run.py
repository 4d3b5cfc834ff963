#!/usr/bin/env python3
"""Policy benchmarks, each against the uninstrumented baseline in the same run:

1. open storm with a policy of 1, 10, 1,000 and 10,000 path prefixes that match nothing:
   the cost per open must stay flat as the number of values grows;
2. a real build (a generated C project of a few hundred files, `make -j2`) with a policy
   logging every open under /usr and /etc, against no agent.

Usage: sudo bench/policy_run.py [--build build] [--opens 200000] [--rounds 5] [--files 300]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import Agent, timed  # noqa: E402

# Only the policy programs: no other sensor. The build saturates both cores, so the ring gets
# room for the agent's reader to fall behind for a while (see docs/benchmarks.md).
QUIET_CONFIG = ("sensors:\n  process: {enabled: false}\n  file: {enabled: false}\n  network: {enabled: false}\n"
                "metrics: {enabled: false}\nring_buffer_size: 64MiB\n")


def program_ns(name):
    """Average run time (ns) of the loaded BPF programs named `name`, from the kernel's stats."""
    progs = json.loads(subprocess.run(["bpftool", "-j", "prog", "show"], check=True,
                                      capture_output=True, text=True).stdout)
    time_ns = sum(p.get("run_time_ns", 0) for p in progs if p.get("name") == name)
    count = sum(p.get("run_cnt", 0) for p in progs if p.get("name") == name)
    return time_ns / count if count else 0.0


def policy_with_prefixes(n, prefixes=None):
    values = prefixes or [f"/nonexistent-waggle-bench/{i:05d}/" for i in range(n)]
    lines = "".join(f"          - {v}\n" for v in values)
    return ("apiVersion: waggle.dev/v1\nkind: Policy\nmetadata: {name: bench}\nspec:\n  rules:\n"
            "    - on: file.open\n      match:\n        path:\n          prefix:\n" + lines +
            "      action: log\n")


def make_project(root, files):
    os.makedirs(root, exist_ok=True)
    for i in range(files):
        with open(os.path.join(root, f"f{i}.c"), "w") as f:
            f.write(f"#include <stdio.h>\n#include <string.h>\n#include <stdlib.h>\n"
                    f"int f{i}(const char *s) {{ char b[64]; snprintf(b, sizeof b, \"%s-{i}\", s);"
                    f" return (int)strlen(b) + atoi(s); }}\n")
    objs = " ".join(f"f{i}.o" for i in range(files))
    with open(os.path.join(root, "Makefile"), "w") as f:
        f.write(f"all: lib.a\nlib.a: {objs}\n\tar rcs $@ $^\n%.o: %.c\n\tgcc -O2 -c $< -o $@\n"
                "clean:\n\trm -f *.o lib.a\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--opens", type=int, default=200000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--files", type=int, default=300)
    ap.add_argument("--builds-only", action="store_true", help="skip the open storms")
    args = ap.parse_args()
    waggle = os.path.abspath(os.path.join(args.build, "waggle"))
    helper = os.path.abspath(os.path.join(args.build, "tests", "waggle_test_helper"))
    tmp = tempfile.mkdtemp(prefix="waggle-policy-bench-")
    try:
        target = os.path.join(tmp, "storm-target")
        open(target, "w").close()
        config = os.path.join(tmp, "quiet.yaml")
        with open(config, "w") as f:
            f.write(QUIET_CONFIG)
        storm = [helper, "storm", target, str(args.opens)]
        sizes = [1, 10, 1000, 10000]
        for n in sizes:
            with open(os.path.join(tmp, f"p{n}.yaml"), "w") as f:
                f.write(policy_with_prefixes(n))
        with open(os.path.join(tmp, "usr-etc.yaml"), "w") as f:
            f.write(policy_with_prefixes(0, ["/usr/", "/etc/"]))
        project = os.path.join(tmp, "project")
        make_project(project, args.files)
        out = os.path.join(tmp, "events.jsonl")

        def agent(policy):
            for f in os.listdir(tmp):
                if f.startswith("events.jsonl"):
                    os.unlink(os.path.join(tmp, f))
            return Agent([waggle, "run", "--config", config, "--control-socket", "", "--policy-dir", "",
                          "--policy", policy, "--output-file", out], "waggle: ready")

        def build():
            subprocess.run(["make", "-C", project, "clean"], check=True, stdout=subprocess.DEVNULL)
            start = time.perf_counter()
            subprocess.run(["make", "-C", project, "-j2"], check=True, stdout=subprocess.DEVNULL)
            return time.perf_counter() - start

        results = {}
        with open("/proc/sys/kernel/bpf_stats_enabled") as f:
            stats_before = f.read().strip()
        for rnd in range(args.rounds):
            # The kernel's per-program statistics cost every BPF program run something: on for
            # the storms (to report the policy program's own time), off for the builds.
            subprocess.run(["sysctl", "-qw", "kernel.bpf_stats_enabled=1"], check=True)
            print(f"round {rnd + 1}/{args.rounds}", file=sys.stderr)
            results.setdefault("baseline", []).append(timed(storm))
            # A different order each round, so that drift does not look like a trend.
            for n in [] if args.builds_only else sizes[rnd % len(sizes):] + sizes[:rnd % len(sizes)]:
                a = agent(os.path.join(tmp, f"p{n}.yaml"))
                results.setdefault(n, []).append(timed(storm))
                results.setdefault(("prog", n), []).append(program_ns("wg_pol_openat"))
                a.stop()
            subprocess.run(["sysctl", "-qw", "kernel.bpf_stats_enabled=0"], check=True)
            results.setdefault("build: no agent", []).append(build())
            a = agent(os.path.join(tmp, "usr-etc.yaml"))
            results.setdefault("build: policy logging every open under /usr and /etc", []).append(build())
            stats = a.stop()
            results.setdefault("build events", []).append(sum(
                1 for name in os.listdir(tmp) if name.startswith("events.jsonl")
                for _ in open(os.path.join(tmp, name), "rb")))
            results.setdefault("build lost", []).append(stats["lost"] if stats else -1)
            # Where the cost comes from: the same agent with a policy that matches nothing, and
            # the floor of the hook itself: empty programs on the same two tracepoints.
            a = agent(os.path.join(tmp, "p1.yaml"))
            results.setdefault("build: policy matching nothing", []).append(build())
            a.stop()
            floor = Agent(["bpftrace", "-e", "tracepoint:syscalls:sys_enter_openat {} "
                           "tracepoint:syscalls:sys_exit_openat {}"], None)
            results.setdefault("build: empty programs on sys_enter/exit_openat (bpftrace)", []).append(build())
            floor.proc.terminate()
            floor.proc.wait(timeout=30)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        subprocess.run(["sysctl", "-qw", f"kernel.bpf_stats_enabled={stats_before}"])

    base = statistics.median(results["baseline"]) / args.opens
    if args.builds_only:
        sizes = []
    print(f"\nopen storm: {args.opens} opens per run, {args.rounds} rounds (medians)\n")
    print("| prefix values in the policy | per open | ratio to baseline | policy program, in-kernel time per open |")
    print("|---|---|---|---|")
    print(f"| none (no agent) | {base * 1e9:.0f} ns | 1.00x | - |")
    for n in sizes:
        per = statistics.median(results[n]) / args.opens
        prog = statistics.median(results[("prog", n)])
        print(f"| {n} | {per * 1e9:.0f} ns | {per / base:.2f}x | {prog:.0f} ns |")
    b0 = statistics.median(results["build: no agent"])
    print(f"\nbuild of {args.files} C files with make -j2 ({args.rounds} rounds, medians)\n")
    print("| variant | wall time | ratio |")
    print("|---|---|---|")
    print(f"| no agent | {b0:.2f} s | 1.00x |")
    for name in ("build: policy logging every open under /usr and /etc", "build: policy matching nothing",
                 "build: empty programs on sys_enter/exit_openat (bpftrace)"):
        b = statistics.median(results[name])
        print(f"| {name[len('build: '):]} | {b:.2f} s | {b / b0:.3f}x |")
    print(f"\npolicy.match events per build: {statistics.median(results['build events']):.0f}, "
          f"lost: {max(results['build lost'])}")


if __name__ == "__main__":
    main()
