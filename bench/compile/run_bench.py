#!/usr/bin/env python3
"""Spec -> PTX latency of `attngen compile --emit ptx` for every spec in
specs/ and both GPU targets: the median wall time of 5 runs of the whole
process (parse, attn-to-gpu, NVVM, LLVM's NVPTX backend). Writes results.csv.

usage: /usr/bin/python3 bench/compile/run_bench.py [--attngen build/bin/attngen]
"""
import argparse
import csv
import json
import os
import statistics
import subprocess
import tempfile
import time


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--attngen", default="build/bin/attngen")
    parser.add_argument("--specs", default="specs")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--out", default="bench/compile/results.csv")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as work:
        for name in sorted(os.listdir(args.specs)):
            spec = json.load(open(os.path.join(args.specs, name)))
            if spec["dtype"] == "f32":
                continue  # f32 specs run on the CPU target
            for target in ("sm_80", "sm_90"):
                times = []
                for _ in range(args.reps):
                    start = time.perf_counter()
                    subprocess.run([args.attngen, "compile", os.path.join(args.specs, name),
                                    "--target", target, "--emit", "ptx",
                                    "-o", os.path.join(work, "k.ptx")], check=True)
                    times.append(time.perf_counter() - start)
                rows.append({"spec": name[:-5], "target": target,
                             "median_ms": round(statistics.median(times) * 1e3, 1),
                             "max_ms": round(max(times) * 1e3, 1)})
                print(rows[-1], flush=True)
    with open(args.out, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"slowest median: {max(r['median_ms'] for r in rows)} ms")


if __name__ == "__main__":
    main()
