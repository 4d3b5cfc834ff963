#!/usr/bin/env python3
"""Line-level profile of the agent's BPF programs under the HTTP benchmark's load.

nginx under wrk (as bench/http_run.py runs them) with `waggle run` (events on, file sensor off),
`perf record -a` for a few seconds, and each sample taken in a BPF program mapped to the source
line it was JITed from (build/bench/waggle_bpf_lines reads the programs' line information).
Prints the lines with the most samples, then the samples per function and file. A sample just
after a helper call or a load that missed the cache counts on the line after it.

Usage: sudo python3 bench/bpf_lines_run.py [--build build] [--seconds 5] [--top 40]
Needs root, nginx, wrk and perf (scripts/setup.sh installs them).
"""
import bisect
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from http_run import bench_arguments, binaries, free_port, run_config, start_nginx, wrk  # noqa: E402
from run import Agent  # noqa: E402

def program_lines(lines_tool):
    """The agent's loaded programs: their functions' (start, end) kernel addresses, and
    (kernel address, "file:line", source) of every line of theirs, both sorted."""
    progs = json.loads(subprocess.run(["bpftool", "-j", "prog", "show"], check=True, capture_output=True,
                                      text=True).stdout)
    ids = [str(p["id"]) for p in progs if p.get("name", "").startswith("wg_")]
    if not any(p.get("name") in ("wg_sock_send", "wg_post_io") for p in progs):
        raise RuntimeError("the network sensor's socket programs are not loaded")
    out = subprocess.run([lines_tool] + ids, check=True, capture_output=True, text=True).stdout
    functions, lines = [], []
    for row in out.splitlines():
        if row.startswith("F "):
            _, start, size = row.split()
            functions.append((int(start, 16), int(start, 16) + int(size)))
            continue
        address, where, *source = row.split(" ", 2)
        lines.append((int(address, 16), where, source[0].strip() if source else ""))
    return sorted(functions), sorted(lines)


def within(functions, ip):
    """Whether kernel address ip is in one of the functions (other BPF programs run on the host)."""
    i = bisect.bisect_right(functions, (ip, float("inf"))) - 1
    return i >= 0 and functions[i][0] <= ip < functions[i][1]


def function_of(symbol):
    """The BPF function of a JITed symbol, bpf_prog_TAG_NAME (a program or a global function)."""
    return symbol.split("_", 3)[3] if symbol.count("_") >= 3 else symbol


def main():
    ap = bench_arguments(__doc__)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--top", type=int, default=40)
    args = ap.parse_args()
    waggle, _ = binaries(args.build)
    lines_tool = os.path.abspath(os.path.join(args.build, "bench", "waggle_bpf_lines"))
    tmp = tempfile.mkdtemp(prefix="waggle-bpf-lines-")
    port = free_port()
    nginx = start_nginx(tmp, port)
    config = run_config(tmp)
    data = os.path.join(tmp, "perf.data")
    try:
        agent = Agent([waggle, "run", "--config", config, "--output-file", os.devnull], "waggle: ready")
        try:
            functions, lines = program_lines(lines_tool)
            wrk(port, 1, 50)  # warm up
            perf = subprocess.Popen(["perf", "record", "-a", "-F", "20000", "-o", data, "--", "sleep",
                                     str(args.seconds)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            rps, _ = wrk(port, args.seconds + 1, 50)
            perf.wait()
        finally:
            agent.stop()
        samples = subprocess.run(["perf", "script", "-i", data, "-F", "ip,sym"], check=True, capture_output=True,
                                 text=True).stdout
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)

    starts = [address for address, _, _ in lines]
    by_line, parts, total, in_programs = collections.Counter(), collections.Counter(), 0, 0
    for row in samples.splitlines():
        fields = row.split()
        if len(fields) < 2:
            continue
        total += 1
        ip = int(fields[0], 16)
        if not fields[1].startswith("bpf_prog_") or not within(functions, ip):
            continue
        i = bisect.bisect_right(starts, ip) - 1
        if i < 0:
            continue
        in_programs += 1
        by_line[lines[i][1:]] += 1
        parts[(function_of(fields[1]), lines[i][1].split(":")[0])] += 1
    if not in_programs:
        raise RuntimeError("no sample fell in the agent's programs")
    print(f"{rps:.0f} requests/s; {total} samples, {in_programs} in the BPF programs' own code "
          f"({in_programs / total * 100:.1f}%; helpers they call not included)")
    for (where, source), n in by_line.most_common(args.top):
        print(f"{n / in_programs * 100:5.1f}%  {where:28} {source[:100]}")
    print("\nby function (a program, or a global function it calls) and the file of the code inlined in it:")
    for (function, file), n in parts.most_common():
        print(f"{n / in_programs * 100:5.1f}%  {function:20} {file}")


if __name__ == "__main__":
    main()
