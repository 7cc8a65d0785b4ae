"""A linear classifier over approved answers: character 1–3-gram TF-IDF next to the query's vector.

Character n-grams see what sentence embeddings blur (product words, 开发票 vs 开发票抬头, numbers,
typos), the dense vector sees paraphrases; one multinomial logistic regression over both is trained
on the approved keys, one class per answer. It is stored as plain arrays (no pickle).
"""

from __future__ import annotations

import io
import json
import math
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import sparse

NGRAMS = (1, 3)
_WHITE_SPACES = re.compile(r"\s\s+")  # what sklearn's char analyzer collapses


class AnswerClassifier:
    """P(answer | query) over the answers it was trained on."""

    def __init__(self, vectorizer: Any, coef: np.ndarray, intercept: np.ndarray, classes: np.ndarray):
        """Build from fitted parts; use :meth:`fit` or :meth:`from_bytes`."""
        self.vectorizer = vectorizer
        self.coef = coef.astype(np.float32)
        self.intercept = intercept.astype(np.float32)
        self.classes = classes.astype(np.int64)
        self._position = {int(a): i for i, a in enumerate(self.classes)}
        # the serving path computes TF-IDF rows itself: sklearn's transform costs ~1 ms of input
        # validation per call, more than the few dozen n-grams of a customer question
        vocab = getattr(vectorizer, "vocabulary_", None) or vectorizer.vocabulary
        self._vocab: dict[str, int] = {str(k): int(v) for k, v in vocab.items()}
        self._idf = np.asarray(vectorizer.idf_, dtype=np.float32)
        n_text = len(self._idf)
        self._coef_text = np.ascontiguousarray(self.coef[:, :n_text].T)
        self._coef_dense = np.ascontiguousarray(self.coef[:, n_text:].T)

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
        """L2-normalised character n-gram TF-IDF rows of ``texts`` (what the fitted vectorizer gives)."""
        if len(texts) > 64:  # training folds: sklearn's vectorised transform is faster in bulk
            return self.vectorizer.transform(list(texts))
        indptr: list[int] = [0]
        indices: list[int] = []
        data: list[float] = []
        lo, hi = NGRAMS
        for text in texts:
            doc = _WHITE_SPACES.sub(" ", text.lower())
            grams: Counter[int] = Counter()
            for n in range(lo, min(hi, len(doc)) + 1):
                for i in range(len(doc) - n + 1):
                    j = self._vocab.get(doc[i : i + n])
                    if j is not None:
                        grams[j] += 1
            cols = sorted(grams)
            vals = [(1.0 + math.log(grams[j])) * float(self._idf[j]) for j in cols]
            norm = math.sqrt(sum(v * v for v in vals)) or 1.0
            indices.extend(cols)
            data.extend(v / norm for v in vals)
            indptr.append(len(indices))
        return sparse.csr_matrix(
            (np.asarray(data, dtype=np.float32), np.asarray(indices, dtype=np.int32), np.asarray(indptr)),
            shape=(len(texts), len(self._idf)),
        )

    def proba(self, texts: Sequence[str], vectors: np.ndarray) -> np.ndarray:
        """Class probabilities, one row per query, columns in ``classes`` order."""
        dense = np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)
        z = self.tfidf(texts) @ self._coef_text + dense @ self._coef_dense + self.intercept
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
