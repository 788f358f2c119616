"""The decode benchmarks' specs (bench/decode/run_bench.py on the CPU,
run_gpu_bench.py on a GPU): Llama-3-8B decode, 32 q heads over 8 kv heads of
head dim 128, causal, against a KV cache.

CPU: paged (page size 16) with split_kv 1 and "auto", in f32 and bf16, and
the serving form of the bf16 "auto" one, which also appends the step's
key/value to the cache and applies RoPE (base 500000) inside the call.
CUDA targets (16-bit only): the same bf16 set, plus split "auto" over a
contiguous cache and over pages of 256 rows."""

Q_HEADS, KV_HEADS, HEAD_DIM = 32, 8, 128


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
