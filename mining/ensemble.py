"""Concatenating several embedders into one vector space (an ensemble that costs only their sum)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from models.ports import Embedder, Vectors, embedder_identity, l2_normalise


class ConcatEmbedder:
    """Joins the unit vectors of several embedders; each contributes equally to cosine similarity."""

    def __init__(self, embedders: Sequence[Embedder]) -> None:
        if not embedders:
            raise ValueError("ConcatEmbedder needs at least one embedder")
        self._embedders = list(embedders)

    @property
    def parts(self) -> list[Embedder]:
        """The embedders joined, in order."""
        return list(self._embedders)

    @property
    def model_id(self) -> str:
        """The model's identity (name and weights), recorded with every vector."""
        return "+".join(e.model_id for e in self._embedders)

    @property
    def dimension(self) -> int:
        """Length of every vector ``encode`` returns."""
        return sum(e.dimension for e in self._embedders)

    @property
    def version(self) -> str:
        """Changes whenever the same texts would embed differently (keys caches and indexes)."""
        return "+".join(embedder_identity(e) for e in self._embedders)

    def encode(self, texts: Sequence[str], *, batch_size: int = 64) -> Vectors:
        """Concatenate each embedder's vectors, then scale the result to unit length."""
        parts = [e.encode(texts, batch_size=batch_size) for e in self._embedders]
        return l2_normalise(np.hstack(parts))


def encode_views(embedder: Embedder, texts: Sequence[str], *, batch_size: int = 64) -> list[Vectors]:
    """Each part's unit vectors when ``embedder`` is a :class:`ConcatEmbedder`, else its one view.

    The concatenation of the views (each unit row, then re-normalised) is what ``encode`` returns.
    """
    if isinstance(embedder, ConcatEmbedder):
        return [l2_normalise(e.encode(texts, batch_size=batch_size)) for e in embedder.parts]
    return [embedder.encode(texts, batch_size=batch_size)]


def join_views(views: Sequence[Vectors]) -> Vectors:
    """The concatenated space of several views (what ``ConcatEmbedder.encode`` returns)."""
    return views[0] if len(views) == 1 else l2_normalise(np.hstack(list(views)))


def co_association_consensus(
    labelings: Sequence[npt.NDArray[np.int64]], *, agreement: float = 0.5, min_size: int = 2
) -> npt.NDArray[np.int64]:
    """Group points that most clusterings put together (evidence accumulation, average linkage).

    Two points' co-association is the share of ``labelings`` that give them the same cluster (noise,
    ``-1``, never agrees). Points with identical labels in every clustering form one cell; cells are
    joined by average linkage until the average co-association between groups falls below
    ``agreement``. Groups smaller than ``min_size`` points become noise (``-1``).

    Memory is quadratic in the number of cells, not of points: a few hundred to a few thousand.
    """
    stacked = np.stack([np.asarray(lab, dtype=np.int64) for lab in labelings], axis=1)
    n, runs = stacked.shape
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    noisy = (stacked == -1).any(axis=1)
    # a point noise in some run is its own cell (its -1 agrees with nothing)
    rows = stacked.tolist()
    keys = [("noise", i) if noisy[i] else tuple(row) for i, row in enumerate(rows)]
    cell_of: dict[object, int] = {}
    cells = np.asarray([cell_of.setdefault(k, len(cell_of)) for k in keys], dtype=np.int64)
    first = np.zeros(len(cell_of), dtype=np.int64)
    first[cells[::-1]] = np.arange(n)[::-1]
    weights = np.bincount(cells, minlength=len(cell_of)).astype(np.float64)
    reps = stacked[first]
    if len(cell_of) == 1:
        groups = np.zeros(1, dtype=np.int64)
    else:
        agree = np.zeros((len(reps), len(reps)))
        for r in range(runs):
            col = reps[:, r]
            agree += (col[:, None] == col[None, :]) & (col[:, None] != -1)
        agree /= runs
        groups = _weighted_average_linkage(1.0 - agree, weights, max_distance=1.0 - agreement)
    labels = groups[cells]
    sizes = np.bincount(labels)
    return np.where(sizes[labels] >= min_size, labels, -1).astype(np.int64)


def _weighted_average_linkage(
    distance: npt.NDArray[np.float64], weights: npt.NDArray[np.float64], *, max_distance: float
) -> npt.NDArray[np.int64]:
    """Average linkage over weighted items (a cell of w points counts w times); cut at ``max_distance``.

    Equal to average linkage on the points themselves when items are cells of identical points.
    """
    m = len(weights)
    dist = distance.astype(np.float64).copy()
    np.fill_diagonal(dist, np.inf)
    size = weights.astype(np.float64).copy()
    alive = np.ones(m, dtype=bool)
    owner = np.arange(m)
    while alive.sum() > 1:
        flat = int(np.argmin(dist))
        i, j = divmod(flat, m)
        if dist[i, j] > max_distance:
            break
        # merge j into i: the average distance to every other group, weighted by group sizes
        merged = (size[i] * dist[i] + size[j] * dist[j]) / (size[i] + size[j])
        dist[i], dist[:, i] = merged, merged
        dist[i, i] = np.inf
        dist[j, :], dist[:, j] = np.inf, np.inf
        size[i] += size[j]
        alive[j] = False
        owner[owner == j] = i
    _, groups = np.unique(owner, return_inverse=True)
    return groups.astype(np.int64)
