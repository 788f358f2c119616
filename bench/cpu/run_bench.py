#!/usr/bin/env python3
"""attngen's CPU kernel against OpenBLAS sgemm and a numpy naive attention,
measured in the same run, as ratios.

usage: /usr/bin/python3 bench/cpu/run_bench.py [--attngen build/bin/attngen]
           [--seqlens 512,1024,2048,4096,8192] [--head-dims 64,128]
           [--reps 5] [--out bench/cpu]

For each (seqlen, head dim, causal or not) with f32, hq = hkv = 8, batch 1:
  attngen   `attngen bench --json` (median over --reps after a warm-up)
  sgemm     numpy float32 matmul (OpenBLAS when libopenblas0-pthread is the
            libblas.so.3 alternative), n x n x n with n = 2048, median time
  naive     numpy float32 attention per head: S = QK^T, mask, softmax, PV
Writes results.csv, results.png (if matplotlib is installed) and machine.txt.
The sgemm figure is re-measured next to every attngen run, so the ratio
compares numbers taken under the same load.
"""
import argparse
import csv
import json
import math
import os
import platform
import subprocess
import tempfile
import time

import numpy as np


def median_time(fn, reps):
    fn()  # warm-up
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def sgemm_gflops(reps, n=2048):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    return 2.0 * n ** 3 / median_time(lambda: a @ b, reps) / 1e9


def naive_attention_seconds(seqlen, head_dim, heads, causal, reps):
    rng = np.random.default_rng(1)
    q = rng.standard_normal((heads, seqlen, head_dim), dtype=np.float32)
    k = rng.standard_normal((heads, seqlen, head_dim), dtype=np.float32)
    v = rng.standard_normal((heads, seqlen, head_dim), dtype=np.float32)
    scale = np.float32(1.0 / math.sqrt(head_dim))
    mask = np.tril(np.ones((seqlen, seqlen), bool)) if causal else None

    def run():
        for h in range(heads):
            s = (q[h] @ k[h].T) * scale
            if mask is not None:
                s = np.where(mask, s, np.float32(-np.inf))
            s = np.exp(s - s.max(axis=1, keepdims=True))
            s /= s.sum(axis=1, keepdims=True)
            _ = s @ v[h]

    return median_time(run, max(1, reps // 2))


def attngen_bench(attngen, seqlen, head_dim, heads, causal, reps, workdir):
    spec = {"version": 1, "name": "bench", "dtype": "f32", "head_dim": head_dim,
            "num_q_heads": heads, "mask": "causal" if causal else "none", "target": "cpu"}
    path = os.path.join(workdir, "spec.json")
    with open(path, "w") as f:
        json.dump(spec, f)
    out = subprocess.run([attngen, "bench", path, "--backend", "cpu", "--batch", "1",
                          "--seqlen-q", str(seqlen), "--seqlen-k", str(seqlen),
                          "--reps", str(reps), "--warmup", "1", "--json"],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def describe_machine():
    lines = [f"platform: {platform.platform()}"]
    try:
        model = [l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")]
        lines.append(f"cpu: {model[0]} x {len(model)} logical cores")
        flags = next(l for l in open("/proc/cpuinfo") if l.startswith("flags")).split()
        lines.append("vector features: " + " ".join(f for f in ("avx", "avx2", "fma", "avx512f") if f in flags))
    except (OSError, StopIteration, IndexError):
        pass
    try:
        blas = subprocess.run(["update-alternatives", "--query", "libblas.so.3-x86_64-linux-gnu"],
                              capture_output=True, text=True).stdout
        value = [l.split(":", 1)[1].strip() for l in blas.splitlines() if l.startswith("Value:")]
        lines.append(f"libblas.so.3: {value[0] if value else 'unknown'}")
    except OSError:
        pass
    lines.append(f"numpy: {np.__version__}")
    lines.append("OPENBLAS_CORETYPE: " + os.environ.get("OPENBLAS_CORETYPE", "(unset)"))
    return "\n".join(lines) + "\n"


def plot(rows, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed: no plot (apt-get install python3-matplotlib)")
        return
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for d in sorted({r["head_dim"] for r in rows}):
        for causal in (False, True):
            sel = [r for r in rows if r["head_dim"] == d and r["causal"] == causal]
            label = f"d={d}{' causal' if causal else ''}"
            axes[0].plot([r["seqlen"] for r in sel], [r["attngen_gflops"] for r in sel], marker="o", label=label)
            axes[1].plot([r["seqlen"] for r in sel], [r["speedup_vs_naive"] for r in sel], marker="o", label=label)
    sgemm = np.median([r["sgemm_gflops"] for r in rows])
    axes[0].axhline(sgemm, color="gray", linestyle="--", label=f"OpenBLAS sgemm ({sgemm:.0f})")
    axes[0].axhline(sgemm / 2, color="gray", linestyle=":", label="50% of sgemm")
    axes[0].set_title("attngen CPU, f32, hq = hkv = 8 (GFLOP/s)")
    axes[1].set_title("speedup over numpy naive attention")
    for ax in axes:
        ax.set_xscale("log", base=2)
        ax.set_xlabel("seqlen")
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--attngen", default="build/bin/attngen")
    parser.add_argument("--seqlens", default="512,1024,2048,4096,8192")
    parser.add_argument("--head-dims", default="64,128")
    parser.add_argument("--heads", type=int, default=8)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--out", default="bench/cpu")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    rows = []
    with tempfile.TemporaryDirectory() as workdir:
        for d in (int(x) for x in args.head_dims.split(",")):
            for seqlen in (int(x) for x in args.seqlens.split(",")):
                for causal in (False, True):
                    sgemm = sgemm_gflops(args.reps)
                    result = attngen_bench(args.attngen, seqlen, d, args.heads, causal, args.reps, workdir)
                    naive = naive_attention_seconds(seqlen, d, args.heads, causal, args.reps)
                    row = {"seqlen": seqlen, "head_dim": d, "causal": causal,
                           "attngen_ms": result["median_ms"], "attngen_gflops": result["gflops"],
                           "sgemm_gflops": round(sgemm, 2),
                           "fraction_of_sgemm": round(result["gflops"] / sgemm, 3),
                           "naive_ms": round(naive * 1e3, 3),
                           "speedup_vs_naive": round(naive * 1e3 / result["median_ms"], 2)}
                    rows.append(row)
                    print(json.dumps(row), flush=True)
    with open(os.path.join(args.out, "results.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    with open(os.path.join(args.out, "machine.txt"), "w") as f:
        f.write(describe_machine())
    plot(rows, os.path.join(args.out, "results.png"))

    # The targets at f32, hq = hkv = 8, d = 128, seqlen 2048.
    full = [r for r in rows if r["seqlen"] == 2048 and r["head_dim"] == 128 and not r["causal"]]
    causal = [r for r in rows if r["seqlen"] == 2048 and r["head_dim"] == 128 and r["causal"]]
    if full and causal:
        print(f"d=128 seqlen=2048: {full[0]['fraction_of_sgemm']:.0%} of sgemm; "
              f"causal {full[0]['attngen_ms'] / causal[0]['attngen_ms']:.2f}x faster than non-causal")


if __name__ == "__main__":
    main()
