"""The embedding cache and the evaluation metrics."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from mining.cache import CachedEmbedder, EmbeddingCache
from mining.ensemble import ConcatEmbedder
from mining.evaluation import clustering_scores, hungarian_accuracy, noise_as_cluster
from models.embedders.usem3 import Usem3Embedder
from models.ports import embedder_identity


def test_cache_serves_repeats_and_grows_with_new_texts(tmp_path: Path, usem3: Usem3Embedder) -> None:
    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    first = CachedEmbedder(usem3, cache)
    vectors = first.encode(["退款多久到账", "快递到哪了", "退款多久到账"])
    assert (first.hits, first.misses) == (0, 2)
    np.testing.assert_allclose(vectors[0], vectors[2])

    again = CachedEmbedder(usem3, cache)  # a later run, same file
    grown = again.encode(["快递到哪了", "退款多久到账", "优惠券怎么用"])
    assert (again.hits, again.misses) == (2, 1)
    np.testing.assert_allclose(grown[:2], vectors[[1, 0]], atol=1e-6)
    np.testing.assert_allclose(grown[2], usem3.encode(["优惠券怎么用"])[0], atol=1e-5)
    assert cache.count(embedder_identity(usem3)) == 3


def test_cache_never_stores_text_and_separates_embedders(tmp_path: Path, usem3: Usem3Embedder) -> None:
    path = tmp_path / "cache.sqlite"
    cache = EmbeddingCache(path)
    CachedEmbedder(usem3, cache).encode(["我的手机号13812345678"])
    concat = CachedEmbedder(ConcatEmbedder([usem3, usem3]), cache)
    concat.encode(["我的手机号13812345678"])
    assert concat.misses == 1  # another identity, another vector space
    with sqlite3.connect(path) as db:
        dump = "\n".join(db.iterdump())
    assert "13812345678" not in dump


def test_noise_counts_as_its_own_cluster() -> None:
    labels = np.array([0, 0, -1, 1, -1])
    assert noise_as_cluster(labels).tolist() == [0, 0, 2, 1, 2]


def test_scores() -> None:
    truth = ["a", "a", "b", "b", "c", "c"]
    assert clustering_scores(truth, np.array([1, 1, 0, 0, 2, 2])) == {"nmi": 1.0, "ari": 1.0, "acc": 1.0}
    assert hungarian_accuracy(truth, np.array([0, 0, 0, 0, 1, 1])) == pytest.approx(4 / 6)
    noisy = clustering_scores(truth, np.array([0, 0, 1, 1, -1, -1]))
    assert noisy["acc"] == 1.0  # noise as one cluster happens to match label c here
    assert clustering_scores(truth, np.array([0, -1, 1, -1, 2, -1]))["nmi"] < 0.8
