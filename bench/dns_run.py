#!/usr/bin/env python3
"""DNS benchmark: queries one after the other over one UDP socket to dnsmasq on loopback (the
test helper's `dns-storm`), without an agent and with each waggle binary given, in turns round
by round. The agents run as `waggle run` starts them (file sensor off, every dns.query event
rendered as JSON to /dev/null), with the kernel's BPF statistics on.

Prints, per variant: median queries per second, the agent's CPU per query and the network
sensor's BPF programs' time per query (all its programs, from the kernel's statistics). The
rate of this ping-pong between two processes is set by how fast an idle CPU wakes, not by CPU
time (an agent that keeps a CPU awake can make it faster): the CPU per query is the measure.
For comparing builds (copy each build's `waggle` aside first):

    sudo python3 bench/dns_run.py --rounds 5 /tmp/before/waggle build/waggle

Needs root (loads BPF programs) and dnsmasq (scripts/setup.sh installs it).
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from http_run import bench_arguments, binaries, network_program_seconds, stats_agent  # noqa: E402

SERVER = "127.0.0.88"


def start_dnsmasq(tmp):
    proc = subprocess.Popen(["/usr/sbin/dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts",
                             f"--listen-address={SERVER}", "--bind-interfaces", "--port=53",
                             "--address=/example.test/10.1.2.3", "--user=root", "--pid-file=" + tmp + "/dnsmasq.pid",
                             "--log-facility=" + tmp + "/dnsmasq.log"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    return proc


def storm(helper, count):
    """(queries per second, answered) of one run; fails if fewer than all were answered."""
    out = subprocess.run([helper, "dns-storm", SERVER, "example.test", str(count)], check=True, capture_output=True,
                         text=True).stdout.split()
    answered, seconds = int(out[1]), float(out[5])
    if answered < count and count > 1:
        raise RuntimeError(f"dnsmasq answered {answered} of {count} queries")
    return answered / seconds, answered


def main():
    ap = bench_arguments(__doc__)
    ap.add_argument("--queries", type=int, default=100000)
    ap.add_argument("agents", nargs="*", help="waggle binaries (default: the build's)")
    args = ap.parse_args()
    waggle, helper = binaries(args.build)
    agents = [os.path.abspath(a) for a in args.agents] or [waggle]
    if not os.path.exists("/usr/sbin/dnsmasq"):
        sys.exit("dnsmasq is missing: run scripts/setup.sh")
    tmp = tempfile.mkdtemp(prefix="waggle-dns-bench-")
    dnsmasq = start_dnsmasq(tmp)
    try:
        for _ in range(100):  # ready once it answers
            if storm(helper, 1)[1] == 1:
                break
            time.sleep(0.05)
        else:
            sys.exit(f"dnsmasq does not answer on {SERVER}")
        variants = ["no agent"] + agents
        results = {v: [] for v in variants}
        for r in range(args.rounds):
            order = variants[r % len(variants):] + variants[:r % len(variants)]
            for v in order:
                if v == "no agent":
                    qps, answered = storm(helper, args.queries)
                    results[v].append((qps, answered, None, None))
                    continue
                agent, port = stats_agent(v, tmp)
                try:
                    cpu0, kernel0 = agent.cpu(), network_program_seconds(port)
                    qps, answered = storm(helper, args.queries)
                    time.sleep(1.2)  # the agent reads the kernel's statistics once a second
                    cpu, kernel = agent.cpu() - cpu0, network_program_seconds(port) - kernel0
                finally:
                    agent.stop()
                results[v].append((qps, answered, cpu / answered * 1e6, kernel / answered * 1e6))
        print(f"{args.queries} queries per round, {args.rounds} rounds, medians:")
        for v in variants:
            qps = statistics.median(q for q, *_ in results[v])
            line = f"{v:>40}: {qps:9,.0f} queries/s"
            if v != "no agent":
                line += (f"  agent {statistics.median(a for *_, a, _ in results[v]):.2f} µs/query"
                         f"  kernel {statistics.median(k for *_, k in results[v]):.2f} µs/query")
            print(line)
    finally:
        dnsmasq.terminate()
        dnsmasq.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
