"""Choosing diverse representative utterances per cluster (max-marginal relevance)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from mining.domain import Points


def mmr_select(vectors: Points, k: int, *, diversity: float = 0.5) -> list[int]:
    """Pick ``k`` rows that are typical of the cluster yet unlike each other.

    Max-marginal relevance: the first pick is the row closest to the centroid, each next one maximises
    ``(1 - diversity) * sim(row, centroid) - diversity * max sim(row, picked)``. With ``diversity=0`` this
    is "the k most central rows", usually k near-copies of the same sentence.

    Args:
        vectors: Unit vectors of the cluster's utterances.
        k: How many to pick (fewer when the cluster is smaller).
        diversity: Weight of dissimilarity to what is already picked, in ``[0, 1]``.

    Returns:
        Row indices in pick order.
    """
    n = vectors.shape[0]
    if n == 0 or k <= 0:
        return []
    centroid = vectors.mean(axis=0)
    norm = float(np.linalg.norm(centroid)) or 1.0
    relevance = vectors @ (centroid / norm)
    picked = [int(np.argmax(relevance))]
    closest: npt.NDArray[np.float32] = vectors @ vectors[picked[0]]
    available = np.ones(n, dtype=bool)
    available[picked[0]] = False
    while len(picked) < min(k, n):
        score = (1.0 - diversity) * relevance - diversity * closest
        score[~available] = -np.inf
        nxt = int(np.argmax(score))
        picked.append(nxt)
        available[nxt] = False
        closest = np.maximum(closest, vectors @ vectors[nxt])
    return picked
