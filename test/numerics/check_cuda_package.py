#!/usr/bin/env python3
"""Runs attngen GPU packages on a CUDA device through libattnrt (ctypes), as
an engine embedding the runtime would, and compares with the float64
reference. Needs only numpy, libattnrt.so and the packages: this is how a GPU
machine without LLVM/MLIR checks kernels compiled elsewhere
(scripts/gpu-check.sh).

usage: check_cuda_package.py LIBATTNRT PACKAGE_DIR... [--shapes SQxSK,...]
       [--batch B]
The error rule is check_attention.py's (FlashAttention's): within 2x the
error of a naive attention in the kernel's dtype, + 1e-5; LSE within 1e-3.
KV-cache packages get check_attention's caches (random lengths, shuffled
pages, NaN where nothing may be read; appended rows checked), varlen
packages its packed batches (check_varlen / check_varlen_cached, through
packed_runner here).
"""
import argparse
import ctypes
import json
import os
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import reference  # noqa: E402
from check_attention import (cached_reference, check_appended_cache,  # noqa: E402
                             check_varlen, check_varlen_cached, low_precision_attention,
                             make_kv_cache, rope_lse_bound, round_to, split_appended)


class AttentionArgs(ctypes.Structure):
    _fields_ = [("q", ctypes.c_void_p), ("k", ctypes.c_void_p), ("v", ctypes.c_void_p),
                ("o", ctypes.c_void_p), ("lse", ctypes.c_void_p),
                ("alibi_slopes", ctypes.c_void_p), ("batch", ctypes.c_int64),
                ("seqlen_q", ctypes.c_int64), ("seqlen_k", ctypes.c_int64),
                ("q_strides", ctypes.c_int64 * 4), ("k_strides", ctypes.c_int64 * 4),
                ("v_strides", ctypes.c_int64 * 4), ("o_strides", ctypes.c_int64 * 4),
                ("cache_seqlens", ctypes.c_void_p), ("page_table", ctypes.c_void_p),
                ("num_pages", ctypes.c_int64), ("max_pages_per_seq", ctypes.c_int64),
                ("workspace", ctypes.c_void_p), ("workspace_bytes", ctypes.c_size_t),
                ("cu_seqlens_q", ctypes.c_void_p), ("cu_seqlens_k", ctypes.c_void_p),
                ("max_seqlen_q", ctypes.c_int64),
                ("k_new", ctypes.c_void_p), ("v_new", ctypes.c_void_p),
                ("k_new_strides", ctypes.c_int64 * 4), ("v_new_strides", ctypes.c_int64 * 4)]


class Runtime:
    def __init__(self, path):
        self.lib = ctypes.CDLL(path)
        self.lib.attnrt_last_error.restype = ctypes.c_char_p
        self.lib.attnrt_cuda_malloc.argtypes = [ctypes.c_size_t, ctypes.POINTER(ctypes.c_void_p)]
        self.lib.attnrt_cuda_free.argtypes = [ctypes.c_void_p]
        self.lib.attnrt_cuda_copy_to_device.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t]
        self.lib.attnrt_cuda_copy_to_host.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t]
        self.lib.attnrt_cuda_synchronize.argtypes = [ctypes.c_void_p]
        self.lib.attnrt_kernel_load.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)]
        self.lib.attnrt_kernel_release.argtypes = [ctypes.c_void_p]
        self.lib.attnrt_run_cuda.argtypes = [ctypes.c_void_p, ctypes.POINTER(AttentionArgs), ctypes.c_void_p]
        self.lib.attnrt_workspace_bytes.argtypes = [ctypes.c_void_p, ctypes.POINTER(AttentionArgs),
                                                    ctypes.POINTER(ctypes.c_size_t)]

    def check(self, status, what):
        if status != 0:
            raise RuntimeError(f"{what}: {self.lib.attnrt_last_error().decode()} (status {status})")

    def upload(self, array):
        pointer = ctypes.c_void_p()
        self.check(self.lib.attnrt_cuda_malloc(max(array.nbytes, 1), ctypes.byref(pointer)), "malloc")
        self.check(self.lib.attnrt_cuda_copy_to_device(pointer, array.ctypes.data, array.nbytes), "copy")
        return pointer

    def download(self, pointer, array):
        self.check(self.lib.attnrt_cuda_copy_to_host(array.ctypes.data, pointer, array.nbytes), "copy")
        return array


def device_bits(dtype, x):
    """The kernel's 16-bit encoding of float32 values already rounded to it."""
    if dtype == "f16":
        return x.astype(np.float16)
    return (x.astype(np.float32).view(np.uint32) >> 16).astype(np.uint16)


def host_values(dtype, bits):
    """float64 values of a buffer read back from the device (raw uint16
    bits or device_bits' arrays)."""
    if dtype == "f16":
        return bits.view(np.float16).astype(np.float64)
    return (bits.astype(np.uint32) << 16).view(np.float32).astype(np.float64)


def run_call(runtime, kernel, args, buffers):
    """Adds the split-KV workspace libattnrt asks for, runs and waits."""
    needed = ctypes.c_size_t()
    runtime.check(runtime.lib.attnrt_workspace_bytes(kernel, ctypes.byref(args),
                                                     ctypes.byref(needed)), "workspace")
    if needed.value:
        buffers.append(runtime.upload(np.zeros(needed.value, np.uint8)))
        args.workspace, args.workspace_bytes = buffers[-1].value, needed.value
    runtime.check(runtime.lib.attnrt_run_cuda(kernel, ctypes.byref(args), None), "run")
    runtime.check(runtime.lib.attnrt_cuda_synchronize(None), "synchronize")


def set_cache_args(args, cache, upload, num_pages):
    """The KV-cache arguments of a call over `cache` = (cache_seqlens, page
    table or None); `upload` returns a device address; a paged cache has
    `num_pages` pages."""
    args.cache_seqlens = upload(cache[0])
    if cache[1] is not None:
        args.page_table = upload(cache[1])
        args.num_pages, args.max_pages_per_seq = num_pages, cache[1].shape[1]


def packed_runner(runtime, kernel, cache=None):
    """check_attention.attngen_packed_runner's contract through libattnrt:
    a varlen call on packed [total, heads, dim] tensors (tensor batch 1),
    over `cache` = (cache_seqlens, page table or None) when the spec reads a
    KV cache (then tensors "k"/"v" are the caches and there is no
    cu_seqlens_k)."""
    def run(spec, tensors, cq, ck=None):
        dtype, hq, dv = spec["dtype"], spec["num_q_heads"], spec["head_dim_v"]
        total = tensors["q"].shape[0]
        buffers = []

        def upload(array):
            buffers.append(runtime.upload(array))
            return buffers[-1].value
        try:
            args = AttentionArgs()
            args.q, args.k, args.v = (upload(device_bits(dtype, tensors[n])) for n in "qkv")
            o_bits = np.zeros((total, hq, dv), np.uint16)
            args.o = upload(np.full(o_bits.shape, 0xFFFF, np.uint16))  # NaN in f16 and bf16
            lse = np.full((hq, total), np.nan, np.float32)
            if spec["return_lse"]:
                args.lse = upload(lse)
            args.batch, args.seqlen_q = len(cq) - 1, total
            args.cu_seqlens_q, args.max_seqlen_q = upload(cq), int(np.max(np.diff(cq)))
            if ck is not None:
                args.cu_seqlens_k, args.seqlen_k = upload(ck), tensors["k"].shape[0]
            else:
                args.seqlen_k = tensors["k"].shape[1]
            if cache is not None:
                set_cache_args(args, cache, upload, tensors["k"].shape[0])
            appends = "k_new" in tensors
            if appends:
                args.k_new = upload(device_bits(dtype, tensors["k_new"]))
                args.v_new = upload(device_bits(dtype, tensors["v_new"]))
            run_call(runtime, kernel, args, buffers)
            out = host_values(dtype, runtime.download(buffers[3], o_bits))
            if spec["return_lse"]:
                runtime.download(buffers[4], lse)
            k_out = v_out = None
            if appends:
                k_out = host_values(dtype, runtime.download(buffers[1], device_bits(dtype, tensors["k"])))
                v_out = host_values(dtype, runtime.download(buffers[2], device_bits(dtype, tensors["v"])))
        except RuntimeError as e:
            return str(e), None, None, None, None
        finally:
            for b in buffers:
                runtime.lib.attnrt_cuda_free(b)
        return None, out, lse.astype(np.float64) if spec["return_lse"] else None, k_out, v_out
    return run


def check_shape(runtime, kernel, spec, batch, sq, sk, workdir):
    dtype = spec["dtype"]
    hq, hkv = spec["num_q_heads"], spec["num_kv_heads"]
    d, dv = spec["head_dim"], spec["head_dim_v"]
    rng = np.random.default_rng(sq * 7919 + sk * 31 + d)
    q, k, v = (round_to(dtype, rng.standard_normal(shape).astype(np.float32))
               for shape in ((batch, sq, hq, d), (batch, sk, hkv, d), (batch, sk, hkv, dv)))
    cache = None
    k, v, added = split_appended(spec, k, v, sq, sk)
    append = added is not None
    if spec.get("kv_cache"):
        # K/V become the cache layout (NaN where no sequence reads).
        k, v, lengths, table, _ = make_kv_cache(spec, k, v, workdir, rng,
                                                reserve=sq if append else 0)
        cache = (lengths, table)
    if spec.get("varlen"):
        run = packed_runner(runtime, kernel, cache)
        if cache:
            return check_varlen_cached(spec, q, k, v, cache[0], cache[1], rng, run, added), float("nan")
        return check_varlen(spec, q, k, v, rng, run), float("nan")
    buffers = [runtime.upload(device_bits(dtype, t)) for t in (q, k, v)]
    o_bits = np.zeros((batch, sq, hq, dv), np.uint16)
    lse = np.full((batch, hq, sq), np.nan, np.float32)
    buffers.append(runtime.upload(np.full(o_bits.shape, 0xFFFF, np.uint16)))  # NaN in f16 and bf16
    buffers.append(runtime.upload(lse) if spec["return_lse"] else ctypes.c_void_p())

    def upload(array):
        buffers.append(runtime.upload(array))
        return buffers[-1].value
    args = AttentionArgs()
    args.q, args.k, args.v, args.o, args.lse = (b.value for b in buffers[:5])
    args.batch, args.seqlen_q, args.seqlen_k = batch, sq, k.shape[1]
    if cache:
        set_cache_args(args, cache, upload, k.shape[0])
    new_buffers = [runtime.upload(device_bits(dtype, t)) for t in added] if added else []
    buffers += new_buffers
    try:
        if new_buffers:
            args.k_new, args.v_new = new_buffers[0].value, new_buffers[1].value
        run_call(runtime, kernel, args, buffers)
        out = host_values(dtype, runtime.download(buffers[3], o_bits))
        if spec["return_lse"]:
            runtime.download(buffers[4], lse)
        if added:
            got_k = host_values(dtype, runtime.download(buffers[1], device_bits(dtype, k)))
            got_v = host_values(dtype, runtime.download(buffers[2], device_bits(dtype, v)))
    finally:
        for b in buffers:
            runtime.lib.attnrt_cuda_free(b)
    lse_floor = 0.0
    if cache:
        ref_out, ref_lse = cached_reference(spec, q, k, v, cache[0], cache[1], reference.attention,
                                            added)
        naive = cached_reference(spec, q, k, v, cache[0], cache[1],
                                 lambda sp, *t: (low_precision_attention(sp, *t), None),
                                 added, rounded=True)[0]
        if added:
            problem = check_appended_cache(spec, k, v, cache[0], cache[1], added, got_k, got_v)
            if problem:
                return problem, float("nan")
        if spec.get("rope"):
            rounded_lse = cached_reference(spec, q, k, v, cache[0], cache[1],
                                           reference.attention, added, rounded=True)[1]
            lse_floor = rope_lse_bound(rounded_lse, ref_lse)
    else:
        ref_out, ref_lse = reference.attention(spec, q.astype(np.float64), k.astype(np.float64),
                                               v.astype(np.float64))
        naive = low_precision_attention(spec, q, k, v)
    bound = 2 * (np.max(np.abs(naive - ref_out)) if naive.size else 0.0) + 1e-5
    error = np.max(np.abs(out - ref_out)) if out.size else 0.0
    if not np.all(np.isfinite(out)):
        return "O has non-finite values", error
    if error > bound:
        return f"O max error {error:.3g} > bound {bound:.3g}", error
    if spec["return_lse"]:
        if not np.array_equal(np.isneginf(lse), np.isneginf(ref_lse)):
            return "LSE is -inf on different rows than the reference", error
        finite = np.isfinite(ref_lse)
        lse_error = np.max(np.abs(lse[finite] - ref_lse[finite])) if finite.any() else 0.0
        if lse_error > max(lse_floor, 1e-3 * max(1.0, np.max(np.abs(ref_lse[finite])) if finite.any() else 1.0)):
            return f"LSE max error {lse_error:.3g}", error
    return None, error


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("libattnrt")
    parser.add_argument("packages", nargs="+")
    parser.add_argument("--shapes", default="1x17,17x17,113x203,203x113,1023x1024")
    parser.add_argument("--batch", type=int, default=2)
    args = parser.parse_args()
    runtime = Runtime(args.libattnrt)
    workdir = tempfile.mkdtemp(prefix="check_cuda_package_")
    passed = failed = 0
    for package in args.packages:
        spec = json.load(open(os.path.join(package, "manifest.json")))["spec"]
        kernel = ctypes.c_void_p()
        runtime.check(runtime.lib.attnrt_kernel_load(package.encode(), ctypes.byref(kernel)), package)
        for shape in args.shapes.split(","):
            sq, sk = (int(x) for x in shape.split("x"))
            label = f"{os.path.basename(package)} d={spec['head_dim']} dv={spec['head_dim_v']} {sq}x{sk}"
            try:
                problem, error = check_shape(runtime, kernel, spec, args.batch, sq, sk, workdir)
            except RuntimeError as e:
                problem, error = str(e), float("nan")
            if problem:
                failed += 1
                print(f"FAIL {label}: {problem}", flush=True)
            else:
                passed += 1
                print(f"ok   {label}: max error {error:.3g}", flush=True)
        runtime.lib.attnrt_kernel_release(kernel)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
