"""Plots the lazy-read benchmark (docs/benchmarks/lazy*.json, written by `ServerlessDb.EndToEnd -- lazy`): medians per
scenario and variant, into the folder given:

    /usr/bin/python3 bench/ServerlessDb.EndToEnd/lazy_plot.py docs/benchmarks docs/benchmarks/lazy.json [more.json ...]

lazy-point.png      cold point read: time and bytes fetched, by variant, at each size
lazy-threshold.png  cold point read, lazy against downloaded whole, against the database's size
lazy-range-scan.png the 1% range (bytes fetched as % of the database) and the full scan (MB/s), lazy against downloaded

Needs matplotlib (Debian: apt-get install python3-matplotlib)."""
import json
import os
import statistics
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

out_dir, paths = sys.argv[1], sys.argv[2:]
sizes_of, groups = {}, {}
for path in paths:  # several runs merge; a later run's samples of a scenario, size and variant replace an earlier's
    with open(path) as f:
        run = json.load(f)
    sizes_of.update({d["Name"]: d["Bytes"] for d in run["Databases"]})
    mine = {}
    for s in run["Samples"]:
        mine.setdefault((s["Scenario"], s["SizeMb"], s["Variant"]), []).append(s)
    groups.update(mine)


def median(samples, of):
    return statistics.median(of(s) for s in samples)


def size_label(mb):
    return f"{mb // 1024} GB" if mb >= 1024 else f"{mb} MB"


def save(fig, name):
    fig.tight_layout()
    target = os.path.join(out_dir, name)
    fig.savefig(target, dpi=110)
    print(target)


# Cold point read, by variant, at each size.
point = {k: v for k, v in groups.items() if k[0] == "point"}
if point:
    sizes = sorted({k[1] for k in point})
    variants = list(dict.fromkeys(k[2] for k in point))
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    width = 0.8 / len(variants)
    for i, variant in enumerate(variants):
        xs = [j + i * width for j, size in enumerate(sizes) if ("point", size, variant) in point]
        present = [size for size in sizes if ("point", size, variant) in point]
        left.bar(xs, [median(point[("point", size, variant)], lambda s: s["Milliseconds"]) / 1000 for size in present], width, label=variant)
        right.bar(xs, [median(point[("point", size, variant)], lambda s: s["BytesDown"]) / 1e6 for size in present], width, label=variant)
    for ax, title, unit in ((left, "time to the first answer", "seconds"), (right, "bytes fetched from S3", "MB")):
        ax.set_xticks([j + 0.4 - width / 2 for j in range(len(sizes))], [size_label(size) for size in sizes])
        ax.set_yscale("log")
        ax.set_ylabel(f"median {unit} (log)")
        ax.set_title(f"cold point read: {title}")
        ax.grid(True, axis="y", which="both", alpha=0.3)
    left.legend(fontsize=7)
    save(fig, "lazy-point.png")

# Lazy against downloaded whole, by size (the small databases, and the point read's own sizes).
pairs = [("threshold point", "lazy (LAZY_READ_MIN_BYTES=0)", "download (LAZY_READ_MIN_BYTES=off)"), ("point", "lazy", "download")]
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
for label, index in (("lazy", 1), ("downloaded whole", 2)):
    points = []
    for scenario_pair in pairs:
        for (scenario, size, variant), samples in groups.items():
            if scenario == scenario_pair[0] and variant == scenario_pair[index]:
                points.append((size, median(samples, lambda s: s["Milliseconds"]), median(samples, lambda s: s["BytesDown"])))
    points.sort()
    if points:
        left.plot([p[0] for p in points], [p[1] / 1000 for p in points], marker="o", label=label)
        right.plot([p[0] for p in points], [p[2] / 1e6 for p in points], marker="o", label=label)
for ax, unit in ((left, "median seconds to the first answer"), (right, "median MB fetched")):
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("database size (MB)")
    ax.set_ylabel(unit)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
left.set_title("cold point read by a fresh container")
right.set_title("bytes fetched by it")
save(fig, "lazy-threshold.png")

# The 1% range and the full scan.
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
labels, values = [], []
for (scenario, size, variant), samples in sorted(groups.items()):
    if scenario == "range 1%":
        db = sizes_of.get(samples[0]["Database"])
        labels.append(f"{size_label(size)}\n{variant}")
        values.append(100 * median(samples, lambda s: s["BytesDown"]) / db if db else 0)
left.bar(range(len(values)), values)
left.set_xticks(range(len(values)), labels, fontsize=8)
left.set_ylabel("median bytes fetched, % of the database")
left.set_title("indexed range over 1% of the rows")
left.grid(True, axis="y", alpha=0.3)
labels, values = [], []
for (scenario, size, variant), samples in sorted(groups.items()):
    if scenario == "full scan":
        db = sizes_of.get(samples[0]["Database"])
        labels.append(f"{size_label(size)}\n{variant}")
        values.append(db / 1e6 / (median(samples, lambda s: s["Milliseconds"]) / 1000) if db else 0)
right.bar(range(len(values)), values)
right.set_xticks(range(len(values)), labels, fontsize=8)
right.set_ylabel("MB/s (database bytes / median time)")
right.set_title("full scan by a fresh container")
right.grid(True, axis="y", alpha=0.3)
save(fig, "lazy-range-scan.png")
