#!/usr/bin/env python3
"""waggle benchmarks: open storm and exec storm, each against the uninstrumented baseline,
measured in the same run with the variants interleaved round by round. Prints ratios
(median time per operation / baseline median), agent CPU and memory, and lost events.

Usage: sudo bench/run.py [--build build] [--opens 200000] [--execs 10000] [--rounds 5]
Needs root (loads BPF programs). Uses the test helper binary as the workload.
"""
import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

TICKS = os.sysconf("SC_CLK_TCK")


def proc_cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def proc_peak_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


class Agent:
    """A waggle (or bpftrace) process running for the length of one measurement."""

    def __init__(self, argv, ready_marker, stdout_path=None):
        self.out = open(stdout_path, "w") if stdout_path else subprocess.DEVNULL
        self.proc = subprocess.Popen(argv, stdout=self.out if stdout_path else subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
        self.ready_marker = ready_marker
        self.stderr = ""
        self._wait_ready()

    def _wait_ready(self):
        deadline = time.time() + 60
        if self.ready_marker is None:  # bpftrace: watch its output file instead
            time.sleep(3)
            return
        while time.time() < deadline:
            line = self.proc.stderr.readline()
            if not line:
                raise RuntimeError("agent exited before it was ready: " + self.stderr)
            self.stderr += line
            if self.ready_marker in line:
                return
        raise RuntimeError("agent not ready in 60 s")

    def cpu(self):
        return proc_cpu_seconds(self.proc.pid)

    def rss(self):
        return proc_peak_rss_kib(self.proc.pid)

    def stop(self):
        self.proc.send_signal(signal.SIGINT)
        rest = self.proc.stderr.read()
        self.proc.wait(timeout=120)
        self.stderr += rest
        if self.out is not subprocess.DEVNULL:
            self.out.close()
        stats = None
        for line in self.stderr.splitlines():
            if line.startswith("{") and '"agent.stats"' in line:
                stats = json.loads(line)
        return stats


def timed(argv):
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def output_files(path):
    """The output file and its rotated predecessors (path.1, path.2, ...)."""
    d, base = os.path.split(path)
    return [os.path.join(d, f) for f in os.listdir(d) if f == base or f.startswith(base + ".")]


def remove_output(path):
    for f in output_files(path):
        os.unlink(f)


def count_lines_with(path, needle, also=None):
    n = 0
    for name in output_files(path):
        with open(name, "rb") as f:
            for line in f:
                if needle in line and (also is None or also in line):
                    n += 1
    return n


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--opens", type=int, default=200000)
    ap.add_argument("--execs", type=int, default=10000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--skip-bpftrace", action="store_true")
    args = ap.parse_args()

    waggle = os.path.abspath(os.path.join(args.build, "waggle"))
    helper = os.path.abspath(os.path.join(args.build, "tests", "waggle_test_helper"))
    tmp = tempfile.mkdtemp(prefix="waggle-bench-")
    target = os.path.join(tmp, "storm-target")
    open(target, "w").close()
    out = os.path.join(tmp, "events.jsonl")
    storm = [helper, "storm", target, str(args.opens)]
    execs = [helper, "exec-storm", str(args.execs), "/bin/true"]
    common = [waggle, "trace"]
    results = {}

    def record(name, seconds, per, cpu=None, stats=None, present=None, rss=None):
        r = results.setdefault(name, {"t": [], "cpu": [], "rss": [], "lost": [], "present": [], "per": per})
        r["t"].append(seconds)
        for key, value in (("cpu", cpu), ("rss", rss), ("present", present)):
            if value is not None:
                r[key].append(value)
        if stats is not None:
            r["lost"].append(stats["lost"])

    def measure(name, agent_argv, marker, workload, per, present=None):
        """Starts the agent, times the workload, stops the agent, records everything."""
        remove_output(out)
        agent = Agent(agent_argv, marker)
        cpu0 = agent.cpu()
        t = timed(workload)
        cpu = (agent.cpu() - cpu0) / t
        rss = agent.rss()
        stats = agent.stop()
        record(name, t, per, cpu=cpu, stats=stats, rss=rss, present=present() if present else None)

    target_json = b'"path":"' + target.encode() + b'"'
    true_exec = b'"binary":"/usr/bin/true"'
    try:
        for rnd in range(args.rounds):
            print(f"round {rnd + 1}/{args.rounds}", file=sys.stderr)
            record("open: baseline", timed(storm), args.opens)
            measure("open: waggle, filter matching nothing",
                    common + ["open", "--prefix", "/nonexistent-waggle-bench/", "--output-file", out],
                    "waggle: ready", storm, args.opens)
            measure("open: waggle, every open as JSON to a file",
                    common + ["open", "--output", "json", "--output-file", out], "waggle: ready", storm,
                    args.opens, lambda: count_lines_with(out, target_json))
            if not args.skip_bpftrace:
                bt_out = os.path.join(tmp, "bpftrace.txt")
                if os.path.exists(bt_out):
                    os.unlink(bt_out)
                prog = ('tracepoint:syscalls:sys_enter_openat /comm == "waggle_test_hel"/ '
                        '{ printf("%s\\n", str(args->filename)); }')
                measure("open: bpftrace printf", ["bpftrace", "-o", bt_out, "-e", prog], None, storm,
                        args.opens, lambda: count_lines_with(bt_out, target.encode()))
            record("exec: baseline", timed(execs), args.execs)
            measure("exec: waggle, every exec and exit as JSON",
                    common + ["exec", "--output", "json", "--output-file", out], "waggle: ready", execs,
                    args.execs,
                    lambda: count_lines_with(out, b'"type":"process.exec"', true_exec))

        # --- idle ---------------------------------------------------------------------------
        a = Agent([waggle, "run", "--output-file", out], "waggle: ready")
        c0 = a.cpu()
        time.sleep(10)
        idle_cpu = (a.cpu() - c0) / 10
        idle_rss = a.rss()
        a.stop()
    finally:
        for f in os.listdir(tmp):
            os.unlink(os.path.join(tmp, f))
        os.rmdir(tmp)

    base = {"open": statistics.median(results["open: baseline"]["t"]) / args.opens,
            "exec": statistics.median(results["exec: baseline"]["t"]) / args.execs}
    print(f"\nopens per run: {args.opens}, execs per run: {args.execs}, rounds: {args.rounds} (medians)\n")
    print("| variant | per op | ratio to baseline | agent CPU (cores) | agent peak RSS | lost | ops in output |")
    print("|---|---|---|---|---|---|---|")
    for name, r in results.items():
        per = statistics.median(r["t"]) / r["per"]
        kind = name.split(":")[0]
        cpu = f"{statistics.median(r['cpu']):.2f}" if r["cpu"] else "-"
        rss = f"{max(r['rss']) / 1024:.1f} MiB" if r["rss"] else "-"
        lost = f"{max(r['lost'])}" if r["lost"] else "-"
        present = f"{min(r['present'])}/{r['per']}" if r["present"] else "-"
        print(f"| {name} | {per * 1e9:.0f} ns | {per / base[kind]:.2f}x | {cpu} | {rss} | {lost} | {present} |")
    print(f"| idle agent (waggle run, defaults, 10 s) | - | - | {idle_cpu:.3f} | {idle_rss / 1024:.1f} MiB | - | - |")


if __name__ == "__main__":
    main()
