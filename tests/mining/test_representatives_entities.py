"""Diverse representatives and entity suggestions."""

from __future__ import annotations

import numpy as np
import pytest

from mining.entities import DETECTORS, slot_filling_prompt, suggest_entities
from mining.representatives import mmr_select

DETECTOR = {d.name: d for d in DETECTORS}


def test_mmr_picks_variants_instead_of_near_copies() -> None:
    rng = np.random.default_rng(0)
    base = np.zeros(16, dtype=np.float32)
    base[0] = 1.0
    copies = base + rng.normal(0, 0.01, size=(30, 16))  # 30 near-copies of one sentence
    variants = base * 0.8 + rng.normal(0, 0.3, size=(10, 16))  # 10 genuine paraphrases
    vectors = np.vstack([copies, variants]).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)

    picked = mmr_select(vectors, 20, diversity=0.5)
    central = list(np.argsort(-(vectors @ vectors.mean(axis=0)))[:20])

    assert len(picked) == len(set(picked)) == 20
    assert sum(i >= 30 for i in picked) >= 5  # half the paraphrases make it in...
    assert sum(i >= 30 for i in central) == 0  # ...where "most central" keeps only copies

    def max_pair(rows: list[int]) -> float:
        sims = vectors[rows] @ vectors[rows].T
        return float((sims - np.eye(len(rows)) * 2).max())

    assert np.mean(vectors[picked] @ vectors[picked].T) < np.mean(vectors[central] @ vectors[central].T)
    assert max_pair(picked) <= max_pair(central)


def test_mmr_returns_everything_for_small_clusters() -> None:
    vectors = np.eye(3, dtype=np.float32)
    assert sorted(mmr_select(vectors, 20)) == [0, 1, 2]
    assert mmr_select(np.zeros((0, 3), dtype=np.float32), 5) == []


@pytest.mark.parametrize(
    ("name", "text", "found"),
    [
        ("order_id", "订单号 202611270001234 怎么还没发货", True),
        ("order_id", "订单<ORDER_ID>退款", True),
        ("order_id", "我买了12345件", False),
        ("phone", "我的手机号13812345678", True),
        ("phone", "单号 213812345678901", False),
        ("phone", "联系电话 [PHONE]", True),
        ("amount", "退款￥59.90还没到", True),
        ("amount", "少退了20元", True),
        ("amount", "退款多久到账", False),
        ("size", "我平时穿XL", True),
        ("size", "38码的鞋", True),
        ("size", "有没有大号", True),
        ("size", "sms验证码", False),
        ("color", "有没有酒红色", True),
        ("color", "颜色好看吗", False),
    ],
)
def test_detectors(name: str, text: str, found: bool) -> None:
    assert DETECTOR[name].found_in(text) is found


def test_entities_are_suggested_by_traffic_share() -> None:
    texts = ["订单202611270001234的退款呢", "订单202611270009999退款没到", "退款多久到账", "退款20元少了"]
    counts = [3, 2, 4, 1]
    entities = {e.name: e for e in suggest_entities(texts, counts, min_share=0.1, required_share=0.5)}
    assert set(entities) == {"order_id", "amount"}
    assert entities["order_id"].share == pytest.approx(0.5) and entities["order_id"].required
    assert not entities["amount"].required


def test_slot_filling_prompt_is_chinese_and_lists_required_first() -> None:
    entities = suggest_entities(["订单202611270001234 手机13812345678", "订单202611270001235"], min_share=0.1)
    prompt = slot_filling_prompt(entities)
    assert prompt.startswith("为了尽快帮您处理，请提供订单号")
    assert "手机号" in prompt
    assert slot_filling_prompt([]) == ""
