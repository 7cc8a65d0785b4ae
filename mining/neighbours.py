"""Approximate near-duplicate pairs for large runs (FAISS inverted lists; the exact search is O(n^2))."""

from __future__ import annotations

from collections.abc import Iterator
from math import sqrt

import numpy as np

from mining.domain import Points


def approximate_pairs(
    vectors: Points, threshold: float, *, k: int = 10, nprobe: int = 8, seed: int = 0, chunk: int = 65_536
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Pairs of rows with cosine >= ``threshold`` among each row's ``k`` approximate nearest neighbours.

    An IVF index (about 4 * sqrt(n) lists, ``nprobe`` probed) finds near-identical vectors with high
    recall: at the thresholds used for duplicates (~0.98) both rows sit in the same or a neighbouring
    list. A missed pair only leaves two near-copies unmerged; clustering still puts them together.
    """
    import faiss

    x = np.ascontiguousarray(vectors, dtype=np.float32)
    n, d = x.shape
    if n < 2:
        return
    nlist = max(1, min(8192, int(4 * sqrt(n))))
    quantizer = faiss.IndexFlatIP(d)
    index = faiss.IndexIVFFlat(quantizer, d, nlist, faiss.METRIC_INNER_PRODUCT)
    rng = np.random.default_rng(seed)
    train = x[rng.choice(n, size=min(n, 40 * nlist), replace=False)]
    index.train(train)
    index.add(x)
    index.nprobe = min(nprobe, nlist)
    for start in range(0, n, chunk):
        sims, ids = index.search(x[start : start + chunk], min(k, n))
        rows, cols = np.nonzero((sims >= threshold) & (ids >= 0))
        yield rows + start, ids[rows, cols]
