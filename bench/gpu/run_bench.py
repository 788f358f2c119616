#!/usr/bin/env python3
"""attngen's GPU kernels against PyTorch SDPA (flash and cuDNN backends) and
FlexAttention (torch.compile), on the same card in the same run.

usage: python3 bench/gpu/run_bench.py LIBATTNRT PACKAGES_DIR [--out DIR]
           [--seqlens 512,1024,2048,4096,8192,16384] [--tokens 16384]
           [--variants causal,...] [--reps 20]

PACKAGES_DIR holds VARIANT_dD.attnpkg packages of make_specs.py's specs,
compiled for this card's target (scripts/gpu-check.sh prepares them on a
machine with attngen). attngen's kernels run on PyTorch tensors through
libattnrt (ctypes), on PyTorch's current stream, as an engine would embed
them. Batch = tokens / seqlen; FLOPs = 4 * batch * hq * visible_pairs * d
(causal and window count only visible pairs, as FlashAttention's benchmark
does). Every attngen output is compared with a PyTorch reference on the same
inputs before it is timed. Writes results-<card>.csv (plot_results.py draws it).
"""
import argparse
import csv
import ctypes
import json
import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "test", "numerics"))
from check_cuda_package import AttentionArgs  # noqa: E402


def visible_pairs(spec, n):
    """Causal/window pair count for seqlen_q = seqlen_k = n."""
    if spec.get("mask") != "causal":
        return n * n
    left = (spec.get("window") or {}).get("left", -1)
    if left < 0:
        return n * (n + 1) // 2
    return sum(min(i, left) + 1 for i in range(n))


def time_ms(fn, reps):
    for _ in range(3):
        fn()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    times.sort()
    return times[len(times) // 2]


def alibi_slopes(hq):
    """ALiBi's slopes (Press et al.): 2^(-8k/p) for k = 1..p, p the largest
    power of two <= hq, then 2^(-4k/p) for odd k while heads are left."""
    power = 2 ** int(math.log2(hq))
    slopes = [2.0 ** (-8.0 * k / power) for k in range(1, power + 1)]
    slopes += [2.0 ** (-4.0 * k / power) for k in range(1, 2 * (hq - power), 2)]
    return torch.tensor(slopes, device="cuda")


def torch_reference(spec, q, k, v):
    """Float32 attention on (B, S, H, D) tensors from the spec's rules."""
    b, sq, hq, d = q.shape
    sk, hkv = k.shape[1], k.shape[2]
    qf, kf, vf = (t.float().transpose(1, 2) for t in (q, k, v))
    kf = kf.repeat_interleave(hq // hkv, dim=1)
    vf = vf.repeat_interleave(hq // hkv, dim=1)
    s = (qf @ kf.transpose(-1, -2)) * (spec.get("scale") or 1 / math.sqrt(d))
    if spec.get("softcap"):
        s = spec["softcap"] * torch.tanh(s / spec["softcap"])
    i = torch.arange(sq, device="cuda")[:, None]
    j = torch.arange(sk, device="cuda")[None, :]
    if spec.get("alibi"):
        s = s - alibi_slopes(hq)[:, None, None] * (i + sk - sq - j).abs()
    visible = torch.ones(sq, sk, dtype=torch.bool, device="cuda")
    if spec.get("mask") == "causal":
        visible &= j <= i + sk - sq
    left = (spec.get("window") or {}).get("left", -1)
    if left >= 0:
        visible &= j >= i + sk - sq - left
    s = s.masked_fill(~visible, float("-inf"))
    return (torch.softmax(s, -1) @ vf).transpose(1, 2)


def baselines(spec, q, k, v, with_flex):
    """name -> callable for the PyTorch implementations that support the
    variant (others are left out, not approximated). FlexAttention only
    `with_flex` (each shape and variant is a torch.compile of its own)."""
    from torch.nn.attention import SDPBackend, sdpa_kernel
    causal = spec.get("mask") == "causal"
    gqa = spec["num_kv_heads"] != spec["num_q_heads"]
    window = spec.get("window") or {}
    windowed = window.get("left", -1) >= 0 or window.get("right", -1) >= 0
    plain = not windowed and not spec.get("softcap") and not spec.get("alibi")
    qt, kt, vt = (t.transpose(1, 2) for t in (q, k, v))
    result = {}
    if plain:
        for name, backend in (("sdpa_flash", SDPBackend.FLASH_ATTENTION),
                              ("sdpa_cudnn", SDPBackend.CUDNN_ATTENTION)):
            def run(backend=backend):
                with sdpa_kernel([backend]):
                    return F.scaled_dot_product_attention(qt, kt, vt, is_causal=causal,
                                                          enable_gqa=gqa)
            result[name] = run
    if not with_flex:
        return result
    from torch.nn.attention.flex_attention import create_block_mask, flex_attention
    sq, sk = q.shape[1], k.shape[1]
    left = (spec.get("window") or {}).get("left", -1)

    def mask_mod(b, h, i, j):
        ok = j <= i + (sk - sq) if causal else (j >= 0)
        if left >= 0:
            ok = ok & (j >= i + (sk - sq) - left)
        return ok
    block_mask = create_block_mask(mask_mod, None, None, sq, sk) if causal or left >= 0 else None
    softcap = spec.get("softcap") or 0.0
    slopes = alibi_slopes(spec["num_q_heads"]) if spec.get("alibi") else None

    def score_mod(score, b, h, i, j):
        if softcap:
            score = softcap * torch.tanh(score / softcap)
        if slopes is not None:
            score = score - slopes[h] * (i + (sk - sq) - j).abs()
        return score
    # Every variant and shape is a compilation of its own.
    for limit, value in (("recompile_limit", 256), ("accumulated_recompile_limit", 4096)):
        if hasattr(torch._dynamo.config, limit):
            setattr(torch._dynamo.config, limit, value)
    flex = torch.compile(flex_attention, dynamic=False)
    result["flex"] = lambda: flex(qt, kt, vt, score_mod=score_mod, block_mask=block_mask,
                                  enable_gqa=gqa)
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("libattnrt")
    parser.add_argument("packages")
    parser.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)))
    parser.add_argument("--seqlens", default="512,1024,2048,4096,8192,16384")
    parser.add_argument("--tokens", type=int, default=16384)
    parser.add_argument("--variants", default="")
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--flex-head-dims", default="64,128,256",
                        help="head dims to time FlexAttention at (it compiles per shape)")
    args = parser.parse_args()
    flex_dims = {int(d) for d in args.flex_head_dims.split(",") if d}

    runtime = ctypes.CDLL(args.libattnrt)
    runtime.attnrt_last_error.restype = ctypes.c_char_p
    runtime.attnrt_kernel_load.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)]
    runtime.attnrt_run_cuda.argtypes = [ctypes.c_void_p, ctypes.POINTER(AttentionArgs), ctypes.c_void_p]
    card = torch.cuda.get_device_name()
    tag = card.replace(" ", "_")
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, f"results-{tag}.csv")
    out_file = open(path, "w", newline="")
    writer = None
    rows = []
    baseline_times = {}
    # Head dim 128 first: a run cut short still covers every variant.
    names = sorted((p for p in os.listdir(args.packages) if p.endswith(".attnpkg")),
                   key=lambda p: (not p.endswith("_d128.attnpkg"), p))
    wanted = set(args.variants.split(",")) if args.variants else None
    for name in names:
        variant = name.split("_d")[0]
        if wanted and variant not in wanted:
            continue
        package = os.path.join(args.packages, name)
        manifest = json.load(open(os.path.join(package, "manifest.json")))
        spec = manifest["spec"]
        # The tiling the kernel was built with (num_stages: packages of
        # attngen since 2026-11-27).
        tiling = "x".join(str(manifest["kernel"].get(key, "?"))
                          for key in ("block_m", "block_n", "num_warps", "num_stages"))
        kernel = ctypes.c_void_p()
        if runtime.attnrt_kernel_load(package.encode(), ctypes.byref(kernel)):
            sys.exit(f"{package}: {runtime.attnrt_last_error().decode()}")
        dtype = torch.bfloat16 if spec["dtype"] == "bf16" else torch.float16
        hq, hkv, d = spec["num_q_heads"], spec["num_kv_heads"], spec["head_dim"]
        for n in (int(s) for s in args.seqlens.split(",")):
            batch = max(1, args.tokens // n)
            q = torch.randn(batch, n, hq, d, device="cuda", dtype=dtype)
            k = torch.randn(batch, n, hkv, d, device="cuda", dtype=dtype)
            v = torch.randn(batch, n, hkv, d, device="cuda", dtype=dtype)
            o = torch.empty_like(q)
            lse = torch.empty(batch, hq, n, device="cuda") if spec["return_lse"] else None
            call = AttentionArgs()
            call.q, call.k, call.v, call.o = (t.data_ptr() for t in (q, k, v, o))
            call.lse = lse.data_ptr() if lse is not None else None
            call.batch, call.seqlen_q, call.seqlen_k = batch, n, n

            def attngen():
                status = runtime.attnrt_run_cuda(kernel, ctypes.byref(call),
                                                 ctypes.c_void_p(torch.cuda.current_stream().cuda_stream))
                if status:
                    raise RuntimeError(runtime.attnrt_last_error().decode())
            try:
                attngen()
                torch.cuda.synchronize()
            except RuntimeError as e:
                print(f"  attngen {spec['name']} {n}: FAILED ({e})", flush=True)
                continue
            if batch * hq * n * n <= 2 ** 31:  # the float32 reference fits
                error = (o.float() - torch_reference(spec, q, k, v)).abs().max().item()
            else:
                error = float("nan")
            flops = 4.0 * batch * hq * visible_pairs(spec, n) * d
            # The sweep's tilings of one variant share its baselines' times.
            problem = json.dumps({**spec, "name": variant, "tiling": None, "seqlen": n},
                                 sort_keys=True)
            impls = {"attngen": attngen}
            if problem not in baseline_times:
                impls.update(baselines(spec, q, k, v, d in flex_dims))
            times = dict(baseline_times.get(problem, {}))
            for impl, fn in impls.items():
                try:
                    times[impl] = time_ms(fn, args.reps)
                except Exception as e:  # an unsupported combination in PyTorch
                    print(f"  {impl} {spec['name']} {n}: skipped ({type(e).__name__}: {e})".splitlines()[0])
            baseline_times[problem] = {impl: ms for impl, ms in times.items() if impl != "attngen"}
            reference_ms = times.get("sdpa_flash") or times.get("flex")
            for impl, ms in times.items():
                row = {"card": card, "spec": spec["name"], "variant": variant, "head_dim": d,
                       "seqlen": n, "batch": batch, "num_q_heads": hq, "num_kv_heads": hkv,
                       "impl": impl, "ms": f"{ms:.4f}", "tflops": f"{flops / ms / 1e9:.1f}",
                       "speedup_vs_baseline": f"{reference_ms / ms:.3f}" if reference_ms else "",
                       "attngen_max_error": f"{error:.3g}",
                       "tiling": tiling if impl == "attngen" else ""}
                if writer is None:
                    writer = csv.DictWriter(out_file, fieldnames=list(row.keys()))
                    writer.writeheader()
                writer.writerow(row)
                out_file.flush()
                rows.append(row)
            print(f"{spec['name']:>14} n={n:>5} b={batch:>3} err={error:.2g} " +
                  " ".join(f"{impl}={flops / ms / 1e9:.0f}TF" for impl, ms in times.items()), flush=True)
    out_file.close()
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
