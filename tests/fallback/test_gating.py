"""Table-driven tests of the pure gating policy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from fallback.core.domain import Action, AnswerCandidate, Features, KeyMatch, Ranked
from fallback.core.gating import Calibration, Policy, decide, numbers_conflict, rank

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
# identity-like calibration: confidence = sigmoid(40 * (top_score - 0.9)); the other features are ignored
CAL = Calibration(
    embedder="t",
    mean=(0.9, 0, 0, 0, 0),
    scale=(1.0,) * 5,
    coef=(40.0, 0, 0, 0, 0),
    intercept=0.0,
    answer_threshold=0.9,
    suggest_threshold=0.5,
    grouping_threshold=0.9,
)
POLICY = Policy(answer_threshold=0.9, suggest_threshold=0.5, min_confidence=0.8)


def ranked(score: float) -> Ranked:
    return Ranked(answers=((7, score),), features=Features(score, 0.1, 1.0))


ANS = AnswerCandidate(7, "您好，满99元包邮。")
SAFE = AnswerCandidate(7, "您好，退货请在订单页申请。", safe_to_autosend=True)
RETIRED = AnswerCandidate(7, "旧答案", active=False)
EXPIRED = AnswerCandidate(7, "双11活动", valid_until=NOW - timedelta(seconds=1))
NOT_YET = AnswerCandidate(7, "双12活动", valid_from=NOW + timedelta(days=1))

# (name, ranked, answer, risk, banned, expected action, expected reason, draft requested)
CASES = [
    ("confident match answers", ranked(1.0), ANS, (), (), Action.ANSWER, "matched", False),
    ("nothing retrieved hands off", Ranked((), None), None, (), (), Action.HANDOFF, "no_match", True),
    ("low confidence hands off", ranked(0.85), ANS, (), (), Action.HANDOFF, "low_confidence", True),
    (
        "middle band goes to review",
        ranked(0.93),
        ANS,
        (),
        (),
        Action.PENDING_REVIEW,
        "below_answer_threshold",
        True,
    ),
    ("risk topic is reviewed", ranked(1.0), ANS, ("退款",), (), Action.PENDING_REVIEW, "risk_topic", True),
    (
        "risk topic with safe answer answers",
        ranked(1.0),
        SAFE,
        ("退款",),
        (),
        Action.ANSWER,
        "matched",
        False,
    ),
    ("banned words are blocked", ranked(1.0), ANS, (), ("最低价",), Action.BLOCKED, "banned_words", False),
    (
        "risk beats banned",
        ranked(1.0),
        ANS,
        ("投诉",),
        ("最低价",),
        Action.PENDING_REVIEW,
        "risk_topic",
        True,
    ),
    (
        "retired answer is not served",
        ranked(1.0),
        RETIRED,
        (),
        (),
        Action.PENDING_REVIEW,
        "answer_not_live",
        True,
    ),
    (
        "expired answer is not served",
        ranked(1.0),
        EXPIRED,
        (),
        (),
        Action.PENDING_REVIEW,
        "answer_not_live",
        True,
    ),
    (
        "future answer is not served",
        ranked(1.0),
        NOT_YET,
        (),
        (),
        Action.PENDING_REVIEW,
        "answer_not_live",
        True,
    ),
]


@pytest.mark.parametrize(
    ("name", "r", "answer", "risk", "banned", "action", "reason", "draft"), CASES, ids=[c[0] for c in CASES]
)
def test_gate_table(name, r, answer, risk, banned, action, reason, draft) -> None:  # type: ignore[no-untyped-def]
    d = decide(r, answer, calibration=CAL, policy=POLICY, now=NOW, risk_terms=risk, banned_terms=banned)
    assert (d.action, d.reason, d.request_draft) == (action, reason, draft)
    assert 0.0 <= d.confidence <= 1.0
    if action == Action.ANSWER:
        assert d.answer_text == answer.text


def test_min_confidence_floor_overrides_a_lower_answer_threshold() -> None:
    lax = Policy(answer_threshold=0.3, suggest_threshold=0.2, min_confidence=0.8)
    # confidence = sigmoid(40 * -0.02) ~ 0.31: above the lax threshold, below the 0.8 floor
    d = decide(ranked(0.88), ANS, calibration=CAL, policy=lax, now=NOW)
    assert d.action == Action.PENDING_REVIEW and d.reason == "below_answer_threshold"


def test_confidence_is_monotonic_in_score() -> None:
    confs = [CAL.confidence(Features(s, 0.1, 1.0)) for s in (0.7, 0.8, 0.9, 0.95, 1.0)]
    assert confs == sorted(confs) and confs[0] < 0.01 and confs[-1] > 0.98


def test_rank_folds_keys_into_answers_with_margin_and_vote() -> None:
    matches = [KeyMatch(1, 10, 0.95), KeyMatch(2, 10, 0.93), KeyMatch(3, 20, 0.90), KeyMatch(4, 10, 0.5)]
    r = rank(list(reversed(matches)), vote_k=3)
    assert r.answers == ((10, 0.95), (20, 0.90))
    assert r.features is not None
    assert r.features.top_score == pytest.approx(0.95)
    assert r.features.margin == pytest.approx(0.05)
    assert r.features.vote == pytest.approx((0.95 + 0.93) / (0.95 + 0.93 + 0.90))


def test_rank_of_nothing() -> None:
    assert rank([]).features is None


def test_exact_key_match_of_one_answer_is_certain() -> None:
    matches = [KeyMatch(1, 10, 1.0, "怎么开发票"), KeyMatch(2, 20, 0.7, "运费")]
    r = rank(matches, exact_answers=frozenset({10}))
    assert r.features is not None and r.features.exact and CAL.confidence(r.features) == 1.0
    shared = rank(matches, exact_answers=frozenset({10, 20}))  # the same key text on two answers
    assert shared.features is not None and not shared.features.exact


@pytest.mark.parametrize(
    ("query", "key", "conflict"),
    [
        ("满199包邮吗", "满99包邮吗", True),
        ("满99包邮吗", "满99包邮吗", False),
        ("包邮吗", "满99包邮吗", False),  # the query states no number: nothing to contradict
        ("我的手机[手机号]收不到验证码", "收不到验证码怎么办", False),
        ("第1号直播间", "第0号直播间", True),
    ],
)
def test_numbers_conflict(query: str, key: str, conflict: bool) -> None:
    assert numbers_conflict(query, key) is conflict


def test_number_mismatch_goes_to_review() -> None:
    d = decide(ranked(1.0), ANS, calibration=CAL, policy=POLICY, now=NOW, number_conflict=True)
    assert (d.action, d.reason, d.request_draft) == (Action.PENDING_REVIEW, "number_mismatch", True)
