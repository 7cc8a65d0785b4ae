"""A linear classifier over approved answers: character 1–3-gram TF-IDF next to the query's vector.

Character n-grams see what sentence embeddings blur (product words, 开发票 vs 开发票抬头, numbers,
typos), the dense vector sees paraphrases; one multinomial logistic regression over both is trained
on the approved keys, one class per answer. It is stored as plain arrays (no pickle).
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import sparse

NGRAMS = (1, 3)


class AnswerClassifier:
    """P(answer | query) over the answers it was trained on."""

    def __init__(self, vectorizer: Any, coef: np.ndarray, intercept: np.ndarray, classes: np.ndarray):
        """Build from fitted parts; use :meth:`fit` or :meth:`from_bytes`."""
        self.vectorizer = vectorizer
        self.coef = coef.astype(np.float32)
        self.intercept = intercept.astype(np.float32)
        self.classes = classes.astype(np.int64)
        self._position = {int(a): i for i, a in enumerate(self.classes)}

    @classmethod
    def fit(
        cls, texts: Sequence[str], vectors: np.ndarray, answer_ids: Sequence[int], *, c: float = 10.0
    ) -> AnswerClassifier:
        """Train on normalised key texts, their embedding vectors and their answers (>= 2 answers)."""
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        y = np.asarray(answer_ids, dtype=np.int64)
        if len(np.unique(y)) < 2:
            raise ValueError("the learned scorer needs keys of at least two answers")
        vec = TfidfVectorizer(analyzer="char", ngram_range=NGRAMS, sublinear_tf=True, dtype=np.float32)
        x = _join(vec.fit_transform(list(texts)), vectors)
        model = LogisticRegression(C=c, max_iter=300).fit(x, y)
        coef, intercept = model.coef_, model.intercept_
        if coef.shape[0] == 1:  # binary: sklearn keeps one row for class 1
            coef, intercept = np.vstack([-coef, coef]) / 2, np.r_[-intercept, intercept] / 2
        return cls(vec, coef, intercept, model.classes_)

    def knows(self, answer_id: int) -> bool:
        """Whether the answer was among the training classes."""
        return answer_id in self._position

    def tfidf(self, texts: Sequence[str]) -> sparse.csr_matrix:
        """L2-normalised character n-gram TF-IDF rows of ``texts``."""
        return self.vectorizer.transform(list(texts))

    def proba(self, texts: Sequence[str], vectors: np.ndarray) -> np.ndarray:
        """Class probabilities, one row per query, columns in ``classes`` order."""
        z = _join(self.tfidf(texts), vectors) @ self.coef.T + self.intercept
        z = np.asarray(z, dtype=np.float64)
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return np.asarray(e / e.sum(axis=1, keepdims=True), dtype=np.float64)

    def to_bytes(self) -> bytes:
        """Serialise as an ``.npz`` of arrays (vocabulary as JSON): safe to load, no pickle."""
        buf = io.BytesIO()
        vocab = json.dumps({k: int(v) for k, v in self.vectorizer.vocabulary_.items()}, ensure_ascii=False)
        np.savez_compressed(
            buf,
            coef=self.coef,
            intercept=self.intercept,
            classes=self.classes,
            idf=self.vectorizer.idf_.astype(np.float32),
            vocabulary=np.frombuffer(vocab.encode(), np.uint8),
        )
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, blob: bytes) -> AnswerClassifier:
        """Load what :meth:`to_bytes` wrote."""
        from sklearn.feature_extraction.text import TfidfVectorizer

        with np.load(io.BytesIO(blob), allow_pickle=False) as z:
            vocab = json.loads(z["vocabulary"].tobytes().decode())
            vec = TfidfVectorizer(
                analyzer="char", ngram_range=NGRAMS, sublinear_tf=True, dtype=np.float32, vocabulary=vocab
            )
            vec.idf_ = z["idf"]
            return cls(vec, z["coef"], z["intercept"], z["classes"])


def _join(tfidf: sparse.spmatrix, vectors: np.ndarray) -> sparse.csr_matrix:
    return sparse.hstack([tfidf, sparse.csr_matrix(np.asarray(vectors, dtype=np.float32))]).tocsr()
