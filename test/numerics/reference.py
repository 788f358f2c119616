"""Float64 reference attention, written from DESIGN section 2 alone.

It shares no code with attngen: masks are built element by element from the
visibility rule, softmax is the textbook one over the full score matrix.
"""
import math

import numpy as np


def visible_mask(spec, seqlen_q, seqlen_k):
    """bool[seqlen_q, seqlen_k]: key j visible to query i."""
    off = seqlen_k - seqlen_q if spec.get("causal_align", "bottom_right") == "bottom_right" else 0
    window = spec.get("window") or {}
    left = window.get("left", -1)
    right = window.get("right", -1)
    if spec.get("mask", "none") == "causal":
        right = 0 if right == -1 else min(right, 0)
    sinks = spec.get("sink_tokens", 0)
    i = np.arange(seqlen_q)[:, None]
    j = np.arange(seqlen_k)[None, :]
    left_ok = np.ones((seqlen_q, seqlen_k), bool) if left == -1 else (j >= i + off - left)
    right_ok = np.ones((seqlen_q, seqlen_k), bool) if right == -1 else (j <= i + off + right)
    return (left_ok | (j < sinks)) & right_ok


def default_alibi_slopes(num_heads):
    """ALiBi's geometric slopes (Press et al., and its non-power-of-2 rule)."""
    power = 2 ** int(math.floor(math.log2(num_heads)))
    slopes = [2.0 ** (-8.0 * k / power) for k in range(1, power + 1)]
    extra = [2.0 ** (-4.0 * k / power) for k in range(1, 2 * (num_heads - power), 2)]
    return np.array((slopes + extra)[:num_heads])


def attention(spec, q, k, v, slopes=None, round_to=None):
    """O[b, i, h, :] and LSE[b, h, i] in float64; or, with `round_to`, a naive
    attention in float32 that rounds every intermediate (S, P, O) with it:
    the 'attention in that dtype' of FlashAttention's error rule."""
    dtype = np.float64 if round_to is None else np.float32
    rnd = (lambda x: x) if round_to is None else (lambda x: round_to(x.astype(np.float32)))
    batch, seqlen_q, hq, d = q.shape
    _, seqlen_k, hkv, dv = v.shape
    group = hq // hkv
    scale = spec.get("scale") or 1.0 / math.sqrt(spec["head_dim"])
    softcap = spec.get("softcap", 0.0)
    off = seqlen_k - seqlen_q if spec.get("causal_align", "bottom_right") == "bottom_right" else 0
    mask = visible_mask(spec, seqlen_q, seqlen_k)
    if spec.get("alibi") and slopes is None:
        slopes = default_alibi_slopes(hq)
    out = np.zeros((batch, seqlen_q, hq, dv), np.float64)
    lse = np.full((batch, hq, seqlen_q), -np.inf, np.float64)
    distance = np.abs(np.arange(seqlen_q)[:, None] + off - np.arange(seqlen_k)[None, :])
    for b in range(batch):
        for h in range(hq):
            qh = q[b, :, h, :].astype(dtype)
            kh = k[b, :, h // group, :].astype(dtype)
            vh = v[b, :, h // group, :].astype(dtype)
            s = rnd(rnd(qh @ kh.T) * scale).astype(dtype)
            if softcap:
                s = rnd(softcap * np.tanh(s / softcap)).astype(dtype)
            if spec.get("alibi"):
                s = rnd(s - slopes[h] * distance).astype(dtype)
            s = np.where(mask, s, -np.inf)
            row_max = np.max(s, axis=1, keepdims=True) if seqlen_k else np.full((seqlen_q, 1), -np.inf)
            has_key = np.isfinite(row_max)
            safe_max = np.where(has_key, row_max, 0)
            e = np.exp(s - safe_max)
            row_sum = e.sum(axis=1, keepdims=True)
            p = rnd(e / np.where(has_key, row_sum, 1)).astype(dtype)
            out[b, :, h, :] = np.where(has_key, rnd(p @ vh), 0)
            lse[b, h, :] = np.where(has_key[:, 0], np.log(np.where(has_key, row_sum, 1)[:, 0].astype(np.float64)) + safe_max[:, 0], -np.inf)
    return out, lse


def rotary(spec, x, positions):
    """x[s, h, :] rotated by RoPE at positions[s] in float64 (DESIGN's rope:
    pair p is (x[p], x[p + r/2]), or (x[2p], x[2p + 1]) when interleaved,
    turned by positions[s] * base^(-2p / r)); columns from r on unchanged."""
    rope = spec["rope"]
    r = rope.get("rotary_dim", spec["head_dim"])
    theta = float(rope.get("base", 10000.0)) ** (-2.0 * np.arange(r // 2) / r)
    angle = np.asarray(positions, np.float64)[:, None, None] * theta[None, None, :]
    out = np.array(x, np.float64)
    if rope.get("interleaved", False):
        x1, x2 = out[..., 0:r:2].copy(), out[..., 1:r:2].copy()
        out[..., 0:r:2] = x1 * np.cos(angle) - x2 * np.sin(angle)
        out[..., 1:r:2] = x2 * np.cos(angle) + x1 * np.sin(angle)
    else:
        x1, x2 = out[..., :r // 2].copy(), out[..., r // 2:r].copy()
        out[..., :r // 2] = x1 * np.cos(angle) - x2 * np.sin(angle)
        out[..., r // 2:r] = x2 * np.cos(angle) + x1 * np.sin(angle)
    return out
