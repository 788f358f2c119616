#!/usr/bin/env python3
"""Writes the specs of bench/gpu's grid: variants x head dims, with
FlashAttention's benchmark shape (num_q_heads * head_dim = 2048).

usage: make_specs.py OUT_DIR [--dtype bf16] [--sweep | --head-dims 64,128,256]
Variants: noncausal, causal, window (left 1024, causal), gqa (causal, 4 q
heads per kv head), softcap (50, causal), alibi (causal). Head dims 64, 80,
96, 128, 256. The spec names are VARIANT_dD; run_bench.py reads them back.
--sweep writes instead the causal and non-causal specs with each tiling of
SWEEP (VARIANT_dD_tBMxBNxWxS; head dims 80, 96 and 112 too) and the other
variants' at head dims 64, 96 and 128 with SWEEP_OTHER_VARIANTS's, to measure what
`tiling: "auto"` should pick.
"""
import argparse
import json
import os

VARIANTS = {
    "noncausal": {},
    "causal": {"mask": "causal"},
    "window": {"mask": "causal", "window": {"left": 1024, "right": 0}},
    "gqa": {"mask": "causal", "gqa": 4},
    "softcap": {"mask": "causal", "softcap": 50.0},
    "alibi": {"mask": "causal", "alibi": True},
}
HEAD_DIMS = (64, 80, 96, 128, 256)
# (block_m, block_n, num_warps, num_stages) per head dim.
# num_stages 3 and 4: rings of 2 and 3 K/V buffers.
SWEEP = {
    64: ((64, 64, 4, 2), (64, 128, 4, 2), (128, 64, 8, 2), (128, 128, 8, 2), (128, 64, 4, 2),
         (128, 128, 4, 2), (64, 64, 4, 3), (64, 128, 4, 3)),
    128: ((64, 64, 4, 2), (64, 64, 4, 1), (64, 32, 4, 2), (64, 128, 4, 2), (128, 32, 8, 2),
          (128, 64, 8, 2), (128, 128, 8, 2), (128, 64, 4, 2), (64, 64, 4, 3), (64, 64, 4, 4),
          (64, 32, 4, 4), (64, 128, 4, 3)),
    256: ((64, 32, 4, 2), (64, 64, 4, 2), (128, 32, 8, 2), (128, 64, 8, 2), (64, 64, 4, 3),
          (64, 32, 4, 4)),
    # Swizzled tiles of several column blocks (copied block by block), and
    # the two-slab tilings that assemble without spills (FlashAttention-2
    # runs d80 and d96 on two slabs of 128 x 64; d96's accumulators pass the
    # budget there, and 128 x 64 becomes 8 warps of one slab; 128 x 48 is
    # d96's widest two-slab tile within it, 144 registers; d112's 128 x 32
    # spilled 16 bytes on sm_80).
    80: ((64, 64, 4, 2), (64, 64, 4, 3), (64, 128, 4, 2), (64, 128, 4, 3), (128, 64, 4, 2),
         (128, 48, 4, 2), (128, 32, 4, 2)),
    96: ((64, 64, 4, 2), (64, 64, 4, 3), (64, 128, 4, 2), (64, 128, 4, 3), (128, 48, 4, 2),
         (128, 32, 4, 2)),
    112: ((64, 64, 4, 2), (64, 64, 4, 3), (64, 128, 4, 2), (64, 128, 4, 3)),
}
# The other variants: at head dim 128 128 x 64 (two slabs per warp; 8 warps
# of one slab for softcap and ALiBi, over the register budget) against one
# slab of 64 x 128 and 64 x 64; at head dims 64 and 96 (one slab of 64 x 64
# with a ring: three CTAs per multiprocessor) against two stages and 64 x 128.
SWEEP_OTHER_VARIANTS = {128: ((128, 64, 4, 2), (64, 128, 4, 2), (64, 64, 4, 2)),
                        96: ((64, 64, 4, 3), (64, 64, 4, 2), (64, 128, 4, 2)),
                        64: ((64, 64, 4, 2), (64, 64, 4, 3), (64, 128, 4, 2))}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--dtype", default="bf16")
    parser.add_argument("--sweep", action="store_true")
    parser.add_argument("--head-dims", default=",".join(map(str, HEAD_DIMS)),
                        help="the grid's head dims (not --sweep's), comma-separated")
    args = parser.parse_args()
    head_dims = [int(d) for d in args.head_dims.split(",")]
    os.makedirs(args.out, exist_ok=True)
    for variant, fields in VARIANTS.items():
        sweep = SWEEP if variant in ("causal", "noncausal") else SWEEP_OTHER_VARIANTS
        for d in sorted(sweep) if args.sweep else head_dims:
            # GQA's q heads: a multiple of its group (24 of 6 kv heads at d80).
            hq = 2048 // d // fields.get("gqa", 1) * fields.get("gqa", 1)
            spec = {"version": 1, "name": f"{variant}_d{d}", "dtype": args.dtype,
                    "head_dim": d, "num_q_heads": hq}
            for key, value in fields.items():
                if key == "gqa":
                    spec["num_kv_heads"] = hq // value
                else:
                    spec[key] = value
            for tiling in sweep[d] if args.sweep else (None,):
                if tiling:
                    spec["tiling"] = dict(zip(("block_m", "block_n", "num_warps", "num_stages"),
                                              tiling))
                    spec["name"] = f"{variant}_d{d}_t" + "x".join(map(str, tiling))
                with open(os.path.join(args.out, spec["name"] + ".json"), "w") as f:
                    json.dump(spec, f, indent=2)


if __name__ == "__main__":
    main()
