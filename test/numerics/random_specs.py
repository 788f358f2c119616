#!/usr/bin/env python3
"""Random specs against the float64 reference: every feature of the spec
format drawn at random (dtype, head dims 8-256 with head_dim_v != head_dim,
MHA/GQA/MQA, causal in both alignments, windows, sinks, softcap, ALiBi,
scale, KV caches contiguous or paged with appends, RoPE and split-KV,
variable-length batches, explicit tilings of 1-8 warps and 1-4 stages),
each run once on a random odd shape through check_attention.check.

The draws depend only on --seed, so a failure is reproduced by its seed and
index; its spec is printed as JSON. A spec that attngen rejects counts as a
failure, except an explicit tiling whose shared memory exceeds the target's,
whose 16 warps leave too few registers per thread, or whose one slab per
warp needs more than 160 accumulator registers (documented errors).

usage: random_specs.py ATTNGEN WORKDIR [--seed S] [--count N]
       [--backend cpu|gpu-sim]
Ends with `N passed, N failed` (and `N skipped` for those
rejections); exit status 1 on any failure.
"""
import argparse
import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(__file__))
import check_attention  # noqa: E402

HEAD_DIMS = [8, 16, 24, 32, 40, 48, 59, 64, 72, 80, 96, 111, 128, 160, 192, 256]
HEAD_DIMS_V = [8, 16, 40, 59, 64, 96, 128, 200]


def random_spec(rng, name, backend):
    """One valid spec of the format (docs/spec.md), drawn from `rng`."""
    dtype = rng.choice(["f16", "bf16"] + (["f32"] if backend == "cpu" else []))
    head_dim = rng.choice(HEAD_DIMS)
    kv_heads = rng.choice([1, 2, 3])
    spec = {"version": 1, "name": name, "dtype": dtype, "head_dim": head_dim,
            "head_dim_v": head_dim if rng.random() < 0.7 else rng.choice(HEAD_DIMS_V),
            "num_q_heads": kv_heads * rng.choice([1, 2, 3, 4]), "num_kv_heads": kv_heads,
            "return_lse": rng.random() < 0.8, "mask": rng.choice(["none", "causal"])}
    if spec["mask"] == "causal" or rng.random() < 0.3:
        spec["causal_align"] = rng.choice(["bottom_right", "top_left"])
    if rng.random() < 0.35:
        spec["window"] = {"left": rng.choice([-1, 0, 1, 7, 33, 100]),
                          "right": rng.choice([-1, 0, 5, 40])}
        # Sinks extend a bounded left edge.
        if spec["window"]["left"] >= 0 and rng.random() < 0.5:
            spec["sink_tokens"] = rng.choice([1, 3, 17])
    if rng.random() < 0.2:
        spec["softcap"] = rng.choice([5.0, 30.0])
    if rng.random() < 0.2:
        spec["alibi"] = True
    if rng.random() < 0.15:
        spec["scale"] = rng.choice([0.05, 0.3, 1.0])
    if rng.random() < 0.3:
        layout = rng.choice(["paged", "contiguous"])
        spec["kv_cache"] = {"layout": layout}
        if layout == "paged":
            spec["kv_cache"]["page_size"] = rng.choice([16, 32, 256])
        if rng.random() < 0.3:
            spec["kv_cache"]["append"] = True
        if rng.random() < 0.4 and head_dim % 2 == 0:
            rotary = rng.choice([x for x in (8, 16, 20, 32, 64, head_dim)
                                 if x <= head_dim and x % 2 == 0])
            spec["rope"] = {"base": 10000.0, "rotary_dim": rotary,
                            "interleaved": rng.random() < 0.5}
        if rng.random() < 0.4:
            spec["split_kv"] = rng.choice(["auto", 2, 3, 5])
    if rng.random() < 0.2:
        spec["varlen"] = True
    if rng.random() < 0.4:
        warps = rng.choice([1, 2, 4, 8])
        spec["tiling"] = {"block_m": 16 * warps * rng.choice([1, 2]),
                          "block_n": rng.choice([16, 32, 48, 64, 80, 112, 128]),
                          "num_warps": warps,
                          "num_stages": rng.choice([1, 2, 3, 4])}
    if backend == "gpu-sim":
        spec["target"] = rng.choice(["sm_80", "sm_90"])
    return spec


def random_shape(rng, spec):
    """(seqlen_q, seqlen_k, batch): odd sizes, often one partial tile."""
    seqlen_q = rng.choice([1, 2, 5, 17, 33, 64, 100, 130])
    seqlen_k = rng.choice([1, 3, 16, 47, 64, 100, 129, 200, 333])
    if "kv_cache" not in spec and rng.random() < 0.4:
        seqlen_k = seqlen_q
    # An appending call's last seqlen_q keys are the new ones.
    if spec.get("kv_cache", {}).get("append") and seqlen_k < seqlen_q:
        seqlen_k = seqlen_q + rng.choice([0, 1, 40, 129])
    return seqlen_q, seqlen_k, rng.choice([1, 2, 3])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("attngen")
    parser.add_argument("workdir")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument("--backend", choices=("cpu", "gpu-sim"), default="cpu")
    args = parser.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    rng = random.Random(args.seed)
    passed = failed = skipped = 0
    for index in range(args.count):
        spec = random_spec(rng, f"random_{args.seed}_{index}", args.backend)
        seqlen_q, seqlen_k, batch = random_shape(rng, spec)
        path = os.path.join(args.workdir, f"spec_{index}.json")
        with open(path, "w") as f:
            json.dump(spec, f)
        problem = check_attention.check(args.attngen, path, args.workdir, seqlen_q, seqlen_k,
                                        batch, spec, args.backend)
        label = f"seed {args.seed} #{index} {batch}x{seqlen_q}x{seqlen_k}"
        if problem and "bytes of shared memory per CTA" in problem:
            skipped += 1
            print(f"skip {label}: the tiling exceeds the target's shared memory")
        elif problem and ("registers per thread, too few for" in problem or
                          "that fit in a thread's 255 without spilling" in problem):
            skipped += 1
            print(f"skip {label}: the tiling's warps leave too few registers")
        elif problem:
            failed += 1
            print(f"FAIL {label}: {problem}\n     {json.dumps(spec)}")
        else:
            passed += 1
            print(f"ok   {label}")
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
