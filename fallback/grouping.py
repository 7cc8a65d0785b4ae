"""Groups near-duplicate unanswered queries onto one open candidate (reviewed once, not fifty times)."""

from __future__ import annotations

import threading

import numpy as np

from fallback.index import FaissIndex
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
        self._index = FaissIndex(embedder.dimension, "flat")
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

    def nearest(self, vector: Vectors, k: int = 5) -> list[tuple[int, float]]:
        """Pending candidates at or above the grouping threshold, best first."""
        with self._lock:
            scores, ids = self._index.search(vector.reshape(1, -1), k)
        hits = [(int(i), float(s)) for s, i in zip(scores[0], ids[0], strict=True) if i >= 0]
        return [(i, s) for i, s in hits if s >= self.threshold]
