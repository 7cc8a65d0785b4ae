"""The mining pipeline: dedupe -> embed -> reduce -> cluster -> name -> represent -> check overlap.

Pure: every stage is a constructor argument with a default, nothing here touches a database, the network
or torch. ``mining.runner`` and ``backstop.mining_cli`` wire settings, storage and outputs around it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from mining.clustering import HdbscanClusterer, dissolve_small_clusters, merge_close_clusters, reassign
from mining.domain import (
    NOISE,
    UNFITTED,
    CandidateIntent,
    ExistingIntent,
    Labels,
    MiningResult,
    Points,
    Utterance,
)
from mining.ensemble import ConcatEmbedder, co_association_consensus, join_views
from mining.entities import slot_filling_prompt, suggest_entities
from mining.keywords import JiebaTokenizer, class_tfidf, ranked_tokens, token_profile
from mining.lexicon import LEXICON, match_entry, single_char_triggers
from mining.naming import KeywordNamer, make_unique
from mining.overlap import IntentProfile, OverlapThresholds, label_overlaps
from mining.ports import Clusterer, ClusterView, Namer, Progress, Reducer, Tokenizer, no_progress
from mining.reduction import PcaReducer, UmapReducer, centre
from mining.representatives import mmr_select
from mining.texts import dedupe, merge_near_duplicates
from models.ports import Embedder, embedder_identity, l2_normalise

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
#: Tokens per intent that the overlap check compares (Jaccard of these sets).
PROFILE_TOKENS = 15
#: Member texts a namer reads per cluster (the most asked first): enough for cues, bounded at 1M rows.
NAMING_TEXTS = 300


@dataclass(frozen=True)
class PipelineOptions:
    """The policy knobs between stages (the stages' own knobs live on the stage objects)."""

    near_duplicate_cosine: float = 0.985
    centre: bool = True
    refine_iterations: int = 10
    outlier_attach_cosine: float | None = 0.3
    min_member_cosine: float | None = 0.2
    merge_cosine: float | None = 0.7
    view_consensus: bool = True
    consensus_agreement: float = 0.5
    #: Clusters smaller than this share of the median cluster size join their nearest neighbours.
    small_cluster_share: float | None = 0.5
    #: The ``english_embedder`` joins as one more view when at least this share of the distinct texts
    #: has no Chinese character.
    english_share: float = 0.8
    representatives: int = 20
    mmr_diversity: float = 0.5
    keywords_per_intent: int = 10
    entity_min_share: float = 0.1
    entity_required_share: float = 0.5
    overlap: OverlapThresholds = field(default_factory=OverlapThresholds)
    seed: int = 42
    #: Above this many distinct utterances, reduction and HDBSCAN see a seeded random sample of this
    #: size and every other point is placed by the full-space refinement (nearest centroid, subject to
    #: ``outlier_attach_cosine``): UMAP's cost grows with n and would take hours at 1M points.
    max_fit_points: int | None = 10_000


class MiningPipeline:
    """Turns a batch of texts into candidate intents.

    Args:
        embedder: Any :class:`~models.ports.Embedder` (wrap it in ``CachedEmbedder`` to reuse vectors).
        reducer: Dimension reduction before clustering (default UMAP to 10 dimensions).
        clusterer: Density clustering (default HDBSCAN, leaf selection, size relative to n).
        namer: Cluster naming (default keywords + lexicon; ``LlmNamer`` when a generator is set).
        tokenizer: Content tokens for keywords and overlap (default jieba).
        map_reducer: Draws the report's 2-D map from the reduced points (default PCA).
        options: Thresholds between stages.
        english_embedder: One more view for batches that are mostly not Chinese (``options.
            english_share``), e.g. all-MiniLM-L6-v2; ``None`` = never.

    With several views (the parts of a ``ConcatEmbedder``, plus the English one), a run larger than
    ``options.max_fit_points`` embeds every text with the first view only and the other views for the
    fitted sample only: they shape the clusters, the first view places the rest (e5-small embeds ~100
    texts/s here; a million texts would take hours).
    """

    def __init__(
        self,
        embedder: Embedder,
        *,
        reducer: Reducer | None = None,
        clusterer: Clusterer | None = None,
        namer: Namer | None = None,
        tokenizer: Tokenizer | None = None,
        map_reducer: Reducer | None = None,
        options: PipelineOptions | None = None,
        english_embedder: Embedder | None = None,
    ) -> None:
        self.options = options or PipelineOptions()
        self.embedder = embedder
        self.english_embedder = english_embedder
        self.reducer = reducer or UmapReducer(seed=self.options.seed)
        self.clusterer = clusterer or HdbscanClusterer()
        self.tokenizer = tokenizer or JiebaTokenizer(keep=single_char_triggers())
        self.namer = namer or KeywordNamer(tokenizer=self.tokenizer)
        self.map_reducer = map_reducer or PcaReducer(2, seed=self.options.seed)

    def describe(self) -> dict[str, object]:
        """Stage names and options: what a run records to be reproducible."""
        return {
            "embedder": embedder_identity(self.embedder),
            "english_embedder": embedder_identity(self.english_embedder) if self.english_embedder else None,
            "reducer": self.reducer.name,
            "clusterer": self.clusterer.name,
            "namer": self.namer.name,
            "options": asdict(self.options),
        }

    def run(
        self,
        texts: Sequence[str],
        *,
        existing: Sequence[ExistingIntent] = (),
        progress: Progress = no_progress,
    ) -> MiningResult:
        """Mine ``texts`` (one per logged query, duplicates welcome) against the bot's ``existing`` ones."""
        timings: dict[str, float] = {}
        clock = time.perf_counter()

        def lap(stage: str, done: float) -> None:
            nonlocal clock
            now = time.perf_counter()
            timings[stage] = round(now - clock, 3)
            clock = now
            progress(stage, done)

        utterances = dedupe(texts)
        lap("dedupe", 0.05)
        texts_in = [u.text for u in utterances]
        embedders = self._view_embedders(texts_in)
        limit = self.options.max_fit_points
        sampled_views = len(embedders) > 1 and limit is not None and len(utterances) > limit
        # a large run embeds every text with the first view; the others see the fit sample only
        views = [l2_normalise(e.encode(texts_in)) for e in (embedders[:1] if sampled_views else embedders)]
        vectors = join_views(views)
        lap("embed", 0.4)
        if len(utterances) > 1 and self.options.near_duplicate_cosine < 1.0:
            threshold = self.options.near_duplicate_cosine
            pairs = None
            if limit is not None and len(utterances) > limit:  # the exact comparison is O(n^2)
                from mining.neighbours import approximate_pairs

                pairs = approximate_pairs(vectors, threshold, seed=self.options.seed)
            utterances, keep = merge_near_duplicates(utterances, vectors, threshold, pairs=pairs)
            vectors, views = vectors[keep], [v[keep] for v in views]
        lap("near_duplicates", 0.45)
        space = centre(vectors) if self.options.centre else vectors
        fit = self._fit_rows(len(space))
        if sampled_views and fit is not None:
            sample = [utterances[i].text for i in fit.tolist()]
            fit_views = [views[0][fit]] + [l2_normalise(e.encode(sample)) for e in embedders[1:]]
            joined = join_views(fit_views)
            fit_space = centre(joined) if self.options.centre else joined
            lap("embed_sample", 0.5)
        else:
            fit_views = views if fit is None else [v[fit] for v in views]
            fit_space = space if fit is None else space[fit]
        points = self.reducer.fit_transform(fit_space)
        lap("reduce", 0.7)
        fitted = self.clusterer.fit_predict(points)
        if len(fit_views) > 1 and self.options.view_consensus and len(points) > 2:
            fitted = self._view_consensus(fit_space, fitted, fit_views)
        if self.options.small_cluster_share is not None:
            fitted = dissolve_small_clusters(fit_space, fitted, share=self.options.small_cluster_share)
        if fit is None:
            raw = fitted
        else:
            raw = np.full(len(space), UNFITTED, dtype=np.int64)
            raw[fit] = fitted
        labels = self._post_process(space, np.where(raw == UNFITTED, NOISE, raw))
        lap("cluster", 0.8)
        fitted_map = self.map_reducer.fit_transform(points) if len(points) else np.zeros((0, 2), np.float32)
        if fit is None:
            map_2d = fitted_map
        else:  # points outside the fit sample have no map position (NaN; the report skips them)
            map_2d = np.full((len(space), 2), np.nan, dtype=np.float32)
            map_2d[fit] = fitted_map
        used = embedders[:1] if sampled_views else embedders
        intents = self._describe_clusters(utterances, vectors, space, raw, labels, existing, used)
        lap("describe", 1.0)
        return MiningResult(
            utterances=utterances,
            raw_labels=raw,
            labels=labels,
            intents=intents,
            map_2d=map_2d,
            timings=timings,
            params=self.describe(),
            embedder="+".join(embedder_identity(e) for e in embedders),
        )

    def _view_embedders(self, texts: Sequence[str]) -> list[Embedder]:
        """The views of this run: each part of a ``ConcatEmbedder`` (or the one embedder).

        Plus the English embedder when the batch is English enough (one view of everything without
        consensus).
        """
        parts = list(self.embedder.parts) if isinstance(self.embedder, ConcatEmbedder) else [self.embedder]
        if self.english_embedder is not None and texts:
            latin = sum(1 for t in texts if not _CJK.search(t)) / len(texts)
            if latin >= self.options.english_share:
                extra = self.english_embedder
                parts += list(extra.parts) if isinstance(extra, ConcatEmbedder) else [extra]
        if not self.options.view_consensus and len(parts) > 1:
            return [ConcatEmbedder(parts)]
        return parts

    def _fit_rows(self, n: int) -> np.ndarray | None:
        """Rows the reducer and clusterer are fitted on: all (None), or a seeded sample of a large run."""
        limit = self.options.max_fit_points
        if limit is None or n <= limit:
            return None
        rng = np.random.default_rng(self.options.seed)
        return np.sort(rng.choice(n, size=limit, replace=False))

    def _view_consensus(self, space: Points, raw: Labels, views: Sequence[Points]) -> Labels:
        """Cluster every embedder's space on its own too and keep what most clusterings agree on.

        Each view (and the joined space, already clustered as ``raw``) goes through reduce, cluster and
        post-processing; points grouped together in at least ``consensus_agreement`` of these runs form
        the clusters (co-association, average linkage). Embedders err on different pairs, so their
        majority repairs pairs that the concatenation alone gets wrong (+0.2 to +0.6 NMI measured).
        """
        runs = [self._post_process(space, raw)]
        for view in views:
            part = centre(view) if self.options.centre else view
            own = self.clusterer.fit_predict(self.reducer.fit_transform(part))
            runs.append(self._post_process(part, own))
        return co_association_consensus(runs, agreement=self.options.consensus_agreement, min_size=3)

    def _post_process(self, space: Points, raw: Labels) -> Labels:
        """Refine in the full space, attach close outliers, merge near-identical clusters, eject strays."""
        opts = self.options
        labels = reassign(
            space, raw, iterations=opts.refine_iterations, attach_cosine=opts.outlier_attach_cosine
        )
        if opts.merge_cosine is not None:
            merged = merge_close_clusters(space, labels, min_cosine=opts.merge_cosine)
            if len(set(merged.tolist())) < len(set(labels.tolist())):
                labels = reassign(space, merged, iterations=opts.refine_iterations, attach_cosine=None)
        if opts.min_member_cosine is not None:
            labels = reassign(
                space, labels, iterations=0, attach_cosine=None, eject_cosine=opts.min_member_cosine
            )
        return labels

    def _describe_clusters(
        self,
        utterances: Sequence[Utterance],
        vectors: Points,
        space: Points,
        raw: Labels,
        labels: Labels,
        existing: Sequence[ExistingIntent],
        embedders: Sequence[Embedder],
    ) -> list[CandidateIntent]:
        opts = self.options
        ids = sorted(int(c) for c in set(labels.tolist()) if c != NOISE)
        members = {c: np.flatnonzero(labels == c) for c in ids}
        texts = {c: [utterances[i].text for i in members[c].tolist()] for c in ids}
        counts = {c: [utterances[i].count for i in members[c].tolist()] for c in ids}
        keywords = class_tfidf(
            {c: list(zip(texts[c], counts[c], strict=True)) for c in ids},
            self.tokenizer,
            top_n=opts.keywords_per_intent,
        )
        examples = {
            c: [utterances[i].text for i in self._representatives(space, members[c], raw)] for c in ids
        }
        words = {c: [k for k, _ in keywords.get(c, [])] for c in ids}
        views = [ClusterView(c, words[c], examples[c], _frequent(texts[c], counts[c])) for c in ids]
        names = make_unique(self.namer.name_clusters(views))
        profiles = [
            IntentProfile(
                name=names[n].name,
                tokens=token_profile(texts[c], self.tokenizer, top_n=PROFILE_TOKENS),
                centroid=l2_normalise(vectors[members[c]].mean(axis=0))[0],
                action=_action(keywords.get(c, [])),
            )
            for n, c in enumerate(ids)
        ]
        overlaps = label_overlaps(profiles, self._existing_profiles(existing, embedders), opts.overlap)
        intents = []
        for n, c in enumerate(ids):
            entities = suggest_entities(
                texts[c],
                counts[c],
                min_share=opts.entity_min_share,
                required_share=opts.entity_required_share,
            )
            intents.append(
                CandidateIntent(
                    cluster_id=c,
                    name=names[n].name,
                    description=names[n].description,
                    named_by=names[n].source,
                    keywords=words[c],
                    size=len(texts[c]),
                    volume=sum(counts[c]),
                    examples=examples[c],
                    entities=entities,
                    slot_filling_prompt=slot_filling_prompt(entities),
                    overlap=overlaps[n],
                    display_name=names[n].display_name,
                )
            )
        return intents

    def _representatives(self, space: Points, members: Labels, raw: Labels) -> list[int]:
        """Diverse examples, taken from the points the clusterer grouped before attached outliers.

        MMR favours points unlike those already picked, which outliers are by definition; they fill in
        only when the cluster's own points run out.
        """
        k, diversity = self.options.representatives, self.options.mmr_diversity
        core, attached = members[raw[members] >= 0], members[raw[members] < 0]  # < 0: noise or unfitted
        picks = [int(core[j]) for j in mmr_select(space[core], k, diversity=diversity)]
        if len(picks) < k and len(attached):
            more = mmr_select(space[attached], k - len(picks), diversity=diversity)
            picks += [int(attached[j]) for j in more]
        return picks

    def _existing_profiles(
        self, existing: Sequence[ExistingIntent], embedders: Sequence[Embedder]
    ) -> list[IntentProfile]:
        """The bot's intents, embedded by the same views as the candidates' centroids."""
        profiles = []
        for intent in existing:
            examples = [e for e in intent.examples if e.strip()]
            if not examples:
                continue
            vectors = join_views([l2_normalise(e.encode(examples)) for e in embedders])
            ranked = ranked_tokens(examples, self.tokenizer)[:PROFILE_TOKENS]
            # a bot intent already named like ours (order.return) states its action; else read it
            # from its name and examples (退货 -> order.return)
            named = {e.name for e in LEXICON}
            action = (
                intent.name
                if intent.name in named
                else _action(
                    [(t, 0.0) for t in self.tokenizer(intent.name)] + [(t, float(n)) for t, n in ranked]
                )
            )
            profiles.append(
                IntentProfile(
                    name=intent.name,
                    tokens=frozenset(t for t, _ in ranked),
                    centroid=l2_normalise(vectors.mean(axis=0))[0],
                    action=action,
                )
            )
        return profiles


def _frequent(texts: Sequence[str], counts: Sequence[int], limit: int = NAMING_TEXTS) -> list[str]:
    """The ``limit`` most asked texts of a cluster (ties in input order): what its name must say."""
    order = sorted(range(len(texts)), key=lambda i: -counts[i])[:limit]
    return [texts[i] for i in order]


def _action(keywords: Sequence[tuple[str, float]]) -> str | None:
    # rank weights as in KeywordNamer, so a candidate's key action and its lexicon name agree
    entry = match_entry([(k, 1.0 / (i + 1)) for i, (k, _) in enumerate(keywords)])
    return entry.name if entry else None
