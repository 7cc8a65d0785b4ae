"""Value types the mining stages pass to each other (pure: numpy only)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

Labels = npt.NDArray[np.int64]
Points = npt.NDArray[np.float32]
NOISE = -1
#: Raw label of a point left out of the clusterer's fit sample (large runs); refinement places it.
UNFITTED = -2

OverlapKind = Literal["new", "merge_into", "conflicts_with"]


@dataclass(frozen=True)
class Utterance:
    """A distinct normalised text and how often it was seen.

    Attributes:
        text: The normalised text (the most frequent surface form of its duplicate group).
        count: How many loaded rows it stands for (exact and near duplicates folded in).
        rows: Indices of those rows in the loaded input, so labels can be mapped back.
    """

    text: str
    count: int = 1
    rows: tuple[int, ...] = ()


@dataclass(frozen=True)
class ExistingIntent:
    """An intent the bot already has (name + example utterances), read from the bot's export."""

    name: str
    examples: tuple[str, ...]


@dataclass(frozen=True)
class EntitySuggestion:
    """A slot the candidate intent seems to need, found by a detector in its utterances."""

    name: str
    pattern: str
    required: bool
    share: float
    prompt: str


@dataclass(frozen=True)
class Overlap:
    """How a candidate relates to the bot's intents and the other candidates.

    ``label`` is ``new``, ``merge_into:<intent>`` or ``conflicts_with:<intent>``; the scores are those of
    the closest intent, both in ``[0, 1]``.
    """

    kind: OverlapKind
    target: str | None = None
    jaccard: float = 0.0
    cosine: float = 0.0

    @property
    def label(self) -> str:
        """``new`` or ``<kind>:<target>``."""
        return self.kind if self.target is None else f"{self.kind}:{self.target}"


@dataclass(frozen=True)
class IntentName:
    """A ``domain.action`` name with a one-line description, a display name and how it was found.

    ``display_name`` is what a person reads (Chinese for Chinese traffic: 退款进度查询); ``name`` is the
    ASCII id Coze and the overlap check use.
    """

    name: str
    description: str
    source: Literal["llm", "lexicon", "keywords"]
    display_name: str = ""


@dataclass
class CandidateIntent:
    """One mined cluster, ready to be reviewed and brought into Coze."""

    cluster_id: int
    name: str
    description: str
    named_by: str
    keywords: list[str]
    size: int
    volume: int
    examples: list[str]
    entities: list[EntitySuggestion] = field(default_factory=list)
    slot_filling_prompt: str = ""
    overlap: Overlap = field(default_factory=lambda: Overlap("new"))
    #: What a person reads (退款进度查询), built from the cluster's key phrases; unique in a run.
    display_name: str = ""


@dataclass
class MiningResult:
    """Everything one pipeline run produced (the exporters and the report read only this)."""

    utterances: list[Utterance]
    raw_labels: Labels
    labels: Labels
    intents: list[CandidateIntent]
    map_2d: Points
    timings: dict[str, float]
    params: dict[str, object]
    embedder: str

    @property
    def n_rows(self) -> int:
        """How many input rows (duplicates included) went in."""
        return sum(u.count for u in self.utterances)

    @property
    def raw_noise_share(self) -> float:
        """Share of distinct utterances the clusterer left as noise, before any outlier attachment."""
        fitted = self.raw_labels[self.raw_labels != UNFITTED]
        return float(np.mean(fitted == NOISE)) if len(fitted) else 0.0

    @property
    def noise_share(self) -> float:
        """Share of distinct utterances still unassigned after outlier attachment."""
        return float(np.mean(self.labels == NOISE)) if len(self.labels) else 0.0

    def row_labels(self, n_rows: int) -> Labels:
        """Cluster label of every loaded row (duplicates share their utterance's label)."""
        out = np.full(n_rows, NOISE, dtype=np.int64)
        for utterance, label in zip(self.utterances, self.labels, strict=True):
            out[list(utterance.rows)] = label
        return out
