"""Groups near-duplicate unanswered queries onto one open candidate (reviewed once, not fifty times)."""

from __future__ import annotations

import threading

import numpy as np

from fallback.retrieval.faiss_index import GrowingFlatIndex
from fallback.store import candidates as cand_repo
from fallback.store.db import Database
from models.ports import Embedder, Vectors


class CandidateGrouper:
    """An in-memory exact index of pending candidates' representative queries.

    Rebuilt from the database at start; picks up candidates created by other workers incrementally
    and drops ones that stopped being pending when it meets them.
    """

    def __init__(self, embedder: Embedder, db: Database, threshold: float):
        self.embedder = embedder
        self.db = db
        self.threshold = threshold
        self._index = GrowingFlatIndex(embedder.dimension)
        self._last_id = 0
        self._lock = threading.Lock()

    def refresh(self) -> None:
        """Index pending candidates created since the last refresh."""
        rows = self.db.run(lambda s: cand_repo.pending_since(s, self._last_id))
        if not rows:
            return
        vectors = self.embedder.encode([q for _, q in rows])
        with self._lock:
            self._index.add(np.asarray([i for i, _ in rows], dtype=np.int64), vectors)
            self._last_id = max(self._last_id, max(i for i, _ in rows))

    def add(self, candidate_id: int, vector: Vectors) -> None:
        with self._lock:
            self._index.add(np.asarray([candidate_id], dtype=np.int64), vector.reshape(1, -1))
            self._last_id = max(self._last_id, candidate_id)

    def discard(self, candidate_ids: list[int]) -> None:
        with self._lock:
            self._index.remove(candidate_ids)

    def nearest_many(self, vectors: Vectors, k: int = 5) -> list[list[tuple[int, float]]]:
        """For each row of ``vectors``, the pending candidates at or above the grouping threshold,
        best first, in one search.

        The index is exact, and searching it is bound by reading every pending candidate's vector, so
        a batch costs about a tenth per query of one query alone (docs/benchmarks.md, fourth round,
        step 1).
        """
        with self._lock:
            scores, ids = self._index.search(vectors, k)
        return [
            [(int(i), float(s)) for s, i in zip(srow, irow, strict=True) if i >= 0 and s >= self.threshold]
            for srow, irow in zip(scores, ids, strict=True)
        ]

    def batch(self, vectors: list[Vectors | None]) -> BatchGrouping:
        """Grouping for the calls of one batch (see :class:`BatchGrouping`)."""
        return BatchGrouping(self, vectors)


class BatchGrouping:
    """Grouping for the calls of one batch, with one index search for all of them.

    The first call that needs grouping searches for every call of the batch at once. A candidate
    that an earlier call of the same batch created (:meth:`add`) is compared with the later calls
    directly, and one found no longer pending (:meth:`discard`) is skipped, so each call groups as
    it would have alone, in order.
    """

    def __init__(self, grouper: CandidateGrouper, vectors: list[Vectors | None]):
        self.grouper = grouper
        self._vectors = vectors
        self._found: list[list[tuple[int, float]]] | None = None
        self._added: list[tuple[int, Vectors]] = []
        self._discarded: set[int] = set()

    def nearest(self, row: int, k: int = 5) -> list[tuple[int, float]]:
        """Pending candidates at or above the threshold for the call at ``row``, best first."""
        vector = self._vectors[row]
        if vector is None:
            raise ValueError(f"call {row} of the batch has no vector")
        query = vector.reshape(-1)
        if self._found is None:
            present = [v.reshape(-1) if v is not None else np.zeros_like(query) for v in self._vectors]
            self._found = self.grouper.nearest_many(np.vstack(present).astype(np.float32), k)
        hits = dict(self._found[row])
        for cand_id, added in self._added:
            hits[cand_id] = float(np.dot(added, query))
        ranked = sorted(
            ((c, s) for c, s in hits.items() if c not in self._discarded and s >= self.grouper.threshold),
            key=lambda h: -h[1],
        )
        return ranked[:k]

    def add(self, candidate_id: int, vector: Vectors) -> None:
        self.grouper.add(candidate_id, vector)
        self._added.append((candidate_id, vector.reshape(-1)))

    def discard(self, candidate_ids: list[int]) -> None:
        self.grouper.discard(candidate_ids)
        self._discarded.update(candidate_ids)
