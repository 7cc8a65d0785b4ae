"""Clusterers (HDBSCAN by default) and the centroid re-assignment that follows them."""

from __future__ import annotations

from typing import Literal

import numpy as np

from mining.domain import NOISE, Labels, Points

Selection = Literal["leaf", "eom"]


def auto_min_cluster_size(n: int, *, per: int = 300, low: int = 5, high: int = 50) -> int:
    """``n / per`` clamped to ``[low, high]``: small windows keep small intents, big ones ignore crumbs."""
    return max(low, min(high, round(n / per)))


class HdbscanClusterer:
    """HDBSCAN from the ``hdbscan`` package (the reference implementation).

    Args:
        min_cluster_size: Smallest group worth an intent; ``None`` picks :func:`auto_min_cluster_size`.
        min_samples: Core-distance neighbours; small values leave less noise but split more.
        cluster_selection: ``eom`` (excess of mass, the default) or ``leaf`` (finer clusters).
    """

    def __init__(
        self, min_cluster_size: int | None = None, min_samples: int = 5, cluster_selection: Selection = "eom"
    ) -> None:
        self.min_cluster_size = min_cluster_size
        self.min_samples = min_samples
        self.cluster_selection = cluster_selection

    @property
    def name(self) -> str:
        """The stage's name, recorded with each run."""
        return (
            f"hdbscan(min_cluster_size={self.min_cluster_size or 'auto'}, min_samples={self.min_samples}, "
            f"selection={self.cluster_selection})"
        )

    def _size(self, n: int) -> int:
        return self.min_cluster_size or auto_min_cluster_size(n)

    def fit_predict(self, points: Points) -> Labels:
        """One integer label per row of ``points`` (``-1`` = noise)."""
        n = points.shape[0]
        if n < max(2, self._size(n)):
            return np.full(n, NOISE, dtype=np.int64)
        try:
            import hdbscan
        except ImportError as e:  # pragma: no cover - declared dependency
            raise ImportError("HdbscanClusterer needs: pip install hdbscan") from e
        model = hdbscan.HDBSCAN(
            min_cluster_size=self._size(n),
            min_samples=self.min_samples,
            cluster_selection_method=self.cluster_selection,
        )
        return np.asarray(model.fit_predict(points), dtype=np.int64)


class SklearnHdbscanClusterer(HdbscanClusterer):
    """scikit-learn's HDBSCAN (same algorithm, no extra package; slower, see docs/mining.md)."""

    @property
    def name(self) -> str:
        """The stage's name, recorded with each run."""
        return "sklearn-" + super().name

    def fit_predict(self, points: Points) -> Labels:
        """One integer label per row of ``points`` (``-1`` = noise)."""
        from sklearn.cluster import HDBSCAN

        n = points.shape[0]
        if n < max(2, self._size(n)):
            return np.full(n, NOISE, dtype=np.int64)
        model = HDBSCAN(
            min_cluster_size=self._size(n),
            min_samples=self.min_samples,
            cluster_selection_method=self.cluster_selection,
            copy=True,
        )
        return np.asarray(model.fit_predict(points), dtype=np.int64)


class FastHdbscanClusterer(HdbscanClusterer):
    """``fast_hdbscan`` (numba, parallel); optional: ``pip install fast_hdbscan``."""

    @property
    def name(self) -> str:
        """The stage's name, recorded with each run."""
        return "fast-" + super().name

    def fit_predict(self, points: Points) -> Labels:
        """One integer label per row of ``points`` (``-1`` = noise)."""
        try:
            import fast_hdbscan
        except ImportError as e:
            raise ImportError("FastHdbscanClusterer needs: pip install fast_hdbscan") from e
        n = points.shape[0]
        if n < max(2, self._size(n)):
            return np.full(n, NOISE, dtype=np.int64)
        model = fast_hdbscan.HDBSCAN(
            min_cluster_size=self._size(n),
            min_samples=self.min_samples,
            cluster_selection_method=self.cluster_selection,
        )
        return np.asarray(model.fit_predict(points), dtype=np.int64)


class KMeansClusterer:
    """k-means with a given k: the baseline of the evaluation (it needs the answer HDBSCAN finds)."""

    def __init__(self, n_clusters: int, *, seed: int = 42) -> None:
        self.n_clusters = n_clusters
        self.seed = seed

    @property
    def name(self) -> str:
        """The stage's name, recorded with each run."""
        return f"kmeans(k={self.n_clusters})"

    def fit_predict(self, points: Points) -> Labels:
        """One integer label per row of ``points`` (``-1`` = noise)."""
        from sklearn.cluster import KMeans

        k = min(self.n_clusters, points.shape[0])
        model = KMeans(n_clusters=k, n_init=5, random_state=self.seed)
        return np.asarray(model.fit_predict(points), dtype=np.int64)


def centroids(vectors: Points, labels: Labels) -> tuple[list[int], Points]:
    """Cluster ids (noise excluded) and their unit-length mean vectors."""
    ids = sorted(int(c) for c in set(labels.tolist()) if c != NOISE)
    if not ids:
        return [], np.zeros((0, vectors.shape[1]), dtype=np.float32)
    means = np.stack([vectors[labels == c].mean(axis=0) for c in ids])
    norms = np.linalg.norm(means, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return ids, np.asarray(means / norms, dtype=np.float32)


def relabel(labels: Labels) -> Labels:
    """Renumber clusters 0..k-1 by decreasing size (noise stays ``-1``)."""
    sizes = {int(c): int(np.sum(labels == c)) for c in set(labels.tolist()) if c != NOISE}
    order = sorted(sizes, key=lambda c: (-sizes[c], c))
    mapping = {c: i for i, c in enumerate(order)}
    return np.asarray([mapping.get(int(c), NOISE) for c in labels], dtype=np.int64)


def reassign(
    vectors: Points,
    labels: Labels,
    *,
    iterations: int = 10,
    attach_cosine: float | None = 0.0,
    eject_cosine: float | None = None,
) -> Labels:
    """Move points to their nearest cluster centroid in the embedding space, k-means style.

    The clusters come from a low-dimensional UMAP map, which tears some neighbourhoods; a few rounds of
    re-assignment in the full space repair most of that. Noise joins a cluster only when its cosine to
    the centroid reaches ``attach_cosine`` (``None`` keeps all noise as noise).

    Args:
        vectors: Unit vectors, one row per point.
        labels: Clusterer output (``-1`` = noise).
        iterations: Re-assignment rounds of clustered points (0 = only outlier attachment).
        attach_cosine: Minimum cosine for a noise point to join its nearest centroid.
        eject_cosine: Clustered points less similar than this to every centroid become noise
            (``None`` keeps them): UMAP glues a few unrelated texts onto the nearest dense cluster.

    Returns:
        New labels, renumbered 0..k-1 by decreasing size.
    """
    labels = labels.copy()
    noise = labels == NOISE
    for _ in range(max(iterations, 1)):
        ids, means = centroids(vectors, labels)
        if not ids:
            return labels
        sims = vectors @ means.T
        best = np.asarray(ids, dtype=np.int64)[sims.argmax(axis=1)]
        proposed = labels.copy()
        if iterations > 0:
            proposed[~noise] = best[~noise]
        if attach_cosine is not None:
            join = noise & (sims.max(axis=1) >= attach_cosine)
            proposed[join] = best[join]
        if np.array_equal(proposed, labels):
            break
        labels = proposed
    if eject_cosine is not None:
        ids, means = centroids(vectors, labels)
        if ids:
            labels = labels.copy()
            labels[(vectors @ means.T).max(axis=1) < eject_cosine] = NOISE
    return relabel(labels)


def merge_close_clusters(vectors: Points, labels: Labels, *, min_cosine: float) -> Labels:
    """Join clusters whose centroids are at least ``min_cosine`` similar (average linkage).

    HDBSCAN with a small ``min_cluster_size`` splits big intents into several dense parts; merging
    parts whose centres agree lets one setting serve both fine-grained and coarse label sets.
    """
    ids, means = centroids(vectors, labels)
    if len(ids) < 2:
        return labels
    from sklearn.cluster import AgglomerativeClustering

    groups = AgglomerativeClustering(
        n_clusters=None, metric="cosine", linkage="average", distance_threshold=1.0 - min_cosine
    ).fit_predict(means)
    mapping = {c: int(g) for c, g in zip(ids, groups, strict=True)}
    merged = np.asarray([mapping.get(int(c), NOISE) for c in labels], dtype=np.int64)
    return relabel(merged)


def dissolve_small_clusters(vectors: Points, labels: Labels, *, share: float) -> Labels:
    """Hand the members of clusters below ``share`` x the median size to their nearest remaining centroid.

    Noise stays noise.

    Consensus and re-assignment leave crumbs of three to nine texts beside clusters of thirty (texts
    that could belong to either of two intents); relative to the median they are crumbs whatever the
    data's scale, while a set of uniformly small intents keeps every cluster.
    """
    ids = [int(c) for c in set(labels.tolist()) if c != NOISE]
    if len(ids) < 2:
        return labels
    sizes = {c: int(np.sum(labels == c)) for c in ids}
    limit = share * float(np.median(list(sizes.values())))
    small = [c for c in ids if sizes[c] < limit]
    if not small or len(small) == len(ids):
        return labels
    out = labels.copy()
    moving = np.isin(out, small)
    out[moving] = NOISE
    kept, means = centroids(vectors, out)
    out[moving] = np.asarray(kept, dtype=np.int64)[(vectors[moving] @ means.T).argmax(axis=1)]
    return relabel(out)
