#!/usr/bin/env python3
"""Draws a bench/gpu results CSV (run_bench.py's): TFLOP/s per
implementation and seqlen, one panel per spec, saved next to the CSV with
the extension .png. Needs matplotlib, not PyTorch.

usage: python3 bench/gpu/plot_results.py RESULTS.csv...
"""
import csv
import math
import sys


def plot(csv_path):
    """TFLOP/s per implementation and seqlen, one panel per spec, next to
    the CSV (needs matplotlib)."""
    rows = list(csv.DictReader(open(csv_path)))
    if not rows:
        return
    card = rows[0]["card"]
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        sys.exit(f"plot_results: {csv_path}: matplotlib is not installed "
                 "(apt-get install python3-matplotlib); no plot written")
    specs = sorted({r["spec"] for r in rows})
    cols = 3
    fig, axes = plt.subplots(math.ceil(len(specs) / cols), cols,
                             figsize=(5 * cols, 3.5 * math.ceil(len(specs) / cols)), squeeze=False)
    for ax, spec_name in zip(axes.flat, specs):
        for impl in sorted({r["impl"] for r in rows if r["spec"] == spec_name}):
            points = [(int(r["seqlen"]), float(r["tflops"])) for r in rows
                      if r["spec"] == spec_name and r["impl"] == impl]
            ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=impl)
        ax.set_xscale("log", base=2)
        ax.set_title(spec_name)
        ax.set_ylabel("TFLOP/s")
        ax.legend(fontsize=7)
    fig.suptitle(f"attention forward, {card}")
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    fig.savefig(csv_path[:-len(".csv")] + ".png", dpi=90)


if __name__ == "__main__":
    for path in sys.argv[1:]:
        plot(path)
