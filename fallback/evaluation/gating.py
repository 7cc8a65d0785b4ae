"""Offline evaluation and calibration of the gate on labelled data (``backstop eval gating``, ``calibrate``).

Intent files: the index split (train) becomes approved answers, one per label with its texts as keys,
stored through the real store and indexed by the real ``AnswerIndex``; held-out queries go through the
real ``gating.rank``/``gating.decide``. The calibration (logistic model on retrieval features) and its
thresholds are fitted on the val/dev split, or cross-fitted on halves of the test split when the file
has none, and the figures are reported on the test split only.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from fallback.core import gating
from fallback.core.domain import Action, AnswerCandidate, Ranked
from fallback.core.gating import Calibration, Policy
from fallback.evaluation.datasets import OOS, IntentExample, PairExample
from fallback.retrieval.answer_index import AnswerIndex
from fallback.settings import IndexSettings
from fallback.store import answers as answers_repo
from fallback.store.db import Database
from models.ports import Embedder, embedder_identity

log = logging.getLogger(__name__)
Progress = Callable[[str], None]


@dataclass
class Replay:
    """Features and outcomes of replayed queries."""

    features: np.ndarray  # [n, 3]
    correct: np.ndarray  # bool [n]: top answer's label == gold (never for oos)
    in_scope: np.ndarray  # bool [n]
    top_score: np.ndarray  # [n]


def _split_names(rows: Sequence[IntentExample]) -> tuple[str, str | None, str]:
    splits = {r.split for r in rows}
    index = "train" if "train" in splits else next((s for s in ("dev", "val") if s in splits), "")
    if not index:
        raise ValueError(f"no train/dev/val split to build answers from (splits: {sorted(splits)})")
    test = "test" if "test" in splits else ""
    if not test:
        raise ValueError(f"no test split to replay (splits: {sorted(splits)})")
    calib = next((s for s in ("val", "dev") if s in splits and s != index), None)
    return index, calib, test


class IntentBench:
    """Approved answers from one labelled file, indexed for replay."""

    def __init__(
        self,
        rows: Sequence[IntentExample],
        embedder: Embedder,
        workdir: Path,
        *,
        vote_k: int = 10,
        varied_keys: bool = False,
        seed: int = 0,
    ):
        """Args:
        varied_keys: give each answer a random number of its texts as keys (1, 2, 3, 5, 10, 20 or
            all), as in production where an answer starts with one key and gains paraphrases;
            used for calibration so the model does not learn that every answer has 100 keys.
        """
        self.embedder = embedder
        self.vote_k = vote_k
        self.index_split, self.calib_split, self.test_split = _split_names(rows)
        by_label: dict[str, list[str]] = {}
        for r in rows:
            if r.split == self.index_split and r.label != OOS:
                texts = by_label.setdefault(r.label, [])
                if r.text not in texts:
                    texts.append(r.text)
        if varied_keys:
            rng = np.random.default_rng(seed)
            for label, texts in by_label.items():
                k = int(rng.choice([1, 2, 3, 5, 10, 20, len(texts)]))
                picked = rng.permutation(len(texts))[:k]
                by_label[label] = [texts[i] for i in sorted(picked)]
        self.db = Database.connect(f"sqlite:///{workdir / 'eval.db'}")

        def create_answers(s: Any) -> dict[int, str]:
            out = {}
            for label, texts in by_label.items():
                a = answers_repo.create(
                    s,
                    question=texts[0],
                    text=f"[{label}]",
                    keys=texts[1:],
                    actor="eval",
                    safe_to_autosend=True,
                    label=label,
                )
                out[a.id] = label
            return out

        self.by_label = by_label
        self.label_of: dict[int, str] = self.db.run(create_answers)
        self.index = AnswerIndex(embedder, self.db, workdir / "index", IndexSettings())
        self.index.open()
        self.rows = rows

    def replay(self, examples: Sequence[IntentExample]) -> Replay:
        """Embed the queries in batches and retrieve for each through the real index and ``rank``."""
        vectors = self.embedder.encode([e.text for e in examples])
        feats: list[tuple[float, ...]] = []
        correct: list[bool] = []
        top: list[float] = []
        hits = self.index.search_batch(vectors, max(self.vote_k, 10))
        for e, matches in zip(examples, hits, strict=True):
            ranked = gating.rank(matches, self.vote_k)
            f = ranked.features
            if f is None:
                feats.append((0.0,) * 5)
                correct.append(False)
                top.append(0.0)
                continue
            feats.append(f.as_tuple())
            correct.append(e.label != OOS and self.label_of[ranked.answers[0][0]] == e.label)
            top.append(f.top_score)
        return Replay(
            np.asarray(feats, dtype=np.float64),
            np.asarray(correct),
            np.asarray([e.label != OOS for e in examples]),
            np.asarray(top),
        )

    def split(self, name: str, limit: int | None = None, seed: int = 0) -> list[IntentExample]:
        picked = [r for r in self.rows if r.split == name]
        if limit is not None and len(picked) > limit:
            rng = np.random.default_rng(seed)
            picked = [picked[i] for i in sorted(rng.choice(len(picked), limit, replace=False))]
        return picked


OOS_PRIOR = 0.3


def oos_weights(in_scope: np.ndarray, prior: float = OOS_PRIOR) -> np.ndarray:
    """Sample weights that make out-of-scope queries ``prior`` of the mass.

    Queries reach the fallback precisely because the bot did not recognise them, so production
    traffic holds far more out-of-scope queries than a benchmark's val split (CLINC150: 3%). Fitting
    and picking thresholds at a realistic share keeps the precision promise on unseen traffic.
    """
    w = np.ones(len(in_scope), dtype=np.float64)
    n_in, n_oos = int(in_scope.sum()), int((~in_scope).sum())
    if n_oos and n_in:
        w[~in_scope] = prior / (1 - prior) * n_in / n_oos
    return w


def fit_calibration(
    replays: Sequence[Replay],
    embedder: str,
    *,
    target_precision: float,
    source: str,
    vote_k: int = 10,
    oos_prior: float = OOS_PRIOR,
) -> Calibration:
    """Fit the logistic model on pooled replays and pick the thresholds on them."""
    from sklearn.linear_model import LogisticRegression

    x = np.vstack([r.features for r in replays])
    y = np.concatenate([r.correct for r in replays])
    w = np.concatenate([oos_weights(r.in_scope, oos_prior) for r in replays])
    if y.all() or not y.any():
        raise ValueError("calibration data needs both right and wrong top answers")
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=1.0, max_iter=1000).fit((x - mean) / scale, y, sample_weight=w)
    cal = Calibration(
        embedder=embedder,
        mean=tuple(map(float, mean)),
        scale=tuple(map(float, scale)),
        coef=tuple(map(float, model.coef_[0])),
        intercept=float(model.intercept_[0]),
        answer_threshold=0.99,
        suggest_threshold=0.5,
        grouping_threshold=0.9,
        vote_k=vote_k,
        source=source,
    )
    conf = np.array([cal.confidence(_feat(f)) for f in x])
    top = np.concatenate([r.top_score for r in replays])
    return replace(
        cal,
        answer_threshold=choose_threshold(conf, y, target_precision, w),
        suggest_threshold=float(min(0.5, choose_threshold(conf, y, target_precision, w))),
        grouping_threshold=choose_threshold(top, y, 0.95, w),
    )


def _feat(row: np.ndarray) -> Any:
    from fallback.core.domain import Features

    top, margin, vote, sharp, support = (float(v) for v in row[:5])
    return Features(top, margin, vote, sharp, support)


def choose_threshold(
    score: np.ndarray, correct: np.ndarray, target: float, weights: np.ndarray | None = None, z: float = 2.33
) -> float:
    """The lowest score whose top-ranked set keeps precision >= ``target`` with 99% confidence.

    Precision is the weighted share of correct answers above the threshold; it must hold at the
    one-sided Wilson lower bound (``z``), computed on the effective sample size of the weights, so a
    threshold picked on a few hundred calibration queries keeps its promise on unseen ones.
    """
    order = np.argsort(-score, kind="stable")
    s, c = score[order], correct[order].astype(np.float64)
    w = np.ones_like(c) if weights is None else np.asarray(weights, dtype=np.float64)[order]
    sw, sw2 = np.cumsum(w), np.cumsum(w * w)
    p = np.cumsum(c * w) / sw
    n = sw * sw / sw2  # effective sample size
    centre = p + z * z / (2 * n)
    margin = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    prec = (centre - margin) / (1 + z * z / n)
    ok = np.nonzero(prec >= target)[0]
    if len(ok) == 0:
        return float(min(1.0, s[0] + 1e-6)) if len(s) else 1.0
    k = int(ok[-1])
    if k + 1 < len(s) and s[k + 1] == s[k]:  # ties: a tied block is all in or all out
        start = int(np.searchsorted(-s, -s[k], side="left"))
        if start == 0:
            return float(s[0] + 1e-6)
        k = start - 1
    return float(s[k])


def gate_metrics(replay: Replay, cal: Calibration, policy: Policy) -> dict[str, float]:
    """Run the real ``gating.decide`` over replayed features and score the outcome."""
    now = datetime.now(UTC)
    stub = AnswerCandidate(answer_id=1, text="", safe_to_autosend=True)
    answered = np.zeros(len(replay.correct), dtype=bool)
    for i, row in enumerate(replay.features):
        ranked = Ranked(answers=((1, float(row[0])),), features=_feat(row))
        d = gating.decide(ranked, stub, calibration=cal, policy=policy, now=now)
        answered[i] = d.action == Action.ANSWER
    n_in, n_oos = int(replay.in_scope.sum()), int((~replay.in_scope).sum())
    right = answered & replay.correct
    return {
        "precision": float(right.sum() / answered.sum()) if answered.any() else 1.0,
        "coverage": float((answered & replay.in_scope).sum() / n_in) if n_in else 0.0,
        "correct_coverage": float(right.sum() / n_in) if n_in else 0.0,
        "oos_recall": float(1 - (answered & ~replay.in_scope).sum() / n_oos) if n_oos else 1.0,
        "answered": int(answered.sum()),
        "wrong": int((answered & ~replay.correct).sum()),
    }


def evaluate_intents(
    rows: Sequence[IntentExample],
    embedder: Embedder,
    *,
    target_precision: float = 0.99,
    min_confidence: float = 0.8,
    limit: int | None = None,
    seed: int = 0,
    curve: bool = False,
    progress: Progress = lambda _m: None,
    varied_keys: bool = False,
    calibration: Calibration | None = None,
    scorer: str = "vote",
) -> tuple[dict[str, Any], Calibration, Replay]:
    """The ``eval gating`` figures for an intent file (see module docstring).

    With ``calibration`` given (e.g. the bundled one), nothing is fitted: it is applied as shipped.
    ``scorer="learned"`` also trains the learned scorer on the index split (``fallback.evaluation.learned``)
    and reports its figures at the top level, the vote's under ``"vote"``.
    """
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="backstop-eval-") as tmp:
        progress("indexing approved answers")
        bench = IntentBench(rows, embedder, Path(tmp), varied_keys=varied_keys, seed=seed)
        progress(f"replaying {bench.test_split}")
        test = bench.replay(bench.split(bench.test_split, limit, seed))
        identity = embedder_identity(embedder)
        if calibration is not None:
            cal, cal_replay = calibration, test
            metrics = gate_metrics(
                test, cal, Policy(cal.answer_threshold, cal.suggest_threshold, min_confidence)
            )
        elif bench.calib_split:
            progress(f"calibrating on {bench.calib_split}")
            cal_replay = bench.replay(bench.split(bench.calib_split, limit, seed))
            cal = fit_calibration(
                [cal_replay], identity, target_precision=target_precision, source=f"{bench.calib_split} split"
            )
            policy = Policy(cal.answer_threshold, cal.suggest_threshold, min_confidence)
            metrics = gate_metrics(test, cal, policy)
        else:  # cross-fit on halves of test: never score a query the calibration saw
            cal_replay = test
            rng = np.random.default_rng(seed)
            half = rng.permutation(len(test.correct)) < len(test.correct) // 2
            parts = []
            for fit_mask in (half, ~half):
                fit = _subset(test, fit_mask)
                cal = fit_calibration([fit], identity, target_precision=target_precision, source="cross-fit")
                policy = Policy(cal.answer_threshold, cal.suggest_threshold, min_confidence)
                parts.append((gate_metrics(_subset(test, ~fit_mask), cal, policy), int((~fit_mask).sum())))
            metrics = _pool(parts)
            cal = fit_calibration([test], identity, target_precision=target_precision, source="test (pooled)")
        learned = None
        if scorer == "learned" and calibration is None:
            from fallback.evaluation.learned import evaluate_learned

            progress("training the learned scorer on the approved keys")
            calib = bench.split(bench.calib_split, limit, seed) if bench.calib_split else []
            learned = evaluate_learned(
                bench, bench.split(bench.test_split, limit, seed), calib, targets=(target_precision,)
            )
        bench.db.dispose()
    top1 = float(test.correct[test.in_scope].mean()) if test.in_scope.any() else 0.0
    out: dict[str, Any] = {
        "precision": round(metrics["precision"], 4),
        "coverage": round(metrics["coverage"], 4),
        "oos_recall": round(metrics["oos_recall"], 4),
        "threshold": round(cal.answer_threshold, 4),
        "correct_coverage": round(metrics["correct_coverage"], 4),
        "top1_accuracy": round(top1, 4),
        "answered": metrics["answered"],
        "wrong": metrics["wrong"],
        "n_test": len(test.correct),
        "n_oos": int((~test.in_scope).sum()),
        "calibration": cal.source,
        "target_precision": target_precision,
        "embedder": identity,
        "seconds": round(time.perf_counter() - started, 1),
    }
    if curve:
        out["curve"] = sweep(test, cal, min_confidence)
    if learned is not None:
        _with_learned(out, learned, target_precision)
    out["seconds"] = round(time.perf_counter() - started, 1)
    return out, cal, cal_replay


def _with_learned(out: dict[str, Any], learned: dict[str, Any], target: float) -> None:
    """Add the learned scorer's figures; its figures at ``target`` become the top-level ones."""
    kept = ("precision", "coverage", "oos_recall", "threshold", "answered", "wrong", "correct_coverage",
            "calibration")
    out["vote"] = {k: out[k] for k in kept}
    out["learned"] = learned
    at = learned["coverage_at_precision"][str(target)]
    out.update({k: at[k] for k in ("precision", "coverage", "oos_recall", "answered", "wrong")})
    out["threshold"] = at["threshold"]
    out["correct_coverage"] = round(at["coverage"] * at["precision"], 4)
    out["calibration"] = learned["calibrated_on"]
    out["scorer"] = "learned"



def _subset(r: Replay, mask: np.ndarray) -> Replay:
    return Replay(r.features[mask], r.correct[mask], r.in_scope[mask], r.top_score[mask])


def _pool(parts: list[tuple[dict[str, float], int]]) -> dict[str, float]:
    total = sum(n for _, n in parts)
    pooled = {
        k: sum(m[k] * n for m, n in parts) / total
        for k in ("precision", "coverage", "oos_recall", "correct_coverage")
    }
    pooled["answered"] = sum(m["answered"] for m, _ in parts)
    pooled["wrong"] = sum(m["wrong"] for m, _ in parts)
    return pooled


def sweep(test: Replay, cal: Calibration, min_confidence: float) -> list[dict[str, float]]:
    """Precision / coverage / OOS recall across answer thresholds (``--curve``)."""
    out = []
    for t in (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97, 0.98, 0.99, 0.995, 0.999):
        m = gate_metrics(test, cal, Policy(t, min(t, cal.suggest_threshold), min(min_confidence, t)))
        out.append({"threshold": t, **{k: round(float(v), 4) for k, v in m.items()}})
    return out


def evaluate_pairs(
    rows: Sequence[PairExample],
    embedder: Embedder,
    *,
    target_precision: float = 0.9,
    limit: int | None = None,
    seed: int = 0,
    curve: bool = False,
) -> dict[str, Any]:
    """AUC and the operating point for a question-pair file (threshold fitted on dev, scored on test)."""
    from sklearn.metrics import roc_auc_score

    started = time.perf_counter()
    splits = {r.split for r in rows}
    test_name = "test" if "test" in splits else sorted(splits)[0]
    fit_name = next((s for s in ("dev", "val", "train") if s in splits and s != test_name), None)

    def scores(split: str) -> tuple[np.ndarray, np.ndarray]:
        picked = [r for r in rows if r.split == split]
        if limit is not None and len(picked) > limit:
            rng = np.random.default_rng(seed)
            picked = [picked[i] for i in sorted(rng.choice(len(picked), limit, replace=False))]
        a = embedder.encode([r.q1 for r in picked])
        b = embedder.encode([r.q2 for r in picked])
        return np.sum(a * b, axis=1), np.asarray([r.label == 1 for r in picked])

    s_test, y_test = scores(test_name)
    s_fit, y_fit = scores(fit_name) if fit_name else (s_test, y_test)
    thr = choose_threshold(s_fit, y_fit, target_precision)
    pred = s_test >= thr
    tp = int((pred & y_test).sum())
    out: dict[str, Any] = {
        "auc": round(float(roc_auc_score(y_test, s_test)), 4),
        "precision": round(tp / int(pred.sum()), 4) if pred.any() else 1.0,
        "recall": round(tp / int(y_test.sum()), 4) if y_test.any() else 0.0,
        "threshold": round(thr, 5),
        "target_precision": target_precision,
        "n_test": len(y_test),
        "fitted_on": fit_name or "test",
        "embedder": embedder_identity(embedder),
        "seconds": round(time.perf_counter() - started, 1),
    }
    if curve:
        qs = np.quantile(s_test, np.linspace(0.05, 0.95, 19))
        out["curve"] = [
            {
                "threshold": round(float(t), 5),
                "precision": round(float((y_test & (s_test >= t)).sum() / max(1, (s_test >= t).sum())), 4),
                "recall": round(float((y_test & (s_test >= t)).sum() / max(1, y_test.sum())), 4),
            }
            for t in qs
        ]
    return out
