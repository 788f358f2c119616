#!/usr/bin/env python3
"""Spec -> PTX latency of `attngen compile --emit ptx` for every spec in
specs/ and both GPU targets: the median wall time of 5 runs of the whole
process (parse, attn-to-gpu, NVVM, LLVM's NVPTX backend). Writes results.csv.

usage: /usr/bin/python3 bench/compile/run_bench.py [--attngen build/bin/attngen]
           [--only SPEC,...] [--instructions]

--instructions also counts the instructions of one compile under
valgrind's callgrind (an `instructions` column; ~60x slower): unlike wall
time on a shared VM, the count does not vary between runs, so it shows a
compile-time change of a few percent.
"""
import argparse
import csv
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def count_instructions(command, work):
    """Instructions executed by `command` (callgrind's Ir total)."""
    out = os.path.join(work, "callgrind.out")
    run = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"] + command,
                         capture_output=True, text=True, check=True)
    match = re.search(r"Collected : (\d+)", run.stderr)
    if not match:
        sys.exit(f"run_bench: no instruction count in valgrind's output:\n{run.stderr[-500:]}")
    return int(match.group(1))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--attngen", default="build/bin/attngen")
    parser.add_argument("--specs", default="specs")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--out", default="bench/compile/results.csv")
    parser.add_argument("--only", default="", help="comma-separated spec names (default: all)")
    parser.add_argument("--instructions", action="store_true",
                        help="also count one compile's instructions with callgrind")
    args = parser.parse_args()
    if args.instructions and not shutil.which("valgrind"):
        sys.exit("run_bench: --instructions needs valgrind (apt-get install valgrind)")
    only = set(filter(None, args.only.split(",")))
    unknown = only - {name[:-5] for name in os.listdir(args.specs) if name.endswith(".json")}
    if unknown:
        sys.exit(f"run_bench: no spec {', '.join(sorted(unknown))} in {args.specs}")
    rows = []
    with tempfile.TemporaryDirectory() as work:
        for name in sorted(os.listdir(args.specs)):
            spec = json.load(open(os.path.join(args.specs, name)))
            if spec["dtype"] == "f32":
                continue  # f32 specs run on the CPU target
            if only and name[:-5] not in only:
                continue
            for target in ("sm_80", "sm_90"):
                command = [args.attngen, "compile", os.path.join(args.specs, name),
                           "--target", target, "--emit", "ptx", "-o", os.path.join(work, "k.ptx")]
                times = []
                for _ in range(args.reps):
                    start = time.perf_counter()
                    subprocess.run(command, check=True)
                    times.append(time.perf_counter() - start)
                rows.append({"spec": name[:-5], "target": target,
                             "median_ms": round(statistics.median(times) * 1e3, 1),
                             "max_ms": round(max(times) * 1e3, 1)})
                if args.instructions:
                    rows[-1]["instructions"] = count_instructions(command, work)
                print(rows[-1], flush=True)
    if not rows:
        sys.exit(f"run_bench: --only {args.only} names only f32 specs (CPU target)")
    with open(args.out, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"slowest median: {max(r['median_ms'] for r in rows)} ms")


if __name__ == "__main__":
    main()
