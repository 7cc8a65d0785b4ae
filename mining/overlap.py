"""Overlap of candidate intents with the bot's intents and with each other (pure: numpy only).

Two scores, both in ``[0, 1]``: token Jaccard of the intents' token profiles and cosine of their centroids.
Close intents with the same key action merge; close intents whose key actions differ (退货 vs 退款)
conflict: a bot that has one will mis-route the other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from mining.domain import Overlap


@dataclass(frozen=True)
class OverlapThresholds:
    """When two intents count as new, mergeable or conflicting.

    Attributes:
        new_jaccard: Below this token Jaccard (and below ``cosine``) a candidate is new.
        merge_jaccard: At or above this Jaccard the two share their wording whatever the centroids say.
        cosine: Centroid cosine at or above which two intents are close in meaning (merge).
        conflict_cosine: Centroid cosine at or above which two intents with different key actions are
            confusable (a conflict needs less closeness than a merge: 退货 and 退款 sit at ~.78 with USE).
    """

    new_jaccard: float = 0.2
    merge_jaccard: float = 0.5
    cosine: float = 0.8
    conflict_cosine: float = 0.7


@dataclass(frozen=True)
class IntentProfile:
    """What overlap checks compare: a name, frequent tokens, a unit centroid, the key action (if known)."""

    name: str
    tokens: frozenset[str]
    centroid: npt.NDArray[np.float32]
    action: str | None = None


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    """|a ∩ b| / |a ∪ b| (0 when both are empty)."""
    union = a | b
    return len(a & b) / len(union) if union else 0.0


def cosine(a: npt.NDArray[np.float32], b: npt.NDArray[np.float32]) -> float:
    """Cosine similarity clipped to ``[0, 1]`` (opposite directions are as unrelated as orthogonal)."""
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    if na == 0 or nb == 0:
        return 0.0
    return float(np.clip(np.dot(a, b) / (na * nb), 0.0, 1.0))


def compare(candidate: IntentProfile, other: IntentProfile, thresholds: OverlapThresholds) -> Overlap:
    """Label one pair: ``conflicts_with``, ``merge_into`` or ``new``, with both scores."""
    jac = jaccard(candidate.tokens, other.tokens)
    cos = cosine(candidate.centroid, other.centroid)
    related = cos >= thresholds.conflict_cosine or jac >= thresholds.new_jaccard
    different_action = (
        candidate.action is not None and other.action is not None and candidate.action != other.action
    )
    if related and different_action:
        return Overlap("conflicts_with", other.name, round(jac, 4), round(cos, 4))
    same = (cos >= thresholds.cosine and jac >= thresholds.new_jaccard) or jac >= thresholds.merge_jaccard
    if same:
        return Overlap("merge_into", other.name, round(jac, 4), round(cos, 4))
    return Overlap("new", None, round(jac, 4), round(cos, 4))


def _closeness(overlap: Overlap) -> tuple[int, float]:
    rank = {"new": 0, "merge_into": 1, "conflicts_with": 2}[overlap.kind]
    return rank, max(overlap.jaccard, overlap.cosine)


def label_overlaps(
    candidates: Sequence[IntentProfile],
    existing: Sequence[IntentProfile],
    thresholds: OverlapThresholds = OverlapThresholds(),
) -> list[Overlap]:
    """One overlap label per candidate (candidates in decreasing size order).

    Each candidate is compared with every existing intent and every *larger* candidate (listed before
    it), so of two near-identical candidates the smaller one is marked ``merge_into`` the larger.
    Conflicts outrank merges; among equals the closest intent wins. A candidate related to nothing is
    ``new`` and carries the scores of its closest intent for the reviewer.
    """
    out = []
    for i, candidate in enumerate(candidates):
        others = [*existing, *candidates[:i]]
        if not others:
            out.append(Overlap("new"))
            continue
        found = [compare(candidate, other, thresholds) for other in others]
        flagged = [o for o in found if o.kind != "new"]
        if flagged:
            out.append(max(flagged, key=_closeness))
        else:
            nearest = max(found, key=_closeness)
            out.append(Overlap("new", None, nearest.jaccard, nearest.cosine))
    return out
