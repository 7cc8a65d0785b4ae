"""Replaying a labelled intent file through the learned scorer (``backstop eval gating``).

The scorer is trained on the index split's keys (what reviewers approved) and calibrated on them by
cross-fitting, plus the val/dev split when the file has one; the test split is never seen before it
is scored. Each precision target gets the threshold the calibration fitted for it, and the figures
are the test split's at that threshold (``coverage_at_precision``); ``oracle_coverage_at_precision``
reads the threshold off the test curve instead, an upper bound for comparison only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from fallback.core.normalize import normalize
from fallback.evaluation.datasets import OOS, IntentExample
from fallback.scoring.classifier import AnswerClassifier
from fallback.scoring.training import (
    TARGETS,
    CalibrationPool,
    TrainingKey,
    TrainOptions,
    pool_rows,
    train_scorer,
)

if TYPE_CHECKING:
    from fallback.evaluation.gating import IntentBench


def evaluate_learned(
    bench: IntentBench,
    test: Sequence[IntentExample],
    calib: Sequence[IntentExample],
    *,
    targets: Sequence[float] = TARGETS,
    options: TrainOptions | None = None,
) -> dict[str, Any]:
    """Train, calibrate and score; one JSON-ready dict (see module docstring)."""
    targets = tuple(sorted(set(targets) | set(TARGETS), reverse=True))
    answer_of = {label: a for a, label in bench.label_of.items()}
    keys = [
        TrainingKey(normalize(t), answer_of[label]) for label, texts in bench.by_label.items() for t in texts
    ]
    vectors = np.asarray(bench.embedder.encode([k.text for k in keys]), dtype=np.float32)
    options = replace(options or TrainOptions(), targets=targets)
    full = AnswerClassifier.fit([k.text for k in keys], vectors, [k.answer_id for k in keys], c=options.c)
    extra = _pool(full, bench, calib, answer_of) if calib else None  # the dev split, scored by it
    scorer, report = train_scorer(keys, vectors, options, extra=extra, classifier=full)
    texts = [normalize(e.text) for e in test]
    qv = np.asarray(bench.embedder.encode(texts), dtype=np.float32)
    scored = scorer.score(texts, qv, bench.index.search_batch(qv, 10))
    pred = np.array([bench.label_of.get(a, "") for a, _ in scored])
    conf = np.array([c for _, c in scored])
    gold = np.array([e.label for e in test])
    in_scope = gold != OOS
    correct = (pred == gold) & in_scope
    at: dict[str, Any] = {}
    oracle: dict[str, float] = {}
    for t in targets:
        thr = scorer.threshold(t)
        at[str(t)] = _metrics(
            conf >= thr if thr is not None else np.zeros(len(conf), bool), correct, in_scope
        )
        at[str(t)]["threshold"] = round(thr, 5) if thr is not None else None
        oracle[str(t)] = _oracle(conf, correct, in_scope, t)
    return {
        "coverage_at_precision": at,
        "oracle_coverage_at_precision": oracle,
        "in_scope_accuracy": round(float(correct[in_scope].mean()), 4) if in_scope.any() else 0.0,
        "calibrated_on": "cross-fit on " + bench.index_split + (f" + {bench.calib_split}" if calib else ""),
        "train": report,
    }


def _pool(
    clf: AnswerClassifier, bench: IntentBench, rows: Sequence[IntentExample], answer_of: dict[str, int]
) -> CalibrationPool:
    texts = [normalize(e.text) for e in rows]
    v = np.asarray(bench.embedder.encode(texts), dtype=np.float32)
    gold = [answer_of.get(e.label) if e.label != OOS else None for e in rows]
    return pool_rows(clf, texts, v, bench.index.search_batch(v, 10), gold)


def _metrics(answered: np.ndarray, correct: np.ndarray, in_scope: np.ndarray) -> dict[str, Any]:
    n_in, n_oos = int(in_scope.sum()), int((~in_scope).sum())
    right = answered & correct
    return {
        "precision": round(float(right.sum() / answered.sum()), 4) if answered.any() else 1.0,
        "coverage": round(float((answered & in_scope).sum() / n_in), 4) if n_in else 0.0,
        "oos_recall": round(float(1 - (answered & ~in_scope).sum() / n_oos), 4) if n_oos else 1.0,
        "answered": int(answered.sum()),
        "wrong": int((answered & ~correct).sum()),
    }


def _oracle(conf: np.ndarray, correct: np.ndarray, in_scope: np.ndarray, target: float) -> float:
    order = np.argsort(-conf, kind="stable")
    prec = np.cumsum(correct[order]) / np.arange(1, len(order) + 1)
    ok = np.nonzero(prec >= target)[0]
    if not len(ok) or not in_scope.any():
        return 0.0
    return round(float((in_scope[order][: int(ok[-1]) + 1]).sum() / in_scope.sum()), 4)
