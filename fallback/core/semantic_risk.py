"""The semantic risk layer: a query's embedding judged against exemplar sentences of each risk category.

A lexicon only knows its words ("赔偿", "投诉"); a customer writes "这损失谁来承担" or "把你们领导叫来".
This layer learns what each risk category sounds like from exemplar sentences
(``fallback/core/lexicons/risk_exemplars_zh.txt``: 赔偿, 投诉, 法律, 医疗, 人身安全, 金融 and
model steering), written in the words nobody listed, next to a contrast set of ordinary shop questions.

How it decides (measured in ``scripts/calibrate_semantic_risk.py``, see docs/gating.md):

* A multinomial logistic regression over the exemplars' embeddings (one class per risk category plus
  ``ordinary``), fitted when the checker is built, from the running embedder's vectors. The first
  version compared a query with its nearest exemplars (top-k cosine, minus the nearest ordinary
  questions); on the template suite in ``tests/fallback/risk_suite.py`` it needed a false-positive rate
  of about 22% on harmless questions for a held-out recall of 0.98. The regression, fitted on the same
  sentences, weighs the directions that separate risk from shop talk and needed about 4%.
* The score is ``P(risky) = 1 - P(ordinary)``, in 0..1; a query at or above the threshold gets the label
  ``semantic:<category>`` of its most probable risk category.
* The threshold is measured, not guessed: the lowest score the tune split of the risk suite must reach
  for a recall of at least 0.98, stored per embedder in ``risk_thresholds.json`` with the digest of the
  exemplar file it was measured with. For an embedder (or exemplar file) without a measured threshold,
  :func:`cross_validated_threshold` measures one on the exemplars themselves (k-fold: each fold's risk
  exemplars scored by a model fitted without them).

Pure numpy: the vectors come from whoever builds the checker (:func:`fallback.runtime.build_safety`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from os import PathLike
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

__all__ = [
    "EXEMPLARS_RESOURCE",
    "ORDINARY",
    "THRESHOLDS_RESOURCE",
    "ExemplarRiskChecker",
    "MeasuredFit",
    "RiskExemplars",
    "cross_validated_threshold",
    "load_measured",
]

EXEMPLARS_RESOURCE: Final = "risk_exemplars_zh.txt"
THRESHOLDS_RESOURCE: Final = "risk_thresholds.json"
ORDINARY: Final = "ordinary"
_PACKAGE: Final = "fallback.core.lexicons"
_SECTION = re.compile(r"\[([a-z_]+)\]")

Matrix = npt.NDArray[np.float32]


@dataclass(frozen=True)
class RiskExemplars:
    """Exemplar sentences per risk category, and the ordinary questions they are told apart from.

    Attributes:
        categories: Risk category name -> its sentences, in file order.
        ordinary: Everyday shop questions (the contrast set; raises no label).
    """

    categories: Mapping[str, tuple[str, ...]]
    ordinary: tuple[str, ...]

    @classmethod
    def parse(cls, content: str) -> RiskExemplars:
        """Read the text of an exemplar file.

        Args:
            content: ``[name]`` starts a section, one sentence per line, ``#`` starts a comment, blank
                lines are skipped; the section ``[ordinary]`` is the contrast set.

        Returns:
            The exemplars.

        Raises:
            ValueError: A sentence before the first section, a repeated section, no risk category,
                no ordinary sentence, or a section without sentences.
        """
        sections: dict[str, list[str]] = {}
        current: list[str] | None = None
        for number, raw in enumerate(content.splitlines(), 1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            if m := _SECTION.fullmatch(line):
                if m.group(1) in sections:
                    raise ValueError(f"line {number}: section [{m.group(1)}] appears twice")
                current = sections.setdefault(m.group(1), [])
            elif current is None:
                raise ValueError(f"line {number}: a sentence before the first [section]")
            else:
                current.append(line)
        ordinary = tuple(sections.pop(ORDINARY, ()))
        empty = [name for name, lines in sections.items() if not lines]
        if not sections or not ordinary or empty:
            raise ValueError(
                f"an exemplar file needs risk sections and an [{ORDINARY}] section, none empty "
                f"(empty: {empty})"
            )
        return cls({name: tuple(lines) for name, lines in sections.items()}, ordinary)

    @classmethod
    def load(cls, path: str | PathLike[str] | None = None) -> RiskExemplars:
        """Read a configured exemplar file, or the bundled ``risk_exemplars_zh.txt`` when ``path`` is None."""
        if path is None:
            return cls.parse((resources.files(_PACKAGE) / EXEMPLARS_RESOURCE).read_text(encoding="utf-8"))
        return cls.parse(Path(path).read_text(encoding="utf-8"))

    @property
    def digest(self) -> str:
        """A hash of the sentences and their sections (a measured threshold belongs to one digest)."""
        blob = json.dumps([sorted(self.categories.items()), self.ordinary], ensure_ascii=False)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]

    def texts(self) -> tuple[list[str], list[int], tuple[str, ...]]:
        """Every sentence, its class index and the class names (risk categories first, ``ordinary`` last)."""
        classes = (*self.categories, ORDINARY)
        texts: list[str] = []
        labels: list[int] = []
        for index, name in enumerate(classes):
            lines = self.ordinary if name == ORDINARY else self.categories[name]
            texts.extend(lines)
            labels.extend([index] * len(lines))
        return texts, labels, classes


def _as_matrix(vectors: Any) -> Matrix:
    arr = np.asarray(vectors, dtype=np.float32)
    return arr.reshape(1, -1) if arr.ndim == 1 else arr


def _fit_softmax(
    x: Matrix, y: npt.NDArray[np.int64], classes: int, l2: float, steps: int
) -> tuple[Matrix, Matrix]:
    """Multinomial logistic regression, every class of equal total weight, by accelerated gradient descent.

    Deterministic (no random start, a fixed number of steps), so one exemplar file and one embedder
    always give one model, and the threshold measured for it applies.
    """
    n, d = x.shape
    counts = np.bincount(y, minlength=classes).astype(np.float64)
    weight = (n / (classes * counts))[y] / n  # balanced, summing to 1
    xb = np.hstack([x.astype(np.float64), np.ones((n, 1))])
    target = np.eye(classes)[y]
    # step 1/L, L bounding the curvature of the weighted cross-entropy (<= 1/2 of the data's) + l2
    lipschitz = 0.5 * float(np.linalg.norm(xb * np.sqrt(weight)[:, None], 2) ** 2) + l2
    step = 1.0 / lipschitz
    w = np.zeros((d + 1, classes))
    prev = w
    for t in range(1, steps + 1):
        look = w + (t - 1) / (t + 2) * (w - prev)
        z = xb @ look
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        grad = xb.T @ ((p - target) * weight[:, None])
        grad[:-1] += l2 * look[:-1]  # the bias is not penalised
        prev, w = w, look - step * grad
    return w[:-1].astype(np.float32), w[-1].astype(np.float32)


class ExemplarRiskChecker:
    """Risk categories of a query's embedding, learned from exemplar sentences (a ``SemanticChecker``).

    Build one with :meth:`fit`. Instances are immutable and safe to share between threads.
    """

    __slots__ = ("_bias", "_categories", "_threshold", "_weights")

    def __init__(self, weights: Matrix, bias: Matrix, categories: Sequence[str], threshold: float) -> None:
        """A fitted model: ``weights`` [dimension, categories + 1], the last column ``ordinary``.

        Raises:
            ValueError: Shapes that do not match the categories, or a threshold outside (0, 1].
        """
        if weights.shape[1] != len(categories) + 1 or bias.shape != (len(categories) + 1,):
            raise ValueError("weights and bias need one column per risk category plus one for ordinary")
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], got {threshold}")
        self._weights, self._bias = weights, bias
        self._categories = tuple(categories)
        self._threshold = float(threshold)

    @classmethod
    def fit(
        cls,
        exemplars: RiskExemplars,
        vectors: Matrix,
        threshold: float | None = None,
        *,
        l2: float = 1e-3,
        steps: int = 600,
    ) -> ExemplarRiskChecker:
        """Fit the model on the exemplars' embeddings.

        Args:
            exemplars: The sentences.
            vectors: Their embeddings, one row per sentence in :meth:`RiskExemplars.texts` order.
            threshold: The score from which a query is risky; None measures one on the exemplars
                (:func:`cross_validated_threshold`).
            l2: Ridge penalty on the weights (scripts/calibrate_semantic_risk.py compares several).
            steps: Gradient steps.

        Returns:
            The checker.
        """
        _, labels, classes = exemplars.texts()
        x = _as_matrix(vectors)
        if x.shape[0] != len(labels):
            raise ValueError(f"{len(labels)} exemplars but {x.shape[0]} vectors")
        y = np.asarray(labels, dtype=np.int64)
        if threshold is None:
            threshold = cross_validated_threshold(x, y, len(classes), l2=l2, steps=steps)
        weights, bias = _fit_softmax(x, y, len(classes), l2, steps)
        return cls(weights, bias, classes[:-1], threshold)

    @property
    def categories(self) -> tuple[str, ...]:
        """The risk categories, in exemplar-file order."""
        return self._categories

    @property
    def threshold(self) -> float:
        """The ``P(risky)`` from which :meth:`signals` labels a query."""
        return self._threshold

    def with_threshold(self, threshold: float) -> ExemplarRiskChecker:
        """The same model with another threshold."""
        return ExemplarRiskChecker(self._weights, self._bias, self._categories, threshold)

    def probabilities(self, vectors: Any) -> Matrix:
        """Class probabilities [n, categories + 1] (``ordinary`` last) of one vector or a matrix of rows."""
        z = _as_matrix(vectors) @ self._weights + self._bias
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        return p / p.sum(axis=1, keepdims=True)  # type: ignore[no-any-return]

    def scores(self, vectors: Any) -> npt.NDArray[np.float32]:
        """``P(risky) = 1 - P(ordinary)`` of each row, in 0..1."""
        return 1.0 - self.probabilities(vectors)[:, -1]

    def signals(self, vector: Any) -> list[str]:
        """The label of the most probable risk category, when ``P(risky)`` reaches the threshold.

        Args:
            vector: A query's embedding (one row, or a vector).

        Returns:
            ``["semantic:<category>"]``, or empty (also for an empty vector). Labels hold no user text.
        """
        x = _as_matrix(vector)
        if x.size == 0:
            return []
        p = self.probabilities(x[:1])[0]
        if 1.0 - float(p[-1]) < self._threshold:
            return []
        return [f"semantic:{self._categories[int(np.argmax(p[:-1]))]}"]


def cross_validated_threshold(
    x: Matrix, y: npt.NDArray[np.int64], classes: int, *, recall: float = 0.98, folds: int = 5,
    l2: float = 1e-3, steps: int = 600,
) -> float:
    """A threshold measured on the exemplars alone, for an embedder nobody measured one for.

    Each fold's risk exemplars are scored by a model fitted without that fold; the threshold is the
    score that ``recall`` of those held-out risk sentences reach.

    Args:
        x: Exemplar embeddings.
        y: Their class indices (``classes - 1`` is ordinary).
        classes: Number of classes.
        recall: Share of held-out risk exemplars that must be flagged.
        folds: Number of folds (rows are dealt to folds in turn, so every class is in every fold).
        l2: As for :meth:`ExemplarRiskChecker.fit`.
        steps: As for :meth:`ExemplarRiskChecker.fit`.

    Returns:
        The threshold, in (0, 1).
    """
    held: list[float] = []
    order = np.argsort(y, kind="stable")
    fold_of = np.empty(len(y), dtype=np.int64)
    fold_of[order] = np.arange(len(y)) % folds
    for f in range(folds):
        train, test = fold_of != f, (fold_of == f) & (y != classes - 1)
        w, b = _fit_softmax(x[train], y[train], classes, l2, steps)
        z = x[test] @ w + b
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        held.extend((1.0 - p[:, -1]).tolist())
    return float(np.clip(np.quantile(held, 1.0 - recall), 1e-3, 1.0 - 1e-3))


@dataclass(frozen=True)
class MeasuredFit:
    """What scripts/calibrate_semantic_risk.py chose for one embedder and one exemplar file.

    Attributes:
        threshold: The ``P(risky)`` from which a query is risky.
        l2: The ridge penalty the threshold was measured with.
        steps: The gradient steps it was measured with.
    """

    threshold: float
    l2: float
    steps: int


def load_measured(model_id: str, digest: str, path: str | PathLike[str] | None = None) -> MeasuredFit | None:
    """The measured fit for an embedder and an exemplar file, or None when none was measured.

    Args:
        model_id: The embedder's identity (``models.ports.embedder_identity``).
        digest: :attr:`RiskExemplars.digest` of the exemplars in use.
        path: A thresholds file (the bundled ``risk_thresholds.json`` when None).

    Returns:
        The fit, or None when the file holds none for this embedder or it was measured on other
        exemplars.
    """
    if path is None:
        content = (resources.files(_PACKAGE) / THRESHOLDS_RESOURCE).read_text(encoding="utf-8")
    else:
        content = Path(path).read_text(encoding="utf-8")
    entry = json.loads(content).get("embedders", {}).get(model_id)
    if not entry or entry.get("exemplars_digest") != digest:
        return None
    return MeasuredFit(float(entry["threshold"]), float(entry["l2"]), int(entry["steps"]))
