"""Inputs for kv-cache-errors.test: specs/decode_contiguous.json (q [2, 3, 8,
64], caches [2, 40, 2, 64]) and a paged copy with page_size 16 (pools of 6
pages), with good and bad cache_seqlens and page tables."""
import json
import os
import sys

import numpy as np

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(0)
spec = json.load(open(sys.argv[2]))
spec.update(name="decode_paged16", kv_cache={"layout": "paged", "page_size": 16})
json.dump(spec, open(os.path.join(out, "paged.json"), "w"))


def save(name, array):
    np.save(os.path.join(out, name), array)


save("q.npy", rng.standard_normal((2, 3, 8, 64)).astype(np.float32))
save("k.npy", rng.standard_normal((2, 40, 2, 64)).astype(np.float32))
save("pool.npy", rng.standard_normal((6, 16, 2, 64)).astype(np.float32))
save("pool_page8.npy", rng.standard_normal((6, 8, 2, 64)).astype(np.float32))
save("lengths.npy", np.array([40, 7], np.int32))
save("lengths_long.npy", np.array([41, 7], np.int32))
save("lengths_past_pages.npy", np.array([49, 7], np.int32))
save("lengths_negative.npy", np.array([3, -1], np.int32))
save("lengths_f32.npy", np.array([40, 7], np.float32))
save("lengths_batch3.npy", np.array([1, 2, 3], np.int32))
save("table.npy", np.array([[4, 0, 2], [5, -1, -1]], np.int32))
save("table_bad_page.npy", np.array([[4, 6, 2], [5, -1, -1]], np.int32))
save("table_rank1.npy", np.array([4, 0, 2], np.int32))
