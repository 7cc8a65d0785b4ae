"""Training the learned scorer on a shop's approved keys, with a cross-fitted, finite-sample calibration.

No query the calibration is judged on was seen by the classifier that scored it:

* the keys are split into folds; in fold *f* a share of the **answers** is left out entirely (their
  keys play the out-of-scope traffic that reaches a fallback: real questions the shop has no answer
  for) and a share of the remaining answers' keys is held out (in-scope paraphrases);
* a classifier trained on the rest scores the held-out keys, with neighbours from the rest;
* a logistic calibrator turns the pooled feature rows into P(right answer), itself cross-fitted on
  halves of the pool; the auto-answer threshold for each precision target is the lowest calibrated
  score whose answered set keeps that precision at the Clopper–Pearson lower bound (out-of-scope rows
  weighted to ``oos_prior`` of the traffic). A target no threshold can meet gets none: the gate then
  answers nothing automatically and says so.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
from scipy import sparse

from fallback.core.domain import KeyMatch
from fallback.scoring.bounds import precision_threshold
from fallback.scoring.classifier import AnswerClassifier
from fallback.scoring.features import NAMES, brute_matches, row_features

TARGETS = (0.99, 0.97, 0.95)


@dataclass(frozen=True)
class TrainingKey:
    """One approved key: its normalised text, its vector row and its answer."""

    text: str
    answer_id: int


@dataclass(frozen=True)
class TrainOptions:
    """Knobs of :func:`train_scorer` (the defaults are the measured ones, docs/gating.md)."""

    folds: int = 5
    oos_prior: float = 0.1
    delta: float = 0.05
    targets: tuple[float, ...] = TARGETS
    min_answers: int = 2
    seed: int = 0
    c: float = 10.0


@dataclass
class LearnedScorer:
    """A trained classifier, its calibrator and its thresholds: what the gate loads and serves."""

    classifier: AnswerClassifier
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    thresholds: dict[float, float | None]
    meta: dict[str, object] = field(default_factory=dict)

    def calibrated(self, rows: np.ndarray) -> np.ndarray:
        """P(right answer) for feature rows."""
        z = ((np.atleast_2d(rows) - self.mean) / self.scale) @ self.coef + self.intercept
        return np.asarray(1.0 / (1.0 + np.exp(-np.clip(z, -50, 50))), dtype=np.float64)

    def score(
        self, texts: Sequence[str], vectors: np.ndarray, matches: Sequence[Sequence[KeyMatch]]
    ) -> list[tuple[int, float]]:
        """(predicted answer id, confidence) for each query, given its neighbours from the live index."""
        if not texts:
            return []
        proba = self.classifier.proba(texts, vectors)
        q = self.classifier.tfidf(texts)
        out = []
        for i, (ms, keys) in enumerate(zip(matches, neighbour_ngrams(self.classifier, matches), strict=True)):
            pred, row = row_features(proba[i], self.classifier.classes, ms, q[i], keys)
            out.append((pred, float(self.calibrated(row)[0])))
        return out

    def threshold(self, target: float) -> float | None:
        """The auto-answer threshold fitted for ``target`` (None: the target cannot be met)."""
        return self.thresholds.get(round(target, 4))

    def to_bytes(self) -> bytes:
        """Serialise (arrays and JSON only, no pickle)."""
        buf = io.BytesIO()
        head = json.dumps(
            {
                "intercept": self.intercept,
                "thresholds": {str(k): v for k, v in self.thresholds.items()},
                "meta": self.meta,
            },
            ensure_ascii=False,
            default=str,
        )
        clf = self.classifier.to_bytes()
        np.savez_compressed(
            buf,
            mean=self.mean,
            scale=self.scale,
            coef=self.coef,
            head=np.frombuffer(head.encode(), np.uint8),
            classifier=np.frombuffer(clf, np.uint8),
        )
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, blob: bytes) -> LearnedScorer:
        """Load what :meth:`to_bytes` wrote."""
        with np.load(io.BytesIO(blob), allow_pickle=False) as z:
            head = json.loads(z["head"].tobytes().decode())
            return cls(
                classifier=AnswerClassifier.from_bytes(z["classifier"].tobytes()),
                mean=z["mean"],
                scale=z["scale"],
                coef=z["coef"],
                intercept=float(head["intercept"]),
                thresholds={float(k): v for k, v in head["thresholds"].items()},
                meta=head["meta"],
            )


def neighbour_ngrams(
    classifier: AnswerClassifier, matches: Sequence[Sequence[KeyMatch]]
) -> list[sparse.csr_matrix]:
    """The TF-IDF rows of each query's retrieved keys, with one transform for all distinct texts."""
    texts = list(dict.fromkeys(m.text for ms in matches for m in ms))
    if not texts:
        empty = sparse.csr_matrix((0, len(classifier.vectorizer.vocabulary_)), dtype=np.float32)
        return [empty for _ in matches]
    rows = classifier.tfidf(texts)
    at = {t: i for i, t in enumerate(texts)}
    return [rows[[at[m.text] for m in ms]] for ms in matches]


@dataclass
class CalibrationPool:
    """Cross-fitted feature rows with their outcomes (``in_scope`` False: the answer was left out)."""

    rows: np.ndarray
    correct: np.ndarray
    in_scope: np.ndarray

    def weights(self, prior: float) -> np.ndarray:
        """Weights that make the out-of-scope rows ``prior`` of the mass."""
        w = np.ones(len(self.correct))
        n_in, n_out = int(self.in_scope.sum()), int((~self.in_scope).sum())
        if n_in and n_out:
            w[~self.in_scope] = prior / (1 - prior) * n_in / n_out
        return w


def cross_fit_pool(
    keys: Sequence[TrainingKey], vectors: np.ndarray, options: TrainOptions
) -> CalibrationPool:
    """Feature rows of held-out keys and left-out answers, scored by classifiers that never saw them."""
    rng = np.random.default_rng(options.seed)
    answers = np.array([k.answer_id for k in keys], dtype=np.int64)
    texts = [k.text for k in keys]
    ids = np.unique(answers)
    answer_fold = dict(zip(ids.tolist(), (rng.permutation(len(ids)) % options.folds).tolist(), strict=True))
    key_fold = np.zeros(len(keys), dtype=np.int64)  # round robin within each answer: spread its keys
    for a in ids:
        where = np.nonzero(answers == a)[0]
        key_fold[where] = (rng.permutation(len(where)) + int(rng.integers(options.folds))) % options.folds
    count = {int(a): int(n) for a, n in zip(*np.unique(answers, return_counts=True), strict=True)}
    rows, correct, in_scope = [], [], []
    for f in range(options.folds):
        unseen = np.array([answer_fold[int(a)] == f for a in answers])
        held = (key_fold == f) & ~unseen & np.array([count[int(a)] >= 2 for a in answers])
        fit = ~unseen & ~held
        if len(np.unique(answers[fit])) < 2 or not (held | unseen).any():
            continue
        clf = AnswerClassifier.fit(
            [texts[i] for i in np.nonzero(fit)[0]], vectors[fit], answers[fit], c=options.c
        )
        fit_texts = [texts[i] for i in np.nonzero(fit)[0]]
        q = np.nonzero(held | unseen)[0]
        matches = brute_matches(vectors[q], vectors[fit], answers[fit], fit_texts)
        proba = clf.proba([texts[i] for i in q], vectors[q])
        qn = clf.tfidf([texts[i] for i in q])
        key_rows = neighbour_ngrams(clf, matches)
        for j, i in enumerate(q):
            ms = matches[j]
            pred, row = row_features(proba[j], clf.classes, ms, qn[j], key_rows[j])
            rows.append(row)
            correct.append(bool(held[i]) and pred == answers[i])
            in_scope.append(bool(held[i]))
    if not rows:
        return CalibrationPool(np.zeros((0, len(NAMES))), np.zeros(0, bool), np.zeros(0, bool))
    return CalibrationPool(np.vstack(rows), np.asarray(correct), np.asarray(in_scope))


def train_scorer(
    keys: Sequence[TrainingKey],
    vectors: np.ndarray,
    options: TrainOptions | None = None,
    *,
    extra: CalibrationPool | None = None,
    classifier: AnswerClassifier | None = None,
) -> tuple[LearnedScorer, dict[str, object]]:
    """Train on every key, calibrate on the cross-fitted pool (plus ``extra`` held-out rows, if any).

    ``classifier``: one already fitted on exactly these keys (it scored ``extra``), reused.
    Returns the scorer and a report: pool sizes, and per precision target the threshold and the
    share of the pool's in-scope rows it would answer (None where the bound cannot be met).
    """
    from sklearn.linear_model import LogisticRegression

    options = options or TrainOptions()
    started = time.perf_counter()
    vectors = np.asarray(vectors, dtype=np.float32)
    n_answers = len({k.answer_id for k in keys})
    if n_answers < options.min_answers:
        raise ValueError(
            f"the learned scorer needs at least {options.min_answers} answers (have {n_answers})"
        )
    pool = cross_fit_pool(keys, vectors, options)
    if extra is not None and len(extra.correct):
        pool = CalibrationPool(
            np.vstack([pool.rows, extra.rows]),
            np.r_[pool.correct, extra.correct],
            np.r_[pool.in_scope, extra.in_scope],
        )
    if pool.correct.all() or not pool.correct.any():
        raise ValueError("calibration needs both right and wrong held-out answers (too few keys per answer)")
    w = pool.weights(options.oos_prior)
    mean, scale = pool.rows.mean(axis=0), pool.rows.std(axis=0)
    scale[scale == 0] = 1.0
    x = (pool.rows - mean) / scale
    rng = np.random.default_rng(options.seed + 1)
    half = rng.permutation(len(x)) % 2 == 0
    held_out = np.zeros(len(x))
    for part in (half, ~half):  # the threshold is read off scores the calibrator did not fit
        lr = LogisticRegression(C=1.0, max_iter=1000).fit(
            x[~part], pool.correct[~part], sample_weight=w[~part]
        )
        held_out[part] = lr.predict_proba(x[part])[:, 1]
    lr = LogisticRegression(C=1.0, max_iter=1000).fit(x, pool.correct, sample_weight=w)
    thresholds: dict[float, float | None] = {}
    coverage: dict[str, float] = {}
    for t in sorted(set(options.targets)):
        thr = precision_threshold(held_out, pool.correct, t, weights=w, delta=options.delta)
        thresholds[round(t, 4)] = thr
        coverage[str(t)] = (
            round(float((held_out[pool.in_scope] >= thr).mean()), 4) if thr is not None else 0.0
        )
    clf = classifier or AnswerClassifier.fit(
        [k.text for k in keys], vectors, [k.answer_id for k in keys], c=options.c
    )
    report: dict[str, object] = {
        "keys": len(keys),
        "answers": n_answers,
        "pool_in_scope": int(pool.in_scope.sum()),
        "pool_out_of_scope": int((~pool.in_scope).sum()),
        "pool_accuracy": round(float(pool.correct[pool.in_scope].mean()), 4) if pool.in_scope.any() else 0.0,
        "thresholds": {str(k): (round(v, 5) if v is not None else None) for k, v in thresholds.items()},
        "pool_coverage": coverage,
        "delta": options.delta,
        "oos_prior": options.oos_prior,
        "seconds": round(time.perf_counter() - started, 1),
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    scorer = LearnedScorer(
        clf,
        mean,
        scale,
        lr.coef_[0].astype(np.float64),
        float(lr.intercept_[0]),
        thresholds,
        meta=dict(report),
    )
    return scorer, report


def pool_rows(
    classifier: AnswerClassifier,
    texts: Sequence[str],
    vectors: np.ndarray,
    matches: Sequence[Sequence[KeyMatch]],
    gold: Sequence[int | None],
) -> CalibrationPool:
    """Rows for held-out labelled queries scored by a trained classifier (``gold`` None: out of scope)."""
    proba = classifier.proba(texts, vectors)
    q = classifier.tfidf(texts)
    rows, correct = [], []
    for i, (ms, keys) in enumerate(zip(matches, neighbour_ngrams(classifier, matches), strict=True)):
        pred, row = row_features(proba[i], classifier.classes, ms, q[i], keys)
        rows.append(row)
        correct.append(gold[i] is not None and pred == gold[i])
    return CalibrationPool(np.vstack(rows), np.asarray(correct), np.asarray([g is not None for g in gold]))
