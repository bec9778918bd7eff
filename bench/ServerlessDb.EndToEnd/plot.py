"""Plots the end-to-end benchmark's raw samples (one or more e2e*.json files written by ServerlessDb.EndToEnd):
median latency against database size, log scale, one PNG per scenario group, into the folder given.

    /usr/bin/python3 bench/ServerlessDb.EndToEnd/plot.py docs/benchmarks docs/benchmarks/e2e.json [more.json ...]

Needs matplotlib (Debian: apt-get install python3-matplotlib)."""
import json
import os
import statistics
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

out_dir, files = sys.argv[1], sys.argv[2:]
series = {}
for index, path in enumerate(files):
    with open(path) as f:
        run = json.load(f)
    for s in run["Samples"]:
        if s["System"] == "seed" and index > 0:
            continue  # every run measures the seed beside it; one seed line is enough
        system = "seed PoC" if s["System"] == "seed" else f"ServerlessDb ({s['Label']})"
        series.setdefault((system, s["Scenario"]), {}).setdefault(s["SizeMb"], []).append(s["Milliseconds"])

groups = {
    "reads": ["read", "read from cache", "read after foreign write"],
    "writes": ["write", "write after foreign write"],
}
for group, scenarios in groups.items():
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for (system, scenario), by_size in sorted(series.items()):
        if scenario not in scenarios:
            continue
        sizes = sorted(by_size)
        ax.plot(sizes, [statistics.median(by_size[size]) for size in sizes], marker="o", label=f"{system}: {scenario}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("database size (MB)")
    ax.set_ylabel("median latency (ms)")
    ax.set_title(f"{group} against moto_server, side by side")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    target = os.path.join(out_dir, f"e2e-{group}.png")
    fig.savefig(target, dpi=110)
    print(target)
