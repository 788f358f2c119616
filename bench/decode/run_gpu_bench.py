#!/usr/bin/env python3
"""Decode throughput of attngen's CUDA kernels as a fraction of the card's
measured copy bandwidth: one query token per sequence against a KV cache.

usage: python3 bench/decode/run_gpu_bench.py specs OUT_DIR [--target sm_90] [--sweep]
       python3 bench/decode/run_gpu_bench.py run LIBATTNRT PACKAGES_DIR
           [--out DIR] [--reps 20] [--shapes B:CONTEXT,...] [--tag TAG]

`specs` writes the benchmark's specs (decode_specs.py, the CPU benchmark's
set with CUDA targets) for compilation where attngen is built
(scripts/gpu-check.sh prepare), with --sweep the tiling sweep of
decode_specs.decode_sweep(); `run` runs every package of PACKAGES_DIR on the
GPU through libattnrt on PyTorch tensors and PyTorch's stream.

A decode step reads the whole cache once: bytes = 2 * batch * context *
kv_heads * head_dim * 2 (K and V, 16-bit). "copy" is PyTorch copying a
buffer of that many bytes on the same card (a read and a write per byte:
copy bandwidth = 2 * bytes / time, the figure a card's memory system
reaches in practice). The fraction is attngen's read bandwidth
(bytes / time) over the copy bandwidth: 1.0 means the kernel streams the
cache as fast as the card moves bytes at all. SDPA (PyTorch's fastest
backend for the shape, on a contiguous copy of the cache, enable_gqa) is
timed on the same data as a reference point, and attngen's output is
compared with it before timing (max_error; for the RoPE/append spec, SDPA
runs on the query and appended key rotated in float64).
Writes results-gpu-<card>[-TAG].csv.
"""
import argparse
import csv
import ctypes
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from decode_specs import KV_HEADS, HEAD_DIM, Q_HEADS, decode_specs, decode_sweep  # noqa: E402

# (batch, context): large batches stream the cache with many CTAs; batch 1
# with a long context is where split-KV matters.
SHAPES = ((1, 16384), (1, 131072), (8, 8192), (32, 1024), (32, 4096), (64, 8192))


def write_specs(out, target, sweep):
    os.makedirs(out, exist_ok=True)
    for spec in decode_sweep(target) if sweep else decode_specs(target):
        with open(os.path.join(out, spec["name"] + ".json"), "w") as f:
            json.dump(spec, f, indent=2)


def rotated(spec, x, position):
    """x[..., :] (16-bit, heads last but one) turned by RoPE at `position`,
    in float64 and rounded back to x's type, as the kernels store rotated
    keys and queries (test/numerics/reference.py's rotary, in PyTorch)."""
    import torch
    rope = spec["rope"]
    r = rope.get("rotary_dim", spec["head_dim"])
    pairs = torch.arange(r // 2, dtype=torch.float64, device=x.device)
    angle = position * float(rope.get("base", 10000.0)) ** (-2.0 * pairs / r)
    cos, sin = torch.cos(angle), torch.sin(angle)
    out = x.double()
    first, second = ((slice(0, r, 2), slice(1, r, 2)) if rope.get("interleaved", False)
                     else (slice(0, r // 2), slice(r // 2, r)))
    x1, x2 = out[..., first].clone(), out[..., second].clone()
    out[..., first] = x1 * cos - x2 * sin
    out[..., second] = x2 * cos + x1 * sin
    return out.to(x.dtype)


def run(args):
    import torch
    import torch.nn.functional as F
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                    "test", "numerics"))
    from check_cuda_package import AttentionArgs
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "gpu"))
    from run_bench import time_ms  # CUDA-event median, as bench/gpu measures

    lib = ctypes.CDLL(args.libattnrt)
    lib.attnrt_last_error.restype = ctypes.c_char_p
    lib.attnrt_kernel_load.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)]
    lib.attnrt_run_cuda.argtypes = [ctypes.c_void_p, ctypes.POINTER(AttentionArgs), ctypes.c_void_p]
    lib.attnrt_workspace_bytes.argtypes = [ctypes.c_void_p, ctypes.POINTER(AttentionArgs),
                                           ctypes.POINTER(ctypes.c_size_t)]
    card = torch.cuda.get_device_name()
    tag = card.replace(" ", "_") + (f"-{args.tag}" if args.tag else "")
    path = os.path.join(args.out, f"results-gpu-{tag}.csv")
    shapes = [tuple(int(x) for x in item.split(":")) for item in args.shapes.split(",")]
    fields = ["card", "spec", "tiling", "layout", "split_kv", "variant", "batch", "context", "cache_mb",
              "attngen_ms", "copy_ms", "sdpa_ms", "attngen_gbps", "copy_gbps",
              "fraction_of_copy", "max_error"]
    out_file = open(path, "w", newline="")
    writer = csv.DictWriter(out_file, fieldnames=fields)
    writer.writeheader()
    for name in sorted(p for p in os.listdir(args.packages) if p.endswith(".attnpkg")):
        package = os.path.join(args.packages, name)
        spec = json.load(open(os.path.join(package, "manifest.json")))["spec"]
        kernel = ctypes.c_void_p()
        if lib.attnrt_kernel_load(package.encode(), ctypes.byref(kernel)):
            sys.exit(f"{package}: {lib.attnrt_last_error().decode()}")
        cache = spec["kv_cache"]
        appends = bool(cache.get("append"))
        tiling = spec.get("tiling")
        tiling = "x".join(str(tiling[k]) for k in ("block_m", "block_n", "num_warps", "num_stages")) \
            if isinstance(tiling, dict) else str(tiling)
        for batch, context in shapes:
            torch.manual_seed(batch * 7 + context)
            bf16 = torch.bfloat16
            q = torch.randn(batch, 1, Q_HEADS, HEAD_DIM, device="cuda", dtype=bf16)
            keys = torch.randn(batch, context, KV_HEADS, HEAD_DIM, device="cuda", dtype=bf16)
            values = torch.randn_like(keys)
            o = torch.empty_like(q)
            lse = torch.empty(batch, Q_HEADS, 1, device="cuda")
            # Appending steps store the last key of each sequence themselves.
            lengths = torch.full((batch,), context - (1 if appends else 0), dtype=torch.int32,
                                 device="cuda")
            call = AttentionArgs()
            if cache["layout"] == "paged":
                page = cache["page_size"]
                pages = -(-context // page)
                padded = pages * page
                table = torch.randperm(batch * pages, device="cuda", dtype=torch.int32)
                table = table.reshape(batch, pages)
                k_cache = torch.zeros(batch * pages, page, KV_HEADS, HEAD_DIM, device="cuda",
                                      dtype=bf16)
                v_cache = torch.zeros_like(k_cache)
                for src, dst in ((keys, k_cache), (values, v_cache)):
                    rows = torch.zeros(batch, padded, KV_HEADS, HEAD_DIM, device="cuda", dtype=bf16)
                    rows[:, :context] = src
                    dst[table.flatten().long()] = rows.reshape(batch * pages, page, KV_HEADS,
                                                               HEAD_DIM)
                call.page_table = table.data_ptr()
                call.num_pages, call.max_pages_per_seq = batch * pages, pages
            else:
                k_cache, v_cache = keys.clone(), values.clone()
            call.q, call.k, call.v, call.o = (t.data_ptr() for t in (q, k_cache, v_cache, o))
            call.lse = lse.data_ptr()
            call.batch, call.seqlen_q, call.seqlen_k = batch, 1, k_cache.shape[1]
            call.cache_seqlens = lengths.data_ptr()
            if appends:
                k_new = keys[:, context - 1:].contiguous()
                v_new = values[:, context - 1:].contiguous()
                call.k_new, call.v_new = k_new.data_ptr(), v_new.data_ptr()
            needed = ctypes.c_size_t()
            if lib.attnrt_workspace_bytes(kernel, ctypes.byref(call), ctypes.byref(needed)):
                sys.exit(lib.attnrt_last_error().decode())
            workspace = torch.empty(max(needed.value, 16), dtype=torch.uint8, device="cuda")
            call.workspace, call.workspace_bytes = workspace.data_ptr(), needed.value
            stream = ctypes.c_void_p(torch.cuda.current_stream().cuda_stream)

            def attngen():
                if lib.attnrt_run_cuda(kernel, ctypes.byref(call), stream):
                    raise RuntimeError(lib.attnrt_last_error().decode())
            query = q
            if spec.get("rope"):
                # The step's query and appended key are rotated at position
                # context - 1; the cache's rows are taken as rotated already.
                keys = keys.clone()
                keys[:, -1] = rotated(spec, keys[:, -1], context - 1)
                query = rotated(spec, q, context - 1)
            qt, kt, vt = query.transpose(1, 2), keys.transpose(1, 2), values.transpose(1, 2)

            def sdpa():
                return F.scaled_dot_product_attention(qt, kt, vt, enable_gqa=True)
            attngen()
            torch.cuda.synchronize()
            error = (o.float() - sdpa().transpose(1, 2).float()).abs().max().item()
            nbytes = 2 * batch * context * KV_HEADS * HEAD_DIM * 2
            source = torch.empty(nbytes // 2, dtype=bf16, device="cuda")
            target = torch.empty_like(source)
            copy = time_ms(lambda: target.copy_(source), args.reps)
            del source, target
            attn = time_ms(attngen, args.reps)
            reference = time_ms(sdpa, args.reps)
            row = {"card": card, "spec": spec["name"], "tiling": tiling, "layout": cache["layout"],
                   "split_kv": spec.get("split_kv", 1), "variant": "rope_append" if appends else "plain",
                   "batch": batch, "context": context, "cache_mb": round(nbytes / 2**20, 1),
                   "attngen_ms": f"{attn:.4f}", "copy_ms": f"{copy:.4f}", "sdpa_ms": f"{reference:.4f}",
                   "attngen_gbps": round(nbytes / attn / 1e6, 1),
                   "copy_gbps": round(2 * nbytes / copy / 1e6, 1),
                   "fraction_of_copy": round((nbytes / attn) / (2 * nbytes / copy), 3),
                   "max_error": f"{error:.3g}"}
            writer.writerow(row)
            out_file.flush()
            print(" ".join(f"{key}={row[key]}" for key in fields[1:]), flush=True)
            del k_cache, v_cache, keys, values, workspace
        lib.attnrt_kernel_release(kernel)
    out_file.close()
    print(f"wrote {path}")


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="mode", required=True)
    specs = sub.add_parser("specs")
    specs.add_argument("out")
    specs.add_argument("--target", default="sm_90")
    specs.add_argument("--sweep", action="store_true")
    bench = sub.add_parser("run")
    bench.add_argument("libattnrt")
    bench.add_argument("packages")
    bench.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)))
    bench.add_argument("--reps", type=int, default=20)
    bench.add_argument("--shapes", default=",".join(f"{b}:{c}" for b, c in SHAPES))
    bench.add_argument("--tag", default="")
    args = parser.parse_args()
    if args.mode == "specs":
        write_specs(args.out, args.target, args.sweep)
    else:
        run(args)


if __name__ == "__main__":
    main()
