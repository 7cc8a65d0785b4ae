"""What the learned scorer's confidence is computed from: the classifier's verdict and the neighbours."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse

from fallback.core.domain import KeyMatch

NAMES = (
    "p1",
    "p_margin",
    "log_odds",
    "top_cosine",
    "answer_cosine",
    "cosine_gap",
    "vote",
    "top_ngram",
    "answer_ngram",
    "neighbour_agrees",
)
VOTE_K = 10


def row_features(
    proba: np.ndarray,
    classes: np.ndarray,
    matches: Sequence[KeyMatch],
    query_ngrams: sparse.csr_matrix,
    key_ngrams: sparse.csr_matrix,
) -> tuple[int, np.ndarray]:
    """The predicted answer and its feature row for one query.

    Args:
        proba: the classifier's probabilities for the query (``classes`` order).
        classes: answer ids of the columns.
        matches: the retrieved keys, best first (the live index's neighbours).
        query_ngrams: the query's TF-IDF row; ``key_ngrams``: one row per match.
    """
    order = np.argsort(-proba)
    p1 = float(proba[order[0]])
    p2 = float(proba[order[1]]) if len(order) > 1 else 0.0
    pred = int(classes[order[0]])
    if matches:
        scores = np.array([m.score for m in matches], dtype=np.float64)
        mine = np.array([m.answer_id == pred for m in matches])
        top = float(scores[0])
        own = float(scores[mine].max()) if mine.any() else float(scores.min())
        vote = float(mine[:VOTE_K].mean())
        ngram = np.asarray((key_ngrams @ query_ngrams.T).todense()).ravel()
        top_ngram = float(ngram.max())
        own_ngram = float(ngram[mine].max()) if mine.any() else 0.0
        agrees = float(matches[0].answer_id == pred)
    else:
        top = own = vote = top_ngram = own_ngram = agrees = 0.0
    row = np.array(
        [
            p1,
            p1 - p2,
            np.log(p1 + 1e-9) - np.log(p2 + 1e-9),
            top,
            own,
            top - own,
            vote,
            top_ngram,
            own_ngram,
            agrees,
        ],
        dtype=np.float64,
    )
    return pred, row


def brute_matches(
    queries: np.ndarray, keys: np.ndarray, answer_ids: np.ndarray, texts: Sequence[str], k: int = VOTE_K
) -> list[list[KeyMatch]]:
    """Exact top-``k`` neighbours by inner product (training folds, where no FAISS index exists)."""
    sims = np.asarray(queries, dtype=np.float32) @ np.asarray(keys, dtype=np.float32).T
    k = min(k, sims.shape[1])
    top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
    out = []
    for i, row in enumerate(top):
        row = row[np.argsort(-sims[i, row])]
        out.append([KeyMatch(int(j), int(answer_ids[j]), float(sims[i, j]), texts[j]) for j in row])
    return out
