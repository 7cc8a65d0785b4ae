"""The plug-in points of ``mining``: every pipeline stage implements one of these roles."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from mining.domain import IntentName, Labels, Points

#: Called with a stage name and the fraction of the run done (0-1); the CLI draws a progress bar with it.
Progress = Callable[[str, float], None]


def no_progress(stage: str, done: float) -> None:
    """A progress callback that does nothing (the default outside the terminal)."""


@runtime_checkable
class Reducer(Protocol):
    """Maps unit vectors to a few dimensions where density-based clustering works."""

    @property
    def name(self) -> str:
        """The stage's name, recorded with each run."""
        ...

    def fit_transform(self, vectors: Points) -> Points:
        """Return an array with one row per input row."""
        ...


@runtime_checkable
class Clusterer(Protocol):
    """Groups points; label ``-1`` marks noise."""

    @property
    def name(self) -> str:
        """The stage's name, recorded with each run."""
        ...

    def fit_predict(self, points: Points) -> Labels:
        """Return one integer label per row (``-1`` = noise)."""
        ...


@dataclass(frozen=True)
class ClusterView:
    """What a namer sees of one cluster."""

    cluster_id: int
    keywords: Sequence[str]
    examples: Sequence[str]
    #: Member texts (the most frequent first, capped), for key phrases and question cues.
    texts: Sequence[str] = ()


@runtime_checkable
class Namer(Protocol):
    """Proposes a ``domain.action`` name and a one-line description per cluster."""

    @property
    def name(self) -> str:
        """The stage's name, recorded with each run."""
        ...

    def name_clusters(self, clusters: Sequence[ClusterView]) -> list[IntentName]:
        """Return one name per cluster, in order; names need not be unique (the pipeline dedupes)."""
        ...


@runtime_checkable
class Tokenizer(Protocol):
    """Splits a text into content tokens (stopwords and punctuation removed)."""

    def __call__(self, text: str) -> list[str]:
        """The tokens of ``text``."""
        ...


class QueryLog(Protocol):
    """Where the questions of a window come from: the service's event log (wired in by the CLI)."""

    def unanswered(self, start: datetime, end: datetime) -> list[str]:
        """Masked queries asked in ``[start, end)`` that were not auto-answered, oldest first."""
        ...
