#!/usr/bin/env python3
"""Decode throughput of attngen's CPU kernel as a fraction of memory
bandwidth: one query token per sequence against a paged KV cache, compared
with a numpy copy of the same bytes measured alongside.

usage: /usr/bin/python3 bench/decode/run_bench.py [--attngen build/bin/attngen]
           [--contexts 1024,4096,16384] [--batch 4] [--reps 10] [--out bench/decode]

Specs: decode_specs.py (Llama-3-8B decode over a paged cache, f32 and bf16,
split_kv 1 and "auto", and the serving form that appends the step's
key/value and applies RoPE: variant "rope_append", the cache holds
context - 1 keys and the call appends one). A decode step reads
the whole cache once: bytes = 2 * batch * context * kv_heads * head_dim *
element size (K and V). "copy" times numpy copying an array of that many
bytes (a read and a write: an upper bound on what one read pass can reach);
the fraction is copy_time / attngen_time. Writes results.csv and machine.txt.
"""
import argparse
import csv
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from decode_specs import HEAD_DIM, KV_HEADS, decode_specs  # noqa: E402


def copy_ms(nbytes, reps):
    src = np.ones(nbytes // 4, np.float32)
    dst = np.empty_like(src)
    np.copyto(dst, src)
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        np.copyto(dst, src)
        times.append(time.perf_counter() - start)
    return 1e3 * float(np.median(times))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--attngen", default="build/bin/attngen")
    parser.add_argument("--contexts", default="1024,4096,16384")
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--reps", type=int, default=10)
    parser.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)))
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as work:
        for spec in decode_specs("cpu"):
            dtype = spec["dtype"]
            split = spec["split_kv"]
            variant = "rope_append" if spec.get("rope") else "plain"
            path = os.path.join(work, spec["name"] + ".json")
            json.dump(spec, open(path, "w"))
            for context in (int(c) for c in args.contexts.split(",")):
                out = subprocess.run(
                    [args.attngen, "bench", path, "--batch", str(args.batch), "--seqlen-q", "1",
                     "--seqlen-k", str(context), "--reps", str(args.reps), "--json"],
                    capture_output=True, text=True, check=True).stdout
                result = json.loads(out)
                element = 4 if dtype == "f32" else 2
                nbytes = 2 * args.batch * context * KV_HEADS * HEAD_DIM * element
                copy = copy_ms(nbytes, args.reps)
                row = {"dtype": dtype, "split_kv": split, "variant": variant,
                       "batch": args.batch, "context": context,
                       "cache_mb": round(nbytes / 2**20, 1), "attngen_ms": result["median_ms"],
                       "copy_ms": round(copy, 4),
                       "attngen_gbps": round(nbytes / result["median_ms"] / 1e6, 2),
                       "fraction_of_copy": round(copy / result["median_ms"], 3)}
                rows.append(row)
                print(row, flush=True)
    with open(os.path.join(args.out, "results.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        writer.writeheader()
        writer.writerows(rows)
    with open(os.path.join(args.out, "machine.txt"), "w") as f:
        f.write(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
                f"{platform.platform()}\n")
        cpu = open("/proc/cpuinfo").read().split("model name")[1].split("\n")[0] \
            if os.path.exists("/proc/cpuinfo") else "?"
        f.write(f"model name{cpu}\n")


if __name__ == "__main__":
    main()
