#!/usr/bin/env python3
"""Loads an attngen CPU package (manifest.json + kernel.so) with ctypes, the
way an engine would without libattnrt, runs it on random inputs and compares
with the float64 reference.

usage: check_package.py PACKAGE_DIR --shapes SQxSK[,...] [--batch B]
Checks the manifest (format, version, parameter layout) and follows it: the
entry point, MLIR's C interface (a pointer to {allocated, aligned, offset,
sizes[rank], strides[rank]} per memref), and the work-item rule, split into
two calls over disjoint ranges as two threads would.
"""
import argparse
import ctypes
import json
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import reference  # noqa: E402


def descriptor(array):
    rank = array.ndim

    class StridedMemRef(ctypes.Structure):
        _fields_ = [("allocated", ctypes.c_void_p), ("aligned", ctypes.c_void_p),
                    ("offset", ctypes.c_int64), ("sizes", ctypes.c_int64 * rank),
                    ("strides", ctypes.c_int64 * rank)]

    d = StridedMemRef()
    d.allocated = d.aligned = array.ctypes.data
    d.offset = 0
    for i in range(rank):
        d.sizes[i] = array.shape[i]
        d.strides[i] = array.strides[i] // array.itemsize
    return d


def package_digest(package, manifest):
    """kernel.digest recomputed from its definition (attnrt/package_digest.hpp):
    64-bit FNV-1a over the kernel file, then over the manifest without the
    digest as compact JSON with sorted keys."""
    manifest = json.loads(json.dumps(manifest))
    del manifest["kernel"]["digest"]
    text = json.dumps(manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    data = open(os.path.join(package, manifest["kernel"]["file"]), "rb").read() + text.encode()
    h = 0xcbf29ce484222325
    for byte in data:
        h = ((h ^ byte) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return f"fnv1a64:{h:016x}"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("package")
    parser.add_argument("--shapes", default="113x203")
    parser.add_argument("--batch", type=int, default=1)
    args = parser.parse_args()
    manifest = json.load(open(os.path.join(args.package, "manifest.json")))
    assert manifest["format"] == "attngen-package", manifest["format"]
    assert manifest["format_version"] == 2, manifest["format_version"]
    kernel = manifest["kernel"]
    assert kernel["digest"] == package_digest(args.package, manifest), kernel["digest"]
    assert kernel["abi"] == "mlir-c-interface"
    names = [p["name"] for p in kernel["params"]]
    assert names == ["q", "k", "v", "o", "lse", "alibi_slopes", "cache_seqlens", "page_table",
                     "partial_o", "partial_lse", "cu_seqlens_q", "cu_seqlens_k",
                     "begin", "end"], names
    spec = manifest["spec"]
    assert spec["dtype"] == "f32", "this checker feeds float32 buffers"
    assert not spec.get("kv_cache"), "this checker feeds per-sequence K/V"
    assert spec.get("split_kv", 1) == 1, "this checker runs no merge"
    assert not spec.get("varlen"), "this checker feeds one sequence per batch entry"
    library = ctypes.CDLL(os.path.join(args.package, kernel["file"]))
    entry = getattr(library, kernel["entry"])
    entry.restype = None
    entry.argtypes = [ctypes.c_void_p] * 12 + [ctypes.c_int64, ctypes.c_int64]

    hq, hkv = spec["num_q_heads"], spec["num_kv_heads"]
    d, dv = spec["head_dim"], spec["head_dim_v"]
    passed = failed = 0
    for shape in args.shapes.split(","):
        sq, sk = (int(x) for x in shape.split("x"))
        rng = np.random.default_rng(sq * 131 + sk)
        q = rng.standard_normal((args.batch, sq, hq, d)).astype(np.float32)
        k = rng.standard_normal((args.batch, sk, hkv, d)).astype(np.float32)
        v = rng.standard_normal((args.batch, sk, hkv, dv)).astype(np.float32)
        o = np.full((args.batch, sq, hq, dv), np.nan, np.float32)
        lse = np.full((args.batch, hq, sq), np.nan, np.float32)
        slopes = reference.default_alibi_slopes(hq).astype(np.float32)
        # No KV cache: cache_seqlens and page_table are empty and unused.
        lengths = np.zeros((0,), np.int32)
        table = np.zeros((0, 0), np.int32)
        # No split-KV: the workspace is empty and unused.
        partial_o = np.zeros((0, 0, 0, hq, dv), np.float32)
        partial_lse = np.zeros((0, 0, hq, 0), np.float32)
        # Not varlen: no sequence offsets.
        offsets = np.zeros((0,), np.int32)
        descriptors = [descriptor(t) for t in (q, k, v, o, lse, slopes, lengths, table,
                                               partial_o, partial_lse, offsets, offsets)]
        items = args.batch * hq * math.ceil(sq / kernel["block_m"])
        for begin, end in ((0, items // 2), (items // 2, items)):
            entry(*[ctypes.addressof(x) for x in descriptors], begin, end)
        ref_o, ref_lse = reference.attention(spec, q.astype(np.float64), k.astype(np.float64),
                                             v.astype(np.float64), slopes=slopes.astype(np.float64))
        error = np.max(np.abs(o - ref_o)) if o.size else 0.0
        ok = np.all(np.isfinite(o)) and error <= 1e-4 * max(1.0, np.max(np.abs(ref_o)) if o.size else 1.0)
        if spec["return_lse"]:
            ok = ok and np.array_equal(np.isneginf(lse), np.isneginf(ref_lse))
            finite = np.isfinite(ref_lse)
            ok = ok and (not finite.any() or np.max(np.abs(lse[finite] - ref_lse[finite])) <= 1e-4 * max(1.0, np.max(np.abs(ref_lse[finite]))))
        print(f"{'ok  ' if ok else 'FAIL'} {spec['name']} {sq}x{sk}: max error {error:.3g}")
        passed, failed = passed + ok, failed + (not ok)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
