#!/usr/bin/env python3
"""Packets per second on a veth pair, with one core generating: no XDP program, waggle's rules
and xdp-filter, each dropping a UDP flood (destination port 9999), rounds interleaved.

The pair joins two network namespaces made for the run (never eth0 or lo); trafgen
(netsniff-ng) sends from one end, pinned to CPU 0 with one thread; the other end is measured:
with a drop rule, the packets the rule dropped per second (its counter); with no program,
the packets the stack received per second (rx_packets), which it then drops for want of a
socket. The time is trafgen's whole run (its start and exit are milliseconds of seconds).
veth figures are not a NIC's: a veth "receives" in the sender's context, so the
generator's core does both.

Usage: sudo python3 bench/xdp_wire.py [--build build] [--rounds 3] [--packets 2000000]
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

NS_A, NS_B = f"wgwa{os.getpid()}", f"wgwb{os.getpid()}"
DEV_A, DEV_B = "wgwa0", "wgwb0"


def sh(cmd, check=True):
    return subprocess.run(cmd, shell=True, check=check, capture_output=True, text=True)


def rx_packets():
    return int(sh(f"ip netns exec {NS_B} cat /sys/class/net/{DEV_B}/statistics/rx_packets").stdout)


def waggle_dropped(waggle):
    out = sh(f"{waggle} xdp status --netns {NS_B} --interface {DEV_B}").stdout
    m = re.search(r"^\s+flood\s+(\d+)", out, re.M)
    if not m:
        sys.exit(f"no flood counter in waggle xdp status:\n{out}")
    return int(m.group(1))


def xdp_filter_dropped():
    out = sh(f"nsenter --net=/run/netns/{NS_B} xdp-filter status").stdout
    m = re.search(r"XDP_DROP\s+(\d+) pkts", out)
    if not m:
        sys.exit(f"no XDP_DROP counter in xdp-filter status:\n{out}")
    return int(m.group(1))


def generate(conf, packets):
    start = time.monotonic()
    sh(f"nsenter --net=/run/netns/{NS_A} taskset -c 0 trafgen -P 1 -i {conf} -o {DEV_A} -n {packets}")
    return time.monotonic() - start


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--packets", type=int, default=2_000_000)
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("run as root")
    waggle = os.path.abspath(os.path.join(args.build, "waggle"))
    results = {"no program": [], "waggle": [], "xdp-filter": []}
    # xdp-filter and waggle's pins need the BPF file system: mounted for the run when there is none.
    mounted = sh("stat -f -c %T /sys/fs/bpf").stdout.strip() != "bpf_fs"
    if mounted:
        sh("mount -t bpf bpf /sys/fs/bpf -o mode=0700")
    with tempfile.TemporaryDirectory() as tmp:
        try:
            sh(f"ip netns add {NS_A} && ip netns add {NS_B} && ip link add {DEV_A} netns {NS_A} type veth peer name "
               f"{DEV_B} netns {NS_B} && ip -n {NS_A} link set {DEV_A} up && ip -n {NS_B} link set {DEV_B} up && "
               f"ip -n {NS_B} addr add 10.205.0.2/24 dev {DEV_B}")
            mac = re.search(r"ether (\S+)", sh(f"ip -n {NS_B} link show {DEV_B}").stdout).group(1)
            conf = os.path.join(tmp, "udp.trafgen")
            with open(conf, "w") as f:
                f.write(f"{{ eth(da={mac}, sa=02:00:00:00:00:01, type=0x0800), ipv4(saddr=10.205.0.1, "
                        f"daddr=10.205.0.2, ttl=64), udp(sp=5000, dp=9999), fill(0x41, 18) }}\n")
            rules = os.path.join(tmp, "flood.yaml")
            with open(rules, "w") as f:
                f.write("apiVersion: waggle.dev/v1\nkind: PacketRules\nmetadata: {name: flood}\nspec:\n  rules:\n"
                        "    - {name: flood, action: drop, match: {protocol: udp, destination_port: 9999}}\n")
            for _ in range(args.rounds):
                before = rx_packets()
                seconds = generate(conf, args.packets)
                results["no program"].append((rx_packets() - before) / seconds)

                sh(f"{waggle} xdp apply {rules} --netns {NS_B} --interface {DEV_B} --mode native")
                seconds = generate(conf, args.packets)
                results["waggle"].append(waggle_dropped(waggle) / seconds)
                sh(f"{waggle} xdp detach --netns {NS_B} --interface {DEV_B}")

                sh(f"nsenter --net=/run/netns/{NS_B} xdp-filter load {DEV_B} -m native -p allow -f udp,ipv4")
                sh(f"nsenter --net=/run/netns/{NS_B} xdp-filter port 9999 -p udp -m dst")
                seconds = generate(conf, args.packets)
                results["xdp-filter"].append(xdp_filter_dropped() / seconds)
                sh(f"nsenter --net=/run/netns/{NS_B} xdp-filter unload {DEV_B}")
        finally:
            sh(f"{waggle} xdp detach --netns {NS_B} --interface {DEV_B}", check=False)
            sh(f"nsenter --net=/run/netns/{NS_B} xdp-filter unload {DEV_B}", check=False)
            sh(f"ip netns del {NS_A}; ip netns del {NS_B}", check=False)
            for d in ("/sys/fs/bpf/xdp-filter", "/sys/fs/bpf/xdp"):
                sh(f"rmdir {d}", check=False)
            if mounted:
                sh("umount /sys/fs/bpf", check=False)
    base = statistics.median(results["no program"])
    print(f"veth pair, trafgen on one core, {args.packets} packets a run, {args.rounds} rounds interleaved (medians)")
    print(f"{'variant':<12}{'Mpps':>8}{'vs no program':>15}  what is counted")
    what = {"no program": "received by the stack (rx_packets)", "waggle": "dropped by the rule",
            "xdp-filter": "dropped (XDP_DROP)"}
    for name, values in results.items():
        m = statistics.median(values)
        print(f"{name:<12}{m / 1e6:>8.3f}{m / base:>14.2f}x  {what[name]}")


if __name__ == "__main__":
    main()
