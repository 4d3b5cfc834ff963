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
import resource
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


def programs_ns(prefix):
    """Total run time (ns) of the loaded BPF programs whose name starts with `prefix`."""
    progs = json.loads(subprocess.run(["bpftool", "-j", "prog", "show"], check=True,
                                      capture_output=True, text=True).stdout)
    return sum(p.get("run_time_ns", 0) for p in progs if p.get("name", "").startswith(prefix))


def policy_with_prefixes(n, prefixes=None):
    values = prefixes or [f"/nonexistent-waggle-bench/{i:05d}/" for i in range(n)]
    lines = "".join(f"          - {v}\n" for v in values)
    return ("apiVersion: waggle.dev/v1\nkind: Policy\nmetadata: {name: bench}\nspec:\n  rules:\n"
            "    - on: file.open\n      match:\n        path:\n          prefix:\n" + lines +
            "      action: log\n")


BUILDS = ["no agent", "policy logging every open under /usr and /etc", "policy matching nothing",
          "empty programs on sys_enter/exit_openat (bpftrace)"]


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

        def build(observer=None):
            """Wall time of the build, and the CPU time it cost: the build's own processes (the
            in-kernel programs run in them) plus what the observer used meanwhile."""
            subprocess.run(["make", "-C", project, "clean"], check=True, stdout=subprocess.DEVNULL)
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            observer_before = observer.cpu() if observer else 0
            start = time.perf_counter()
            subprocess.run(["make", "-C", project, "-j2"], check=True, stdout=subprocess.DEVNULL)
            wall = time.perf_counter() - start
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            if observer:
                cpu += observer.cpu() - observer_before
            return wall, cpu

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
            # The builds, in a different order each round; each is compared with the no-agent
            # build of its own round.
            times = {}
            for name in BUILDS[rnd % len(BUILDS):] + BUILDS[:rnd % len(BUILDS)]:
                if name == "no agent":
                    times[name] = build()
                elif name == "empty programs on sys_enter/exit_openat (bpftrace)":
                    # The floor of the hook itself: empty programs on the same two tracepoints.
                    floor = Agent(["bpftrace", "-e", "tracepoint:syscalls:sys_enter_openat {} "
                                   "tracepoint:syscalls:sys_exit_openat {}"], None)
                    if floor.proc.poll() is not None:
                        raise RuntimeError("bpftrace exited: " + floor.proc.stderr.read())
                    times[name] = build(floor)
                    floor.proc.terminate()
                    floor.proc.wait(timeout=30)
                else:
                    logging = name.startswith("policy logging")
                    a = agent(os.path.join(tmp, "usr-etc.yaml" if logging else "p1.yaml"))
                    times[name] = build(a)
                    stats = a.stop()
                    if logging:
                        results.setdefault("build events", []).append(sum(
                            1 for f in os.listdir(tmp) if f.startswith("events.jsonl")
                            for _ in open(os.path.join(tmp, f), "rb")))
                        results.setdefault("build lost", []).append(stats["lost"] if stats else -1)
            for name, (wall, cpu) in times.items():
                results.setdefault("build: " + name, []).append(wall)
                results.setdefault("ratio: " + name, []).append(wall / times["no agent"][0])
                results.setdefault("cpu: " + name, []).append(cpu)
                results.setdefault("cpu ratio: " + name, []).append(cpu / times["no agent"][1])
        # Where the logging policy's cost goes, measured without the wall-clock noise: the
        # policy programs' own run time (kernel statistics on) and the agent's CPU time, as
        # shares of the build's CPU time.
        subprocess.run(["sysctl", "-qw", "kernel.bpf_stats_enabled=1"], check=True)
        for _ in range(3):
            a = agent(os.path.join(tmp, "usr-etc.yaml"))
            programs_before, agent_before = programs_ns("wg_pol"), a.cpu()
            _, cpu = build()
            results.setdefault("share: programs", []).append((programs_ns("wg_pol") - programs_before) / 1e9 / cpu)
            results.setdefault("share: agent", []).append((a.cpu() - agent_before) / cpu)
            a.stop()
        subprocess.run(["sysctl", "-qw", "kernel.bpf_stats_enabled=0"], check=True)
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
    def spread(values):
        q = statistics.quantiles(sorted(values), n=4) if len(values) >= 2 else [values[0]] * 3
        return f"{statistics.median(values):.3f}x ({q[0]:.3f}x - {q[2]:.3f}x)"

    b0 = statistics.median(results["build: no agent"])
    c0 = statistics.median(results["cpu: no agent"])
    print(f"\nbuild of {args.files} C files with make -j2 ({args.rounds} rounds; ratios: median of the "
          "per-round ratios, with the middle half of them)\n")
    print("| variant | wall time | wall ratio | CPU time (build + observer) | CPU ratio |")
    print("|---|---|---|---|---|")
    print(f"| no agent | {b0:.2f} s | 1.000x | {c0:.2f} s | 1.000x |")
    for name in BUILDS[1:]:
        b = statistics.median(results["build: " + name])
        c = statistics.median(results["cpu: " + name])
        print(f"| {name} | {b:.2f} s | {spread(results['ratio: ' + name])} | {c:.2f} s | "
              f"{spread(results['cpu ratio: ' + name])} |")
    print(f"\nlogging policy, shares of the build's CPU time (3 builds, medians): policy programs in the "
          f"kernel {statistics.median(results['share: programs']) * 100:.2f}%, agent in user space "
          f"{statistics.median(results['share: agent']) * 100:.2f}%")
    print(f"\npolicy.match events per build: {statistics.median(results['build events']):.0f}, "
          f"lost: {max(results['build lost'])}")


if __name__ == "__main__":
    main()
