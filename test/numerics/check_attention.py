#!/usr/bin/env python3
"""Runs `attngen run` on random inputs and compares with the float64 reference.

Rule (DESIGN section 3): f32 specs within 1e-4 (relative to the output's
scale) of float64; 16-bit specs within 2x the error of a naive attention in
that dtype, + 1e-5 (FlashAttention's test rule). LSE is checked too.

usage: check_attention.py ATTNGEN SPEC.json WORKDIR [--shapes SQxSK,...]
       [--head-dims D[:DV],...] [--batch B] [--backend cpu|gpu-sim]
A spec's head dims are replaced by each of --head-dims (a copy of the spec is
written to WORKDIR), so one spec covers a grid of head dims.
"""
import argparse
import copy
import json
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import reference  # noqa: E402


def to_bf16(x):
    """Round float32 to bfloat16 (nearest even), returned as float32."""
    bits = np.asarray(x, np.float32).view(np.uint32).astype(np.uint64)
    rounded = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16) << 16
    return rounded.astype(np.uint32).view(np.float32)


def round_to(dtype, x):
    if dtype == "f16":
        return x.astype(np.float16).astype(np.float32)
    if dtype == "bf16":
        return to_bf16(x)
    return x.astype(np.float32)


def low_precision_attention(spec, q, k, v):
    """A naive attention rounding every step to the spec's 16-bit dtype: the
    error baseline of FlashAttention's rule."""
    out, _ = reference.attention(spec, q, k, v, round_to=lambda x: round_to(spec["dtype"], x))
    return out


def check(attngen, spec_path, workdir, sq, sk, batch, spec, backend="cpu"):
    rng = np.random.default_rng(sq * 7919 + sk * 31 + spec["head_dim"])
    d, dv = spec["head_dim"], spec.get("head_dim_v", spec["head_dim"])
    hq = spec["num_q_heads"]
    hkv = spec.get("num_kv_heads", hq)
    q = rng.standard_normal((batch, sq, hq, d)).astype(np.float32)
    k = rng.standard_normal((batch, sk, hkv, d)).astype(np.float32)
    v = rng.standard_normal((batch, sk, hkv, dv)).astype(np.float32)
    dtype = spec["dtype"]
    # The kernel sees the inputs rounded to its dtype; so does the reference.
    q, k, v = (round_to(dtype, t) for t in (q, k, v))
    paths = {name: os.path.join(workdir, f"{name}.npy") for name in ("q", "k", "v", "o", "lse")}
    for name, tensor in (("q", q), ("k", k), ("v", v)):
        np.save(paths[name], tensor.astype(np.float16) if dtype == "f16" else tensor)
    command = [attngen, "run", spec_path, "--backend", backend, "--q", paths["q"],
               "--k", paths["k"], "--v", paths["v"], "--out", paths["o"]]
    if spec.get("return_lse"):
        command += ["--lse", paths["lse"]]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        return f"attngen run failed: {result.stderr.strip()}"
    out = np.load(paths["o"]).astype(np.float64)
    ref_out, ref_lse = reference.attention(spec, q.astype(np.float64), k.astype(np.float64), v.astype(np.float64))
    if out.shape != ref_out.shape:
        return f"O has shape {out.shape}, expected {ref_out.shape}"
    error = np.max(np.abs(out - ref_out)) if out.size else 0.0
    if dtype == "f32":
        scale = max(1.0, np.max(np.abs(ref_out)) if ref_out.size else 1.0)
        bound = 1e-4 * scale
    else:
        naive = low_precision_attention(spec, q, k, v)
        bound = 2 * (np.max(np.abs(naive - ref_out)) if naive.size else 0.0) + 1e-5
    if not np.all(np.isfinite(out)):
        return "O has non-finite values"
    if error > bound:
        return f"O max error {error:.3g} > bound {bound:.3g}"
    if spec.get("return_lse"):
        lse = np.load(paths["lse"]).astype(np.float64)
        if lse.shape != ref_lse.shape:
            return f"LSE has shape {lse.shape}, expected {ref_lse.shape}"
        if not np.array_equal(np.isneginf(lse), np.isneginf(ref_lse)):
            return "LSE is -inf on different rows than the reference"
        finite = np.isfinite(ref_lse)
        lse_error = np.max(np.abs(lse[finite] - ref_lse[finite])) if finite.any() else 0.0
        lse_bound = 1e-4 * max(1.0, np.max(np.abs(ref_lse[finite])) if finite.any() else 1.0)
        if dtype != "f32":
            lse_bound = max(lse_bound, 1e-3)
        if lse_error > lse_bound:
            return f"LSE max error {lse_error:.3g} > bound {lse_bound:.3g}"
    return None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("attngen")
    parser.add_argument("spec")
    parser.add_argument("workdir")
    parser.add_argument("--shapes", default="113x203")
    parser.add_argument("--head-dims", default="")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--backend", default="cpu")
    args = parser.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    base = json.load(open(args.spec))
    variants = []
    if args.head_dims:
        for item in args.head_dims.split(","):
            d, _, dv = item.partition(":")
            spec = copy.deepcopy(base)
            spec["head_dim"] = int(d)
            spec["head_dim_v"] = int(dv or d)
            path = os.path.join(args.workdir, f"spec_d{d}_dv{dv or d}.json")
            json.dump(spec, open(path, "w"))
            variants.append((path, spec))
    else:
        variants.append((args.spec, base))
    passed = failed = 0
    for path, spec in variants:
        for shape in args.shapes.split(","):
            sq, sk = (int(x) for x in shape.split("x"))
            problem = check(args.attngen, path, args.workdir, sq, sk, args.batch, spec,
                            args.backend)
            label = f"{os.path.basename(args.spec)} d={spec['head_dim']} dv={spec.get('head_dim_v', spec['head_dim'])} {sq}x{sk}"
            if problem:
                failed += 1
                print(f"FAIL {label}: {problem}")
            else:
                passed += 1
                print(f"ok   {label}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
