"""The grouper's growing flat index answers as brute force (and as FAISS's flat index) does."""

from __future__ import annotations

import numpy as np
import pytest

from fallback.retrieval.faiss_index import FaissIndex, GrowingFlatIndex


def _unit(rng: np.random.Generator, n: int, dim: int = 16) -> np.ndarray:
    v = rng.standard_normal((n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_adds_removes_and_replacements_search_as_brute_force_and_faiss() -> None:
    rng = np.random.default_rng(7)
    index = GrowingFlatIndex(16, capacity=4)  # grows several times on the way
    faiss_flat = FaissIndex(16, "flat")
    live: dict[int, np.ndarray] = {}
    next_id = 0
    for step in range(60):
        fresh = _unit(rng, 5)
        ids = np.arange(next_id, next_id + 5)
        next_id += 5
        index.add(ids, fresh)
        faiss_flat.add(ids, fresh)
        live.update({int(i): v for i, v in zip(ids, fresh, strict=True)})
        gone = [int(i) for i in rng.choice(sorted(live), size=3, replace=False)]
        index.remove([*gone, 10_000 + step])  # an unknown id is ignored
        faiss_flat.remove(gone)
        for i in gone:
            del live[i]
        again = int(rng.choice(sorted(live)))  # a replacement keeps one row per id
        v = _unit(rng, 1)
        index.add(np.array([again]), v)
        faiss_flat.add(np.array([again]), v)
        live[again] = v[0]
    assert len(index) == len(live) and index.ids() == set(live)

    queries = _unit(rng, 6)
    scores, ids = index.search(queries, 4)
    keys = np.array(sorted(live))
    brute = queries @ np.vstack([live[k] for k in keys]).T
    for row in range(len(queries)):
        best = keys[np.argsort(-brute[row], kind="stable")[:4]]
        assert ids[row].tolist() == best.tolist()
        assert scores[row] == pytest.approx(np.sort(brute[row])[::-1][:4], abs=1e-5)
    f_scores, f_ids = faiss_flat.search(queries, 4)
    assert ids.tolist() == f_ids.tolist() and scores == pytest.approx(f_scores, abs=1e-5)


def test_fewer_rows_than_k_pads_and_an_empty_index_finds_nothing() -> None:
    index = GrowingFlatIndex(16)
    scores, ids = index.search(np.ones((2, 16), np.float32) / 4, 3)
    assert ids.tolist() == [[-1, -1, -1]] * 2 and scores.tolist() == [[-1.0] * 3] * 2
    v = _unit(np.random.default_rng(1), 2)
    index.add(np.array([5, 9]), v)
    scores, ids = index.search(v[0], 3)
    assert ids[0].tolist()[:1] == [5] and ids[0, 2] == -1 and scores[0, 0] == pytest.approx(1.0, abs=1e-6)
    index.remove([5, 9])
    assert len(index) == 0 and index.search(v, 1)[1].tolist() == [[-1], [-1]]


def test_a_wrong_shape_is_refused_and_changes_nothing() -> None:
    index = GrowingFlatIndex(16)
    with pytest.raises(ValueError, match="dimension 16"):
        index.add(np.array([1]), np.ones((1, 8), np.float32))
    with pytest.raises(ValueError):
        index.add(np.array([1, 2]), np.ones((1, 16), np.float32))
    assert len(index) == 0
