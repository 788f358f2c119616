#!/usr/bin/env python3
"""Writes a grid of GPU specs for check_ptxas.py: ptxas at 255 registers
flips between 0 and a few spilled bytes with small changes of the kernel,
so a kernel change is checked on more than specs/ before it lands.

usage: make_ptxas_grid.py OUT_DIR
       check_ptxas.py build/bin/attngen /usr/local/cuda/bin/ptxas OUT_DIR WORKDIR

Grid: masks (none, causal top-left and bottom-right, causal window, two-sided
window, sinks), GQA/MQA, varlen, softcap, ALiBi, paged KV caches with
split-KV; head dims 32 to 256 with 59/80/96/111 and head_dim_v != head_dim;
auto tiling, the two-slab tilings (128 x 64, 128 x 128 and 128 x 48 on 4
warps, and 128 x 64 with three stages) where head dims allow and the
three-stage ring at 64 x 64 on 4 warps; bf16 (f16 for a few). 676 specs,
about 14 minutes on 2 cores. On 2026-11-27 (rings, block-by-block copies;
again after aacd109, strength reduction without its poison guard; again
with a55d775's auto tiling: three-stage 64 x 64 and 64 x 128 one-slab
kernels; again with the whole-row swizzle, also in two-slab kernels at head
dims that are not multiples of 64) every auto tiling and every ring passed;
the same 11 explicit two-slab kernels as before spilled 8-396 bytes (sinks; varlen; head_dim_v 128 with
head_dim 64 non-causal or MQA; sinks d59 128 x 64 on sm_80), which is why
`tiling: "auto"` does not pick them. With 128 x 48 added (2026-11-27, the
lazy rescale in two-slab kernels of up to 144 accumulator registers) 24 of
968 kernels spill, every one of them also without the lazy rescale: the
11 above and 128 x 48's d128 and dv128 MQA/non-causal/sinks/varlen ones.
With Q copied by cp.async (8e51e25, FlashAttention-2's prologue) 25: those
24 and sinks d32 at 128 x 128 on sm_90 (4 bytes), another explicit
two-slab tiling with sinks. With seqlen_k folded into the mask's bounds
(cb5c80a) the 24 again (sinks d32 passes) and causal top-left d59 at 64 x 64
with three stages on sm_90, auto's tiling (20 bytes): head dims that are not
multiples of 8 now keep the separate compare, and their 110 grid kernels
(d59, d111) spill only where they did before (sinks d59 128 x 64, sm_80).
With the mask's bounds clamped per row and made relative in i32 (2026-11-28)
25, all explicit two-slab tilings with sinks or of the families above: sinks
d59 128 x 64 (sm_80) and sinks d64 128 x 128 (sm_90) pass now; sinks d128
128 x 48 (sm_90), sinks d32 128 x 128 (sm_90) and sinks d96 128 x 48 (both
targets) spill 4-48 bytes. With whole-tile copies in masked loops (K, and V
below head_dim_v 128) 26: sinks d32 128 x 128 (sm_90) and sinks d96 128 x 48
(sm_80) pass again; sinks d80 at 128 x 48 (both targets) and 128 x 64 (sm_90)
spill 8-16 bytes. V unchecked at head_dim_v 128 as well had spilled in
causal kernels (d128 f16 at 128 x 64, dv128 with d64 at 128 x 48, sm_90).
With three CTAs per multiprocessor for 64 x 64 tiles up to d96 (168
registers; 2026-11-28) the same 26: every 64 x 64 kernel of d32-d96
assembles in 168 or fewer, except d59's (padded columns: 96-368 bytes),
which the rule leaves at one CTA. With the two-slab register budget per
feature (accumulatorRegisterBudget: 112 with sinks, 144 for head_dim_v !=
head_dim and block_n 48, 176 for varlen and KV caches at block_n 128, 128
for rings; 2026-11-28) none:
those 26 tilings now run one slab per warp on 8 warps, and all 528 kernels
of 128-row tiles assemble without spills. With paged KV caches and 128 x 64
rings added (624 specs), d59's ring spilled 8-12 bytes on sm_80 at 128
accumulator registers (padded columns in a ring now get 112): all 1248
kernels assemble without spills. Again all 1248 with 3edb824 (ALiBi's
FMA, copies of more than 24 chunks per thread in a loop). With varlen + LSE
+ GQA added (676 specs): all 1352 since 86b7df0 (before it, non-causal
d128's auto tiling spilled 12 bytes on sm_90).
"""
import itertools
import json
import os
import sys

VARIANTS = {
    "nc": {},
    "c": {"mask": "causal"},
    "ctl": {"mask": "causal", "causal_align": "top_left"},
    "win": {"mask": "causal", "window": {"left": 256, "right": 0}},
    "winlr": {"window": {"left": 128, "right": 64}},
    "sinks": {"mask": "causal", "window": {"left": 1019, "right": 0}, "sink_tokens": 4},
    "gqa": {"mask": "causal", "num_kv_heads": 4},
    "mqa": {"num_kv_heads": 1},
    "varlen": {"varlen": True},
    # With the LSE and GQA, non-causal d128's auto tiling spilled 12 bytes
    # where "varlen" did not (86b7df0).
    "varlenlse": {"varlen": True, "return_lse": True, "num_kv_heads": 4},
    "softcap": {"mask": "causal", "softcap": 30.0},
    "alibi": {"mask": "causal", "alibi": True},
    "paged": {"mask": "causal", "num_kv_heads": 4,
              "kv_cache": {"layout": "paged", "page_size": 64}, "split_kv": "auto"},
}
# (head_dim, head_dim_v)
DIMS = [(32, 32), (59, 59), (64, 64), (80, 80), (96, 96), (111, 111), (128, 128),
        (64, 128), (192, 128), (256, 256)]
TILINGS = ["auto", (128, 64, 4, 2), (128, 128, 4, 2), (128, 48, 4, 2), (128, 64, 4, 3),
           (64, 64, 4, 3)]


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    count = 0
    for (variant, fields), (d, dv), tiling in itertools.product(VARIANTS.items(), DIMS, TILINGS):
        if tiling != "auto" and tiling[0] == 128 and max(d, dv) > 128:
            continue  # two slabs of head dims above 128 do not fit the registers
        spec = {"version": 1, "dtype": "f16" if variant == "ctl" else "bf16",
                "head_dim": d, "head_dim_v": dv, "num_q_heads": 16}
        spec.update(fields)
        tag = "auto" if tiling == "auto" else "x".join(map(str, tiling[:3]))
        if tiling != "auto" and tiling[3] != 2:
            tag += f"s{tiling[3]}"
        if tiling != "auto":
            spec["tiling"] = dict(zip(("block_m", "block_n", "num_warps", "num_stages"), tiling))
        spec["name"] = f"{variant}_d{d}_dv{dv}_{tag}"
        with open(os.path.join(out, spec["name"] + ".json"), "w") as f:
            json.dump(spec, f)
        count += 1
    print(f"{count} specs in {out}")


if __name__ == "__main__":
    main()
