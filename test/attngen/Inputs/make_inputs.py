"""Writes the .npy files of run-errors.test into DIR: well-formed inputs for
specs/mha.json (hq = 8, d = 64) and specs/alibi.json, and broken variants."""
import os
import sys

import numpy as np

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(0)


def save(name, array):
    np.save(os.path.join(out, name), array)


save("q.npy", rng.standard_normal((2, 5, 8, 64)).astype(np.float32))
save("k.npy", rng.standard_normal((2, 7, 8, 64)).astype(np.float32))
save("v.npy", rng.standard_normal((2, 7, 8, 64)).astype(np.float32))
save("k_empty.npy", np.zeros((2, 0, 8, 64), np.float32))
save("v_empty.npy", np.zeros((2, 0, 8, 64), np.float32))
save("q_f16.npy", rng.standard_normal((2, 5, 8, 64)).astype(np.float16))
save("q_f16_4heads.npy", rng.standard_normal((2, 5, 4, 64)).astype(np.float16))
save("q_f64.npy", rng.standard_normal((2, 5, 8, 64)))
save("q_rank3.npy", rng.standard_normal((5, 8, 64)).astype(np.float32))
save("q_heads.npy", rng.standard_normal((2, 5, 4, 64)).astype(np.float32))
save("k_batch.npy", rng.standard_normal((3, 7, 8, 64)).astype(np.float32))
save("v_seqlen.npy", rng.standard_normal((2, 6, 8, 64)).astype(np.float32))
save("q_fortran.npy", np.asfortranarray(rng.standard_normal((2, 5, 8, 64)).astype(np.float32)))
save("slopes_bad.npy", np.ones((4,), np.float32))
# int32 arrays are for lengths, offsets and page tables, not tensors: their
# bits read as float16 gave NaN outputs and exit status 0.
save("q_int32.npy", rng.integers(-3, 3, (2, 5, 8, 64)).astype(np.int32))
save("slopes_int32.npy", np.ones((8,), np.int32))
save("q_alibi.npy", rng.standard_normal((1, 5, 8, 128)).astype(np.float32))
save("k_alibi.npy", rng.standard_normal((1, 7, 8, 128)).astype(np.float32))
with open(os.path.join(out, "q.npy"), "rb") as f:
    good = f.read()
with open(os.path.join(out, "q_truncated.npy"), "wb") as f:
    f.write(good[: len(good) - 100])
with open(os.path.join(out, "q_trailing.npy"), "wb") as f:
    f.write(good + b"\0\0\0\0")
with open(os.path.join(out, "q_garbage.npy"), "wb") as f:
    f.write(b"\x7fELF" + bytes(range(256)))
with open(os.path.join(out, "q_header.npy"), "wb") as f:
    f.write(good[:10] + b"{'descr': '<f4', 'shape': (2, 5, 8, 64)}".ljust(len(good) - 10 - 10240 * 0, b" ")[: len(good) - 10])
# Format versions 1.0, 2.0 and 3.0 exist; byte 6 is the major, 7 the minor.
with open(os.path.join(out, "q_version_major.npy"), "wb") as f:
    f.write(good[:6] + b"\xed\x00" + good[8:])
with open(os.path.join(out, "q_version_minor.npy"), "wb") as f:
    f.write(good[:6] + b"\x01\x0e" + good[8:])
