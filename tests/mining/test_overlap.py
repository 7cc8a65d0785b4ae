"""Overlap labels: new, merge_into, conflicts_with (退货 vs 退款)."""

from __future__ import annotations

import numpy as np
import pytest

from mining.keywords import JiebaTokenizer, token_profile
from mining.overlap import IntentProfile, OverlapThresholds, compare, jaccard, label_overlaps

TOKENIZER = JiebaTokenizer()
RETURN_EXAMPLES = ["我要退货", "怎么申请退货", "退货地址是什么", "退货流程是怎样的", "衣服不合适想退货"]
REFUND_EXAMPLES = ["我要退款", "怎么申请退款", "退款多久到账", "退款流程是怎样的", "不想要了想退款"]


def unit(*values: float) -> np.ndarray:
    v = np.asarray(values, dtype=np.float32)
    return v / np.linalg.norm(v)


def profile(name: str, texts: list[str], centroid: np.ndarray, action: str | None) -> IntentProfile:
    return IntentProfile(name, token_profile(texts, TOKENIZER), centroid, action)


def test_jaccard() -> None:
    assert jaccard(frozenset("ab"), frozenset("bc")) == pytest.approx(1 / 3)
    assert jaccard(frozenset(), frozenset()) == 0.0


def test_return_vs_refund_is_a_conflict_not_a_merge() -> None:
    existing = profile("order.return", RETURN_EXAMPLES, unit(1.0, 0.3, 0.0), "order.return")
    candidate = profile("order.refund", REFUND_EXAMPLES, unit(1.0, 0.35, 0.05), "order.refund")
    overlap = compare(candidate, existing, OverlapThresholds())
    assert overlap.cosine >= 0.8
    assert overlap.label == "conflicts_with:order.return"


def test_same_action_close_centroids_and_shared_words_merge() -> None:
    existing = profile("refund", REFUND_EXAMPLES, unit(1.0, 0.3, 0.0), "order.refund")
    candidate = profile(
        "order.refund", ["退款多久到账", "怎么申请退款", "退款流程"], unit(1.0, 0.32, 0.0), "order.refund"
    )
    assert compare(candidate, existing, OverlapThresholds()).label == "merge_into:refund"


def test_unrelated_intent_is_new_and_keeps_its_nearest_scores() -> None:
    existing = [profile("order.refund", REFUND_EXAMPLES, unit(1.0, 0.0, 0.0), "order.refund")]
    candidates = [profile("product.size", ["尺码怎么选", "穿多大码"], unit(0.1, 1.0, 0.0), "product.size")]
    (overlap,) = label_overlaps(candidates, existing)
    assert overlap.label == "new"
    assert overlap.jaccard < 0.2 and 0.0 < overlap.cosine < 0.8


def test_smaller_candidate_merges_into_the_larger_one() -> None:
    big = profile("logistics.inquiry", ["快递到哪了", "物流不更新", "快递几天到"], unit(0.0, 0.0, 1.0), None)
    small = profile("logistics.inquiry_2", ["快递到哪了呀", "物流怎么不更新"], unit(0.05, 0.0, 1.0), None)
    labels = [o.label for o in label_overlaps([big, small], [])]
    assert labels == ["new", "merge_into:logistics.inquiry"]


def test_conflict_outranks_merge() -> None:
    refund = profile("退款", REFUND_EXAMPLES, unit(1.0, 0.3, 0.0), "order.refund")
    returns = profile("退货", RETURN_EXAMPLES, unit(1.0, 0.31, 0.0), "order.return")
    candidate = profile("order.refund", REFUND_EXAMPLES, unit(1.0, 0.3, 0.0), "order.refund")
    (overlap,) = label_overlaps([candidate], [refund, returns])
    assert overlap.label == "conflicts_with:退货"
