"""View consensus: each embedder's own clustering votes on which texts belong together."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform

from mining.clustering import HdbscanClusterer
from mining.domain import NOISE
from mining.ensemble import (
    ConcatEmbedder,
    _weighted_average_linkage,
    co_association_consensus,
    encode_views,
    join_views,
)
from mining.evaluation import clustering_scores
from mining.pipeline import MiningPipeline, PipelineOptions
from mining.reduction import PcaReducer
from models.embedders.usem3 import Usem3Embedder
from tests.mining.shop_queries import LOGISTICS, REFUND


def same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    pairs_a = a[:, None] == a[None, :]
    pairs_b = b[:, None] == b[None, :]
    return bool(np.array_equal(pairs_a, pairs_b))


def test_majority_of_clusterings_decides_and_a_lone_dissent_is_outvoted() -> None:
    truth = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2])
    wrong_a = np.array([0, 0, 1, 1, 1, 1, 2, 2, 2])  # moves point 2 into cluster 1
    wrong_b = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2])  # moves point 5 into cluster 2
    labels = co_association_consensus([truth, wrong_a, wrong_b], agreement=0.5, min_size=2)
    assert same_partition(labels, truth)


def test_agreement_sets_how_much_consensus_joining_needs() -> None:
    # two of four clusterings join the halves: joined at agreement 0.5, kept apart at 0.75
    split = np.array([0, 0, 0, 1, 1, 1])
    joined = np.array([0, 0, 0, 0, 0, 0])
    runs = [split, split, joined, joined]
    assert len(set(co_association_consensus(runs, agreement=0.5).tolist())) == 1
    assert same_partition(co_association_consensus(runs, agreement=0.75), split)


def test_noise_never_agrees_and_small_groups_become_noise() -> None:
    runs = [np.array([0, 0, 0, NOISE, 1]), np.array([0, 0, 0, NOISE, 2]), np.array([0, 0, 0, 3, 4])]
    labels = co_association_consensus(runs, agreement=0.5, min_size=2)
    assert len(set(labels[:3].tolist())) == 1 and labels[0] != NOISE
    assert labels[3] == NOISE and labels[4] == NOISE  # each alone: below min_size


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_weighted_linkage_equals_scipys_average_linkage_on_the_expanded_points(seed: int) -> None:
    rng = np.random.default_rng(seed)
    m = 12
    upper = np.triu(rng.uniform(0.0, 1.0, size=(m, m)), 1)
    distance = upper + upper.T
    weights = rng.integers(1, 4, size=m)
    owner = np.repeat(np.arange(m), weights)  # item i stands for weights[i] identical points
    points = distance[owner][:, owner]
    np.fill_diagonal(points, 0.0)
    reference = fcluster(linkage(squareform(points, checks=False), "average"), t=0.5, criterion="distance")
    ours = _weighted_average_linkage(distance, weights.astype(float), max_distance=0.5)
    assert same_partition(ours[owner], reference)


def test_consensus_of_noisy_clusterings_recovers_the_shared_groups() -> None:
    rng = np.random.default_rng(3)
    truth = np.repeat(np.arange(4), 10)
    runs = []
    for _ in range(5):
        run = truth.copy()
        flip = rng.choice(len(truth), size=4, replace=False)
        run[flip] = rng.integers(0, 4, size=4)
        runs.append(run)
    labels = co_association_consensus(runs, agreement=0.5, min_size=1)
    assert clustering_scores([str(t) for t in truth], labels)["nmi"] > 0.95


def test_views_of_a_concatenation_join_back_to_its_vectors(usem3: Usem3Embedder) -> None:
    texts = ["退款什么时候到账", "我的快递到哪了", "能开发票吗"]
    concat = ConcatEmbedder([usem3, usem3])
    views = encode_views(concat, texts)
    assert [v.shape for v in views] == [(3, 512), (3, 512)]
    np.testing.assert_allclose(join_views(views), concat.encode(texts), atol=1e-6)
    single = encode_views(usem3, texts)
    assert len(single) == 1
    np.testing.assert_allclose(join_views(single), usem3.encode(texts), atol=1e-6)


def test_pipeline_with_two_views_separates_two_intents(usem3: Usem3Embedder) -> None:
    texts = REFUND + LOGISTICS
    truth = ["refund"] * len(REFUND) + ["logistics"] * len(LOGISTICS)
    scores = {}
    for consensus in (True, False):
        pipeline = MiningPipeline(
            ConcatEmbedder([usem3, usem3]),
            reducer=PcaReducer(5),
            clusterer=HdbscanClusterer(min_cluster_size=5),
            options=PipelineOptions(view_consensus=consensus),
        )
        result = pipeline.run(texts)
        scores[consensus] = clustering_scores(truth, result.row_labels(len(texts)))["nmi"]
        assert len(result.intents) >= 2
    # identical views agree with the joined space: the consensus keeps its clustering
    assert scores[True] == pytest.approx(scores[False], abs=0.05)
    assert scores[True] > 0.6
