#!/usr/bin/env python3
"""waggle web UI cost: the idle agent's CPU and RSS with the UI open and refreshing, against the
UI closed.

Rounds interleave four variants of the same idle agent (default sensors, nothing but the
host's own activity): no browser; headless Chromium on a blank page (the agent watches the
browser too: its file opens and connections are events); Chromium showing the service map; the
same showing the flows table. The page refreshes every 2 s, as a user's would. Prints, per variant, the
agent's CPU (median, % of a core) and peak RSS.

Usage: sudo bench/ui_run.py [--build build] [--rounds 3] [--seconds 20]
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from http_run import bench_arguments, binaries, free_port  # noqa: E402
from run import Agent  # noqa: E402


def main():
    ap = bench_arguments(__doc__)
    ap.set_defaults(rounds=3)
    ap.add_argument("--seconds", type=int, default=20)
    args = ap.parse_args()
    waggle, _ = binaries(args.build)
    tmp = tempfile.mkdtemp(prefix="waggle-ui-bench-")
    variants = ["closed", "blank", "map", "flows"]
    results = {v: {"cpu": [], "rss": []} for v in variants}
    try:
        for r in range(args.rounds):
            for name in variants[r % 4:] + variants[:r % 4]:
                port = free_port()
                config = os.path.join(tmp, "config.yaml")
                with open(config, "w") as f:
                    f.write(f"metrics: {{address: 127.0.0.1:{port}}}\n")
                agent = Agent([waggle, "run", "--config", config, "--output-file", os.devnull], "waggle: ready")
                browser = None
                if name != "closed":
                    browser = subprocess.Popen(
                        ["/usr/bin/chromium", "--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", f"--user-data-dir={tmp}/profile-{r}-{name}",
                         "about:blank" if name == "blank" else f"http://127.0.0.1:{port}/#{name}"],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    time.sleep(3)  # the page is loaded and polling
                cpu0 = agent.cpu()
                start = time.perf_counter()
                time.sleep(args.seconds)
                results[name]["cpu"].append((agent.cpu() - cpu0) / (time.perf_counter() - start))
                results[name]["rss"].append(agent.rss())
                if browser:
                    browser.terminate()
                    browser.wait(timeout=30)
                agent.stop()
                print(f"round {r + 1} {name:6} agent {results[name]['cpu'][-1] * 100:.2f}% of a core, "
                      f"RSS {results[name]['rss'][-1] / 1024:.1f} MiB", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print()
    print(f"idle agent, {args.seconds} s per round, {args.rounds} rounds (medians; RSS: peak)")
    for name in variants:
        res = results[name]
        print(f"  UI {name:6}  agent CPU {statistics.median(res['cpu']) * 100:.2f}% of a core, "
              f"peak RSS {max(res['rss']) / 1024:.1f} MiB")


if __name__ == "__main__":
    main()
