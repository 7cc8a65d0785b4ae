"""Plain data types of the online path. No I/O, no third-party imports."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Action(StrEnum):
    """What the bot is told to do."""

    ANSWER = "answer"
    PENDING_REVIEW = "pending_review"
    HANDOFF = "handoff"
    BLOCKED = "blocked"


@dataclass(frozen=True)
class KeyMatch:
    """One retrieved key (canonical question or paraphrase) of an approved answer."""

    key_id: int
    answer_id: int
    score: float  # cosine similarity in [-1, 1]
    text: str = ""


@dataclass(frozen=True)
class AnswerCandidate:
    """An approved answer as the gate sees it."""

    answer_id: int
    text: str
    active: bool = True
    safe_to_autosend: bool = False
    valid_from: datetime | None = None
    valid_until: datetime | None = None

    def live_at(self, now: datetime) -> bool:
        """Active and inside its validity window at ``now``."""
        if not self.active:
            return False
        if self.valid_from is not None and now < self.valid_from:
            return False
        return not (self.valid_until is not None and now >= self.valid_until)


@dataclass(frozen=True)
class Features:
    """What the calibrated confidence is computed from (per query, for its best answer)."""

    top_score: float  # best key cosine of the best answer
    margin: float  # top_score minus the best key cosine of any *other* answer
    vote: float  # similarity-weighted share of the top-k keys that belong to the best answer
    sharp_vote: float = 0.0  # the same share with scale-free softmax weights (exp((s - s1) / std))
    support: float = 0.0  # mean of the best answer's top-3 key cosines (agreeing paraphrases)
    exact: bool = False  # the query equals a key of the best answer, and of no other answer

    def as_tuple(self) -> tuple[float, ...]:
        """The features in the order the calibration's coefficients use."""
        return (self.top_score, self.margin, self.vote, self.sharp_vote, self.support)


@dataclass(frozen=True)
class Ranked:
    """Key matches folded into answers: ``answers`` best first, with the best answer's features."""

    answers: tuple[tuple[int, float], ...]  # (answer_id, best key score), best first
    features: Features | None


@dataclass(frozen=True)
class Decision:
    """The gate's verdict."""

    action: Action
    reason: str
    confidence: float
    answer_id: int | None = None
    answer_text: str | None = None
    request_draft: bool = False
    risk_terms: tuple[str, ...] = ()
    banned_terms: tuple[str, ...] = ()
    extra: dict[str, object] = field(default_factory=dict)
