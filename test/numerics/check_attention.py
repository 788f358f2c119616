#!/usr/bin/env python3
"""Runs `attngen run` on random inputs and compares with the float64 reference.

Rule (DESIGN section 3): f32 specs within 1e-4 (relative to the output's
scale) of float64; 16-bit specs within 2x the error of a naive attention in
that dtype, + 1e-5 (FlashAttention's test rule). LSE is checked too.

usage: check_attention.py ATTNGEN SPEC.json WORKDIR [--shapes SQxSK,...]
       [--head-dims D[:DV],...] [--batch B] [--backend cpu|gpu-sim]
       [--inputs normal|negative-scores|rising-scores]
A spec's head dims are replaced by each of --head-dims (a copy of the spec is
written to WORKDIR), so one spec covers a grid of head dims.

--inputs negative-scores draws q > 0 and k < 0 (every score far below 0) and
v around 2: a key past seqlen_k that a kernel counts (a zero-filled K row
scores 0) would then outweigh every real key, moving O towards 0 and the LSE
towards 0, where random normal inputs hide it below the rounding bound.
--inputs rising-scores scales key j by 0.5 + 4 j / seqlen_k: row maxima keep
growing over the KV tiles, a little per tile (the GPU kernel keeps a stale
softmax reference until some row of a warp outgrows it by 2^8).
"""
import argparse
import copy
import json
import os
import re
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import reference  # noqa: E402


# --conflict-free: every gpu-sim run also counts the kernel's shared-memory
# traffic, and a phase of ldmatrix, shared loads or stores that takes more
# than one wavefront (a bank conflict) fails the check.
CONFLICT_FREE = False


def run_attngen(command):
    """Runs `attngen run`: (problem or None). With CONFLICT_FREE, also
    fails on bank conflicts in the emulated kernel."""
    if CONFLICT_FREE:
        command = command + ["--shared-memory-traffic"]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        return f"attngen run failed: {result.stderr.strip()}"
    for line in result.stdout.splitlines() if CONFLICT_FREE else []:
        match = re.match(r"gpu-sim shared memory: (.+): ([0-9.]+) wavefronts per phase", line)
        if match and float(match.group(2)) > 1.0:
            return f"bank conflicts: {line}"
    return None


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


def split_appended(spec, k, v, sq, sk):
    """Appending specs: the cache holds up to sk - sq keys and the call
    appends sq more. Returns (cached K, cached V, (k_new, v_new) or None)."""
    if not (spec.get("kv_cache") and spec["kv_cache"].get("append")):
        return k, v, None
    cached = max(sk - sq, 0)
    return k[:, :cached], v[:, :cached], (k[:, :sq], v[:, :sq])


def make_kv_cache(spec, k, v, workdir, rng, reserve=0):
    """Turns per-sequence K/V [b, sk, ...] into the spec's cache layout with
    per-sequence lengths: sequence 0 is full (sk keys), the others random in
    [0, sk]. Rows a sequence does not use are NaN, so a kernel that reads
    past its length fails. Paged caches put every page at a random place in
    the pool; unused table entries are -1. `reserve` more rows per sequence
    (for appended keys) get pages too. Returns (K, V, lengths, page table or
    None, attngen run flags)."""
    batch, sk = k.shape[0], k.shape[1]
    lengths = np.array([sk] + [int(rng.integers(0, sk + 1)) for _ in range(batch - 1)], np.int32)
    cache = spec["kv_cache"]
    flags = ["--cache-seqlens", os.path.join(workdir, "cache_seqlens.npy")]
    np.save(flags[1], lengths)
    if cache["layout"] == "contiguous":
        capacity = sk + reserve + 5
        kc = np.full((batch, capacity) + k.shape[2:], np.nan, np.float32)
        vc = np.full((batch, capacity) + v.shape[2:], np.nan, np.float32)
        for b in range(batch):
            kc[b, :lengths[b]] = k[b, :lengths[b]]
            vc[b, :lengths[b]] = v[b, :lengths[b]]
        return kc, vc, lengths, None, flags
    page = cache["page_size"]
    max_pages = -(-(sk + reserve) // page) + 1
    num_pages = batch * max_pages + 3
    order = rng.permutation(num_pages)
    table = np.full((batch, max_pages), -1, np.int32)
    kc = np.full((num_pages, page) + k.shape[2:], np.nan, np.float32)
    vc = np.full((num_pages, page) + v.shape[2:], np.nan, np.float32)
    for b in range(batch):
        for p in range(-(-(int(lengths[b]) + reserve) // page)):
            table[b, p] = order[b * max_pages + p]
        for p in range(-(-int(lengths[b]) // page)):
            rows = slice(p * page, min((p + 1) * page, lengths[b]))
            count = rows.stop - rows.start
            kc[table[b, p], :count] = k[b, rows]
            vc[table[b, p], :count] = v[b, rows]
    table_path = os.path.join(workdir, "page_table.npy")
    np.save(table_path, table)
    return kc, vc, lengths, table, flags + ["--page-table", table_path]


def gather_sequence(spec, cache, b, length, table):
    """Keys 0..length-1 of sequence b, read back from the cache layout."""
    if spec["kv_cache"]["layout"] == "contiguous":
        return cache[b, :length]
    page = spec["kv_cache"]["page_size"]
    rows = [cache[table[b, j // page], j % page] for j in range(length)]
    return np.array(rows).reshape((length,) + cache.shape[2:])


def cached_sequences(spec, q, kc, vc, lengths, table, added, rounded):
    """(q, k, v) of each sequence as the kernel sees them, float64: its
    cached keys, then (appending specs) its new keys `added` = (k_new, v_new)
    rotated at their positions, and q rotated at seqlen_k - seqlen_q + i
    (rope specs). With `rounded`, the rotated new keys and q are rounded to
    the spec's dtype, as the cache stores them and tensor cores read them."""
    sq = q.shape[1]
    for b, length in enumerate(lengths):
        length = int(length)
        kb = gather_sequence(spec, kc, b, length, table).astype(np.float64)
        vb = gather_sequence(spec, vc, b, length, table).astype(np.float64)
        qb = q[b].astype(np.float64)
        if added is not None:
            k_new = added[0][b].astype(np.float64)
            if spec.get("rope"):
                k_new = reference.rotary(spec, k_new, length + np.arange(sq))
                if rounded:
                    k_new = round_to(spec["dtype"], k_new).astype(np.float64)
            kb = np.concatenate([kb, k_new])
            vb = np.concatenate([vb, added[1][b].astype(np.float64)])
        if spec.get("rope"):
            qb = reference.rotary(spec, qb, kb.shape[0] - sq + np.arange(sq))
            if rounded:
                qb = round_to(spec["dtype"], qb).astype(np.float64)
        yield qb[None], kb[None], vb[None]


def rope_lse_bound(rounded_lse, ref_lse):
    """16-bit rope specs: twice the LSE error of float64 attention on the
    rotated q (and new keys) rounded to the dtype, as tensor cores read them.
    Not of the naive attention that also rounds S: its rounding can cancel
    q's (a single visible key of a top-left causal decode row, random seed
    29 #34: kernel and rounded-input LSE 0.00211 off, the naive 0.00086)."""
    finite = np.isfinite(ref_lse)
    if not finite.any():
        return 0.0
    return 2 * np.max(np.abs(rounded_lse.astype(np.float64)[finite] - ref_lse[finite]))


def cached_reference(spec, q, kc, vc, lengths, table, attention, added=None,
                     rounded=False):
    """attention() per sequence on its own keys: seqlen_k = its length."""
    outs, lses = [], []
    for qb, kb, vb in cached_sequences(spec, q, kc, vc, lengths, table, added, rounded):
        out, lse = attention(spec, qb, kb, vb)
        outs.append(out)
        lses.append(lse)
    return np.concatenate(outs), (np.concatenate(lses) if lses[0] is not None else None)


def check_appended_cache(spec, kc, vc, lengths, table, added, got_k, got_v):
    """The caches after an appending call (got_k, got_v): new rows at
    cache_seqlens[b] + j (keys rotated, rounded to the dtype), every other
    row unchanged (NaN rows stay NaN)."""
    expected_k, expected_v = kc.copy(), vc.copy()
    page = spec["kv_cache"].get("page_size")
    for b, length in enumerate(lengths):
        k_new = added[0][b].astype(np.float64)
        sq = k_new.shape[0]
        if spec.get("rope"):
            k_new = reference.rotary(spec, k_new, int(length) + np.arange(sq))
        for j in range(sq):
            row = int(length) + j
            at = (table[b, row // page], row % page) if page else (b, row)
            expected_k[at] = round_to(spec["dtype"], k_new[j])
            expected_v[at] = added[1][b][j]
    if not np.array_equal(np.isnan(got_k), np.isnan(expected_k)) or \
            not np.array_equal(got_v, expected_v, equal_nan=True):
        return "the caches differ from the expected append (rows written or left wrong)"
    # The kernel rotates in f32: one rounding step of the dtype apart at most.
    eps = {"f32": 2.0 ** -22, "f16": 2.0 ** -10, "bf16": 2.0 ** -7}[spec["dtype"]]
    finite = np.isfinite(expected_k)
    error = np.abs(got_k[finite] - expected_k[finite])
    if np.any(error > eps * np.abs(expected_k[finite]) + 1e-6):
        return f"appended keys differ from the rotated k_new by {np.max(error):.3g}"
    return None


def attngen_packed_runner(attngen, spec_path, workdir, backend, cache_args=()):
    """Runs packed (varlen) batches with `attngen run`: the returned
    run(spec, tensors, cq, ck) takes tensors {"q", "k", "v"[, "k_new",
    "v_new"]} ([total, heads, dim] packed, or caches), cu_seqlens_q and
    cu_seqlens_k (None over a KV cache) and returns (problem, O [total,
    heads, dv], LSE [heads, total] or None, K cache out, V cache out (appending
    specs) or None). check_cuda_package.py has the libattnrt one."""
    def run(spec, tensors, cq, ck=None):
        paths = {name: os.path.join(workdir, f"packed_{name}.npy")
                 for name in ("q", "k", "v", "k_new", "v_new", "o", "lse", "cq", "ck",
                              "k_out", "v_out")}
        for name, tensor in tensors.items():
            np.save(paths[name], tensor.astype(np.float16) if spec["dtype"] == "f16" else tensor)
        np.save(paths["cq"], cq)
        command = [attngen, "run", spec_path, "--backend", backend, "--q", paths["q"],
                   "--k", paths["k"], "--v", paths["v"], "--out", paths["o"],
                   "--cu-seqlens-q", paths["cq"]] + list(cache_args)
        if ck is not None:
            np.save(paths["ck"], ck)
            command += ["--cu-seqlens-k", paths["ck"]]
        appends = "k_new" in tensors
        if appends:
            command += ["--k-new", paths["k_new"], "--v-new", paths["v_new"],
                        "--k-cache-out", paths["k_out"], "--v-cache-out", paths["v_out"]]
        if spec.get("return_lse"):
            command += ["--lse", paths["lse"]]
        problem = run_attngen(command)
        if problem:
            return problem, None, None, None, None
        out = np.load(paths["o"]).astype(np.float64)
        lse = np.load(paths["lse"]).astype(np.float64) if spec.get("return_lse") else None
        if not appends:
            return None, out, lse, None, None
        return None, out, lse, np.load(paths["k_out"]), np.load(paths["v_out"])
    return run


def compare_sequence(spec, b, label, got, got_lse, ref_out, ref_lse, naive_fn, lse_bound=1e-3):
    """Sequence b of a packed batch: O rows `got` [rows, heads, dv] and LSE
    columns `got_lse` [heads, rows] (or None) against the reference (batch
    1); 16-bit specs within twice the error of naive_fn()'s output."""
    if spec["dtype"] == "f32":
        bound = 1e-4 * max(1.0, np.max(np.abs(ref_out)) if ref_out.size else 1.0)
    else:
        naive = naive_fn()
        bound = 2 * (np.max(np.abs(naive - ref_out)) if naive.size else 0.0) + 1e-5
    error = np.max(np.abs(got - ref_out[0])) if got.size else 0.0
    if not np.all(np.isfinite(got)) or error > bound:
        return f"sequence {b} ({label}): O max error {error:.3g} > bound {bound:.3g}"
    if got_lse is not None:
        if not np.array_equal(np.isneginf(got_lse), np.isneginf(ref_lse[0])):
            return f"sequence {b}: LSE is -inf on different rows than the reference"
        finite = np.isfinite(ref_lse[0])
        if finite.any() and np.max(np.abs(got_lse[finite] - ref_lse[0][finite])) > lse_bound:
            return f"sequence {b}: LSE differs from the reference"
    return None


def check_varlen(spec, q, k, v, rng, run):
    """Packs the batch as variable-length sequences: sequence 0 keeps sq
    queries and sk keys, the others random lengths in [0, sq] and [0, sk];
    Q/K/V go in as [total, heads, dim] with cu_seqlens_q/k (through `run`,
    attngen_packed_runner's contract), and each sequence is compared with
    the reference on its own."""
    batch, sq, sk = q.shape[0], q.shape[1], k.shape[1]
    lq = [sq] + [int(rng.integers(0, sq + 1)) for _ in range(batch - 1)]
    lk = [sk] + [int(rng.integers(0, sk + 1)) for _ in range(batch - 1)]
    cq = np.concatenate([[0], np.cumsum(lq)]).astype(np.int32)
    ck = np.concatenate([[0], np.cumsum(lk)]).astype(np.int32)
    packed = {"q": np.concatenate([q[b, :lq[b]] for b in range(batch)]),
              "k": np.concatenate([k[b, :lk[b]] for b in range(batch)]),
              "v": np.concatenate([v[b, :lk[b]] for b in range(batch)])}
    problem, out, lse, _, _ = run(spec, packed, cq, ck)
    if problem:
        return problem
    if out.shape != (cq[-1],) + q.shape[2:3] + (v.shape[3],):
        return f"O has shape {out.shape}, expected ({cq[-1]}, heads, dim_v)"
    for b in range(batch):
        qb, kb, vb = q[b:b + 1, :lq[b]], k[b:b + 1, :lk[b]], v[b:b + 1, :lk[b]]
        ref_out, ref_lse = reference.attention(spec, qb.astype(np.float64), kb.astype(np.float64),
                                               vb.astype(np.float64))
        problem = compare_sequence(
            spec, b, f"{lq[b]}x{lk[b]}", out[cq[b]:cq[b + 1]],
            lse[:, cq[b]:cq[b + 1]] if lse is not None else None, ref_out, ref_lse,
            lambda: low_precision_attention(spec, qb, kb, vb))  # noqa: B023
        if problem:
            return problem
    return None


def check_varlen_cached(spec, q, kc, vc, lengths, table, rng, run, added=None):
    """A variable-length batch over a KV cache (vLLM's mixed prefill and
    decode batches): sequence 0 keeps sq queries, the others random counts in
    [0, sq] (empty and single-query sequences occur); queries go in packed
    [total, heads, dim] with cu_seqlens_q, keys stay in the cache (through
    `run`, attngen_packed_runner's contract). Each sequence is compared with
    the reference over its own cached keys (and, appending, its new ones,
    packed like the queries; the caches the call wrote are checked row by
    row)."""
    batch, sq = q.shape[0], q.shape[1]
    lq = [sq] + [int(rng.integers(0, sq + 1)) for _ in range(batch - 1)]
    if batch > 2:
        lq[2] = min(1, sq)  # a decode step in the batch
    cq = np.concatenate([[0], np.cumsum(lq)]).astype(np.int32)
    dtype = spec["dtype"]
    tensors = {"q": np.concatenate([q[b, :lq[b]] for b in range(batch)]), "k": kc, "v": vc}
    if added is not None:
        # Each sequence's new keys/values: one per query, packed like q.
        added = ([added[0][b, :lq[b]] for b in range(batch)],
                 [added[1][b, :lq[b]] for b in range(batch)])
        tensors.update(k_new=np.concatenate(added[0]), v_new=np.concatenate(added[1]))
    problem, out, lse, k_out, v_out = run(spec, tensors, cq)
    if problem:
        return problem
    if added is not None:
        problem = check_appended_cache(spec, kc, vc, lengths, table, added, k_out, v_out)
        if problem:
            return problem
    for b in range(batch):
        kb = gather_sequence(spec, kc, b, int(lengths[b]), table).astype(np.float64)[None]
        vb = gather_sequence(spec, vc, b, int(lengths[b]), table).astype(np.float64)[None]
        k_naive = kb
        if added is not None:
            k_new = added[0][b].astype(np.float64)
            if spec.get("rope"):
                k_new = reference.rotary(spec, k_new, int(lengths[b]) + np.arange(lq[b]))
            kb = np.concatenate([kb, k_new[None]], axis=1)
            k_naive = np.concatenate([k_naive, round_to(dtype, k_new).astype(np.float64)[None]],
                                     axis=1)
            vb = np.concatenate([vb, added[1][b].astype(np.float64)[None]], axis=1)
        seqlen_k = kb.shape[1]
        qb = q[b:b + 1, :lq[b]].astype(np.float64)
        q_naive = qb
        if spec.get("rope"):
            positions = seqlen_k - lq[b] + np.arange(lq[b])
            qb = reference.rotary(spec, qb[0], positions)[None]
            q_naive = round_to(dtype, qb).astype(np.float64)
        ref_out, ref_lse = reference.attention(spec, qb, kb, vb)
        lse_bound = 1e-3
        if lse is not None and spec.get("rope") and dtype != "f32":
            _, rounded_lse = reference.attention(spec, q_naive, k_naive, vb)
            lse_bound = max(lse_bound, rope_lse_bound(rounded_lse, ref_lse))
        problem = compare_sequence(
            spec, b, f"{lq[b]} queries, {seqlen_k} keys", out[cq[b]:cq[b + 1]],
            lse[:, cq[b]:cq[b + 1]] if lse is not None else None, ref_out, ref_lse,
            lambda: low_precision_attention(spec, q_naive, k_naive, vb), lse_bound)  # noqa: B023
        if problem:
            return problem
    return None


def random_inputs(rng, inputs, batch, sq, sk, hq, hkv, d, dv):
    """Q, K, V in float32 for the --inputs kind."""
    q = rng.standard_normal((batch, sq, hq, d)).astype(np.float32)
    k = rng.standard_normal((batch, sk, hkv, d)).astype(np.float32)
    v = rng.standard_normal((batch, sk, hkv, dv)).astype(np.float32)
    if inputs == "negative-scores":
        # q.k = -sum (|q_i| + 1)(|k_i| + 1) / 2 <= -d / 2: scaled scores of
        # about -sqrt(d), spread enough that softmax is not uniform.
        q = np.abs(q) + 1
        k = -(np.abs(k) + 1) / 2
        v = v + 2
    elif inputs == "rising-scores":
        k = k * (0.5 + 4 * np.arange(sk, dtype=np.float32) / max(sk, 1))[None, :, None, None]
    return q, k, v


def check(attngen, spec_path, workdir, sq, sk, batch, spec, backend="cpu", inputs="normal"):
    rng = np.random.default_rng(sq * 7919 + sk * 31 + spec["head_dim"])
    d, dv = spec["head_dim"], spec.get("head_dim_v", spec["head_dim"])
    hq = spec["num_q_heads"]
    hkv = spec.get("num_kv_heads", hq)
    q, k, v = random_inputs(rng, inputs, batch, sq, sk, hq, hkv, d, dv)
    dtype = spec["dtype"]
    # The kernel sees the inputs rounded to its dtype; so does the reference.
    q, k, v = (round_to(dtype, t) for t in (q, k, v))
    extra_args = []
    k, v, added = split_appended(spec, k, v, sq, sk)
    append = added is not None
    if spec.get("kv_cache"):
        k, v, lengths, table, extra_args = make_kv_cache(
            spec, k, v, workdir, rng, reserve=sq if append else 0)
        if spec.get("varlen"):
            return check_varlen_cached(
                spec, q, k, v, lengths, table, rng,
                attngen_packed_runner(attngen, spec_path, workdir, backend, extra_args), added)
    if append:
        new_paths = {name: os.path.join(workdir, f"{name}.npy")
                     for name in ("k_new", "v_new", "k_out", "v_out")}
        for name, tensor in (("k_new", added[0]), ("v_new", added[1])):
            np.save(new_paths[name], tensor.astype(np.float16) if dtype == "f16" else tensor)
        extra_args += ["--k-new", new_paths["k_new"], "--v-new", new_paths["v_new"],
                       "--k-cache-out", new_paths["k_out"], "--v-cache-out", new_paths["v_out"]]
    if spec.get("varlen"):
        return check_varlen(spec, q, k, v, rng,
                            attngen_packed_runner(attngen, spec_path, workdir, backend))
    paths = {name: os.path.join(workdir, f"{name}.npy") for name in ("q", "k", "v", "o", "lse")}
    for name, tensor in (("q", q), ("k", k), ("v", v)):
        np.save(paths[name], tensor.astype(np.float16) if dtype == "f16" else tensor)
    command = [attngen, "run", spec_path, "--backend", backend, "--q", paths["q"],
               "--k", paths["k"], "--v", paths["v"], "--out", paths["o"]]
    if spec.get("return_lse"):
        command += ["--lse", paths["lse"]]
    problem = run_attngen(command + extra_args)
    if problem:
        return problem
    out = np.load(paths["o"]).astype(np.float64)
    if spec.get("kv_cache"):
        ref_out, ref_lse = cached_reference(spec, q, k, v, lengths, table, reference.attention,
                                            added)
        naive_fn = lambda: cached_reference(  # noqa: E731
            spec, q, k, v, lengths, table,
            lambda sp, *t: (low_precision_attention(sp, *t), None), added, rounded=True)[0]
        # The LSE with rotated q (and new keys) rounded to the dtype, as the
        # GPU's tensor cores read them, bounds the LSE of rope specs.
        rounded_lse_fn = lambda: cached_reference(  # noqa: E731
            spec, q, k, v, lengths, table, reference.attention, added, rounded=True)[1]
        if append:
            problem = check_appended_cache(spec, k, v, lengths, table, added,
                                           np.load(new_paths["k_out"]), np.load(new_paths["v_out"]))
            if problem:
                return problem
    else:
        ref_out, ref_lse = reference.attention(spec, q.astype(np.float64), k.astype(np.float64), v.astype(np.float64))
        naive_fn = lambda: low_precision_attention(spec, q, k, v)  # noqa: E731
    if out.shape != ref_out.shape:
        return f"O has shape {out.shape}, expected {ref_out.shape}"
    error = np.max(np.abs(out - ref_out)) if out.size else 0.0
    if dtype == "f32":
        scale = max(1.0, np.max(np.abs(ref_out)) if ref_out.size else 1.0)
        bound = 1e-4 * scale
    else:
        naive = naive_fn()
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
            if spec.get("rope"):
                lse_bound = max(lse_bound, rope_lse_bound(rounded_lse_fn(), ref_lse))
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
    parser.add_argument("--inputs", choices=("normal", "negative-scores", "rising-scores"),
                        default="normal")
    parser.add_argument("--conflict-free", action="store_true",
                        help="gpu-sim: fail on shared-memory bank conflicts")
    args = parser.parse_args()
    global CONFLICT_FREE
    CONFLICT_FREE = args.conflict_free
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
                            args.backend, args.inputs)
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
