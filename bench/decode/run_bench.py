#!/usr/bin/env python3
"""Decode throughput of attngen's CPU kernel as a fraction of memory
bandwidth: one query token per sequence against a paged KV cache, compared
with a numpy copy of the same bytes measured alongside.

usage: /usr/bin/python3 bench/decode/run_bench.py [--attngen build/bin/attngen]
           [--contexts 1024,4096,16384] [--batch 4] [--reps 10] [--out bench/decode]

Spec: Llama-3-8B decode (32 q heads, 8 kv heads, head dim 128, paged, page
size 16) with split_kv 1 and "auto", in f32 and bf16; and the serving form
of the bf16 "auto" one, which also appends the step's key/value to the
cache and applies RoPE (base 500000) inside the call (variant
"rope_append": the cache holds context - 1 keys, the call appends one). A decode step reads
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
import tempfile
import time

import numpy as np


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
    base = {"version": 1, "head_dim": 128, "num_q_heads": 32, "num_kv_heads": 8,
            "mask": "causal", "kv_cache": {"layout": "paged", "page_size": 16}, "target": "cpu"}
    rows = []
    variants = [(dtype, split, "plain") for dtype in ("f32", "bf16") for split in (1, "auto")]
    variants.append(("bf16", "auto", "rope_append"))
    with tempfile.TemporaryDirectory() as work:
        for dtype, split, variant in variants:
            spec = dict(base, name=f"decode_{dtype}_{'split' if split != 1 else 'nosplit'}",
                        dtype=dtype, split_kv=split)
            if variant == "rope_append":
                spec.update(name=spec["name"] + "_rope_append",
                            kv_cache={"layout": "paged", "page_size": 16, "append": True},
                            rope={"base": 500000.0})
            path = os.path.join(work, spec["name"] + ".json")
            json.dump(spec, open(path, "w"))
            for context in (int(c) for c in args.contexts.split(",")):
                out = subprocess.run(
                    [args.attngen, "bench", path, "--batch", str(args.batch), "--seqlen-q", "1",
                     "--seqlen-k", str(context), "--reps", str(args.reps), "--json"],
                    capture_output=True, text=True, check=True).stdout
                result = json.loads(out)
                element = 4 if dtype == "f32" else 2
                nbytes = 2 * args.batch * context * 8 * 128 * element
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
