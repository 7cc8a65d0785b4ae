"""Clusterers and the re-assignment / outlier attachment / merge that follow them."""

from __future__ import annotations

import numpy as np
import pytest

from mining.clustering import (
    HdbscanClusterer,
    SklearnHdbscanClusterer,
    auto_min_cluster_size,
    merge_close_clusters,
    reassign,
)
from mining.domain import NOISE
from mining.evaluation import clustering_scores


def blobs(n_per: int = 30, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = np.array([[0, 0], [6, 0], [0, 6], [6, 6]], dtype=np.float32)
    points = np.vstack([c + rng.normal(0, 0.4, size=(n_per, 2)) for c in centres]).astype(np.float32)
    return points, np.repeat(np.arange(4), n_per)


def test_auto_min_cluster_size_scales_with_n_and_is_clamped() -> None:
    assert [auto_min_cluster_size(n) for n in (100, 2250, 10_000, 100_000)] == [5, 8, 33, 50]


@pytest.mark.parametrize("clusterer", [HdbscanClusterer(), SklearnHdbscanClusterer()], ids=lambda c: c.name)
def test_hdbscan_implementations_find_the_blobs(clusterer: HdbscanClusterer) -> None:
    points, truth = blobs()
    labels = clusterer.fit_predict(points)
    assert len(set(labels[labels != NOISE].tolist())) == 4
    assert clustering_scores([str(t) for t in truth], labels)["nmi"] > 0.9


def test_too_few_points_are_all_noise() -> None:
    assert (HdbscanClusterer(min_cluster_size=5).fit_predict(np.zeros((3, 2), np.float32)) == NOISE).all()


def unit_rows(rows: list[list[float]]) -> np.ndarray:
    arr = np.asarray(rows, dtype=np.float32)
    return arr / np.linalg.norm(arr, axis=1, keepdims=True)


def test_outliers_attach_only_above_the_threshold() -> None:
    vectors = unit_rows([[1, 0.0], [1, 0.1], [0, 1], [0.1, 1], [1, 0.3], [-1, -1]])
    labels = np.array([0, 0, 1, 1, NOISE, NOISE])
    attached = reassign(vectors, labels, iterations=0, attach_cosine=0.5)
    assert attached[4] == attached[0] and attached[5] == NOISE
    assert (reassign(vectors, labels, iterations=0, attach_cosine=None) == NOISE).sum() == 2
    assert (reassign(vectors, labels, iterations=0, attach_cosine=-1.0) != NOISE).all()


def test_reassign_moves_a_point_to_its_nearest_centroid_and_sorts_by_size() -> None:
    vectors = unit_rows([[1, 0], [1, 0.05], [1, 0.1], [0, 1], [0.05, 1], [1, 0.02]])
    labels = np.array([0, 0, 0, 1, 1, 1])  # the last point sits in cluster 0's direction
    assert reassign(vectors, labels).tolist() == [0, 0, 0, 1, 1, 0]


def test_merge_joins_clusters_with_close_centroids_only() -> None:
    vectors = unit_rows([[1, 0, 0], [1, 0.1, 0], [1, 0.2, 0], [1, 0.25, 0], [0, 0, 1], [0, 0.1, 1]])
    labels = np.array([0, 0, 1, 1, 2, 2])
    merged = merge_close_clusters(vectors, labels, min_cosine=0.95)
    assert merged[0] == merged[2] != merged[4]
    assert len(set(merged.tolist())) == 2


def test_crumbs_far_below_the_median_size_join_their_nearest_cluster() -> None:
    from mining.clustering import dissolve_small_clusters

    points, _ = blobs(n_per=30)
    vectors = np.hstack([points, np.ones((len(points), 1), np.float32)])
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    labels = np.repeat(np.arange(4), 30)
    labels[:4] = 4  # a crumb of four inside blob 0
    labels[-1] = NOISE
    out = dissolve_small_clusters(vectors, labels, share=0.5)
    assert len(set(out[out != NOISE].tolist())) == 4
    assert len(set(out[:30].tolist())) == 1  # the crumb went back to its blob
    assert out[-1] == NOISE  # noise is not the crumbs' business
    # uniformly small clusters are all kept: the rule is relative to the median
    even = dissolve_small_clusters(vectors, np.repeat(np.arange(4), 30), share=0.5)
    assert len(set(even.tolist())) == 4
