"""The gating policy: a pure function from retrieval results and policy to a decision.

Order of the rules (each one is a row in ``tests/fallback/test_gating.py``):

1. no approved answer near enough -> ``handoff`` (a draft is requested);
2. confidence below ``suggest_threshold`` -> ``handoff`` (draft requested);
3. confidence below the answer bar (``max(answer_threshold, min_confidence)``), or the best answer is
   retired / outside its validity window -> ``pending_review`` (draft requested);
4. the query and the matched key state different numbers -> ``pending_review``;
5. the query touches a risk topic (or looks like prompt injection) and the answer is not flagged safe
   to auto-send -> ``pending_review``;
6. the outgoing answer contains a banned (广告法) term -> ``blocked``;
7. otherwise ``answer``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from fallback.core.domain import Action, AnswerCandidate, Decision, Features, KeyMatch, Ranked


@dataclass(frozen=True)
class Calibration:
    """Maps retrieval features to P(best answer is right) with a logistic model fitted per embedder.

    ``mean``/``scale`` standardise the features; ``coef``/``intercept`` are the logistic weights.
    The thresholds are the operating points recommended by ``backstop calibrate`` for this embedder.
    """

    embedder: str
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    answer_threshold: float
    suggest_threshold: float
    grouping_threshold: float
    vote_k: int = 10
    source: str = ""

    def confidence(self, features: Features) -> float:
        """A probability in [0, 1] that the best answer is the right one.

        A query that equals (after ``normalize.cache_key``) a key of exactly one answer gets 1.0: a
        person approved that answer for that very question.
        """
        if features.exact:
            return 1.0
        z = self.intercept
        for x, m, s, w in zip(features.as_tuple(), self.mean, self.scale, self.coef, strict=True):
            z += w * (x - m) / (s if s > 0 else 1.0)
        if z >= 0:
            return 1.0 / (1.0 + math.exp(-z))
        e = math.exp(z)
        return e / (1.0 + e)


@dataclass(frozen=True)
class Verdict:
    """The learned scorer's judgement of one query (see ``fallback.scoring``).

    Attributes:
        answer_id: the answer it predicts.
        confidence: its calibrated P(that answer is right).
        threshold: the auto-answer threshold fitted for the precision target in force.
        version: the scorer version (logged with the decision).
    """

    answer_id: int
    confidence: float
    threshold: float
    version: int


@dataclass(frozen=True)
class Policy:
    """Thresholds the gate applies (already resolved from settings and calibration)."""

    answer_threshold: float
    suggest_threshold: float
    min_confidence: float = 0.8

    @property
    def answer_bar(self) -> float:
        """The confidence needed to auto-answer: never below ``min_confidence``."""
        return max(self.answer_threshold, self.min_confidence)


def rank(
    matches: Sequence[KeyMatch], vote_k: int = 10, exact_answers: frozenset[int] = frozenset()
) -> Ranked:
    """Fold key matches (any order) into answers and compute the best answer's features.

    ``exact_answers``: answers having a key equal to the query (the caller compares normalised text).
    """
    ordered = sorted(matches, key=lambda m: m.score, reverse=True)
    best: dict[int, float] = {}
    for m in ordered:
        if m.answer_id not in best:
            best[m.answer_id] = m.score
    answers = tuple(sorted(best.items(), key=lambda kv: kv[1], reverse=True))
    if not answers:
        return Ranked(answers=(), features=None)
    top_id, top_score = answers[0]
    # no other answer among the retrieved keys: the weakest retrieved score bounds the runner-up
    runner_up = answers[1][1] if len(answers) > 1 else ordered[-1].score
    window = ordered[:vote_k]
    vote = _share(window, [max(m.score, 0.0) for m in window], top_id)
    mean = sum(m.score for m in window) / len(window)
    spread = math.sqrt(sum((m.score - mean) ** 2 for m in window) / len(window)) + 1e-3
    sharp = _share(window, [math.exp((m.score - top_score) / spread) for m in window], top_id)
    mine = [m.score for m in ordered if m.answer_id == top_id][:3]
    support = sum(mine) / len(mine) if len(mine) == 3 else (sum(mine) + (3 - len(mine)) * min(mine)) / 3
    exact = exact_answers == frozenset({top_id})
    return Ranked(
        answers=answers, features=Features(top_score, top_score - runner_up, vote, sharp, support, exact)
    )


NUMBER = re.compile(r"\d+(?:\.\d+)?")


def numbers_conflict(query: str, key: str) -> bool:
    """Both texts state numbers and the sets differ (placeholders such as ``[手机号]`` hold none)."""
    q, k = set(NUMBER.findall(query)), set(NUMBER.findall(key))
    return bool(q) and bool(k) and q != k


def _share(window: Sequence[KeyMatch], weights: Sequence[float], answer_id: int) -> float:
    total = sum(weights)
    mine = sum(w for m, w in zip(window, weights, strict=True) if m.answer_id == answer_id)
    return mine / total if total > 0 else 0.0


def decide(
    ranked: Ranked,
    answer: AnswerCandidate | None,
    *,
    calibration: Calibration,
    policy: Policy,
    now: datetime,
    risk_terms: Sequence[str] = (),
    banned_terms: Sequence[str] = (),
    number_conflict: bool = False,
    verdict: Verdict | None = None,
) -> Decision:
    """Apply the gating rules.

    Args:
        ranked: the retrieval result for the (masked) query.
        answer: the best answer's record, or None when nothing was retrieved.
        calibration: turns features into a confidence.
        policy: thresholds.
        now: the current time (validity windows).
        risk_terms: risk-lexicon or injection hits found in the query and recent history.
        banned_terms: banned-word hits found in ``answer.text``.
        number_conflict: the query and the matched key both state numbers, and not the same ones
            (满99 vs 满199): embeddings barely see numbers, so such a match is never auto-sent.
        verdict: the learned scorer's judgement, when one is in force and knows the answers
            involved; ``answer`` must then be the answer it predicts. Its confidence replaces the
            vote's and its fitted threshold replaces ``answer_threshold`` (``min_confidence`` still
            applies). The caller leaves it out for an exact repeat of an approved key (confidence 1.0).
    """
    if ranked.features is None or answer is None:
        return Decision(Action.HANDOFF, "no_match", 0.0, request_draft=True, risk_terms=tuple(risk_terms))
    if verdict is not None and verdict.answer_id != answer.answer_id:
        raise ValueError("answer must be the one the verdict predicts")
    bar = policy.answer_bar
    if verdict is not None:
        conf = verdict.confidence
        bar = max(verdict.threshold, policy.min_confidence)
    else:
        conf = calibration.confidence(ranked.features)
    risk = tuple(risk_terms)

    def review(reason: str) -> Decision:
        return Decision(
            Action.PENDING_REVIEW, reason, conf, answer.answer_id, request_draft=True, risk_terms=risk
        )

    if conf < policy.suggest_threshold:
        return Decision(
            Action.HANDOFF, "low_confidence", conf, answer.answer_id, request_draft=True, risk_terms=risk
        )
    if conf < bar:
        return review("below_answer_threshold")
    if not answer.live_at(now):
        return review("answer_not_live")
    if number_conflict:
        return review("number_mismatch")
    if risk and not answer.safe_to_autosend:
        return review("risk_topic")
    if banned_terms:
        return Decision(
            Action.BLOCKED,
            "banned_words",
            conf,
            answer.answer_id,
            risk_terms=risk,
            banned_terms=tuple(banned_terms),
        )
    return Decision(
        Action.ANSWER, "matched", conf, answer.answer_id, answer_text=answer.text, risk_terms=risk
    )
