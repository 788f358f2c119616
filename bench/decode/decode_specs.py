"""The decode benchmarks' specs (bench/decode/run_bench.py on the CPU,
run_gpu_bench.py on a GPU): Llama-3-8B decode, 32 q heads over 8 kv heads of
head dim 128, causal, against a KV cache.

CPU: paged (page size 16) with split_kv 1 and "auto", in f32 and bf16, and
the serving form of the bf16 "auto" one, which also appends the step's
key/value to the cache and applies RoPE (base 500000) inside the call.
CUDA targets (16-bit only): the same bf16 set, plus split "auto" over a
contiguous cache and over pages of 256 rows. decode_sweep(): the paged and
contiguous split "auto" specs with each tiling of DECODE_TILINGS, to measure
what `tiling: "auto"` should pick for decode."""

Q_HEADS, KV_HEADS, HEAD_DIM = 32, 8, 128
# (block_m, block_n, num_warps, num_stages): GQA packing puts the 4 q heads
# of a kv head in one CTA, so decode uses 4 of block_m rows.
# num_stages 3 and 4: more cache rows in flight per CTA (not yet timed).
DECODE_TILINGS = ((16, 32, 1, 2), (16, 64, 1, 2), (16, 128, 1, 2), (16, 64, 1, 1),
                  (32, 64, 2, 2), (64, 64, 4, 2), (64, 128, 4, 2), (64, 32, 4, 2),
                  (32, 64, 2, 3), (32, 32, 2, 4), (16, 64, 1, 3))


def decode_spec(name, dtype, split, target, cache):
    return {"version": 1, "name": name, "dtype": dtype, "head_dim": HEAD_DIM,
            "num_q_heads": Q_HEADS, "num_kv_heads": KV_HEADS, "mask": "causal",
            "return_lse": True, "kv_cache": cache, "split_kv": split, "target": target}


def decode_specs(target):
    paged16 = {"layout": "paged", "page_size": 16}
    dtypes = ("f32", "bf16") if target == "cpu" else ("bf16",)
    specs = [decode_spec(f"decode_{dtype}_{'split' if split != 1 else 'nosplit'}", dtype, split,
                         target, paged16)
             for dtype in dtypes for split in (1, "auto")]
    if target != "cpu":
        specs.append(decode_spec("decode_bf16_split_contiguous", "bf16", "auto", target,
                                 {"layout": "contiguous"}))
        specs.append(decode_spec("decode_bf16_split_page256", "bf16", "auto", target,
                                 {"layout": "paged", "page_size": 256}))
    rope_append = decode_spec("decode_bf16_split_rope_append", "bf16", "auto", target,
                              dict(paged16, append=True))
    rope_append["rope"] = {"base": 500000.0}
    specs.append(rope_append)
    return specs


def decode_sweep(target):
    """Each tiling of DECODE_TILINGS with split_kv "auto", and the auto
    tiling (32 x 64 on 2 warps) with fixed split counts 2-64: the H100
    sweep of these set libattnrt's rule (two CTAs per multiprocessor)."""
    specs = []
    for layout in ({"layout": "paged", "page_size": 16}, {"layout": "contiguous"}):
        runs = [(tiling, "auto") for tiling in DECODE_TILINGS]
        runs += [((32, 64, 2, 2), splits) for splits in (2, 4, 8, 16, 32, 64)]
        for tiling, split in runs:
            name = f"sweep_{layout['layout']}_t" + "x".join(map(str, tiling))
            name += f"_s{split}" if split != "auto" else ""
            spec = decode_spec(name, "bf16", split, target, layout)
            spec["tiling"] = dict(zip(("block_m", "block_n", "num_warps", "num_stages"), tiling))
            specs.append(spec)
    return specs
