#!/usr/bin/env python3
"""Sums an Nsight Compute SASS source page per opcode: instructions, warp
stall samples (all, long/short scoreboard, wait), shared-memory wavefronts
and L2 sectors of global accesses, each next to its ideal. The excess of
wavefronts or sectors over their ideal shows which instructions move data
inefficiently (bank conflicts, misaligned copies), the stalls which ones a
kernel waits on.

usage: ncu --import REPORT.ncu-rep --page source --csv --print-source sass > SOURCE.csv
       python3 bench/gpu/summarize_ncu_source.py SOURCE.csv [--top 16]
"""
import argparse
import csv
import sys
from collections import defaultdict

COLUMNS = [
    ("Instructions Executed", "instructions"),
    ("Warp Stall Sampling (All Samples)", "stall samples"),
    ("stall_long_sb", "long scoreboard"),
    ("stall_short_sb", "short scoreboard"),
    ("stall_wait", "wait"),
    ("L1 Wavefronts Shared", "shared wavefronts"),
    ("L1 Wavefronts Shared Ideal", "ideal"),
    ("L2 Theoretical Sectors Global", "L2 sectors"),
    ("L2 Theoretical Sectors Global Ideal", "ideal"),
]


def number(text):
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return 0.0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("source_csv")
    parser.add_argument("--top", type=int, default=16)
    args = parser.parse_args()
    try:
        lines = open(args.source_csv).read().splitlines()
    except OSError as error:
        sys.exit(f"summarize_ncu_source: {args.source_csv}: {error.strerror}")
    # The first line names the kernel; the table starts at the header row.
    start = next((i for i, line in enumerate(lines) if line.startswith('"Address"')), None)
    if start is None:
        sys.exit(f"summarize_ncu_source: {args.source_csv}: no SASS source table "
                 "(ncu --page source --csv --print-source sass)")
    rows = list(csv.reader(lines[start:]))
    header = rows[0]
    missing = [name for name, _ in COLUMNS if name not in header]
    if missing or "Source" not in header:
        sys.exit(f"summarize_ncu_source: {args.source_csv}: no column {(missing or ['Source'])[0]!r}")
    index = {name: i for i, name in enumerate(header)}
    totals = defaultdict(lambda: defaultdict(float))
    for row in rows[1:]:
        if len(row) != len(header):
            continue
        words = row[index["Source"]].split()
        if not words:
            continue
        opcode = words[1] if words[0].startswith("@") and len(words) > 1 else words[0]
        opcode = opcode.split(".")[0]
        for name, _ in COLUMNS:
            totals[opcode][name] += number(row[index[name]])
    print(lines[0].strip())
    print(f"{'opcode':12s}" + "".join(f"{label:>18s}" for _, label in COLUMNS))
    ranked = sorted(totals.items(), key=lambda item: -item[1][COLUMNS[1][0]])
    for opcode, values in ranked[:args.top]:
        print(f"{opcode:12s}" + "".join(f"{values[name]:18.0f}" for name, _ in COLUMNS))
    print(f"{'total':12s}" + "".join(
        f"{sum(v[name] for v in totals.values()):18.0f}" for name, _ in COLUMNS))


if __name__ == "__main__":
    main()
