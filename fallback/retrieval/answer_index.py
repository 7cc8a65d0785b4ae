"""The live index of approved answers: FAISS over answer keys, kept in step with the database.

The database is the source of truth. ``reconcile()`` diffs the live keys in the database against the
ids in the index and embeds only what is new, so the same call serves startup (after loading the file),
an approval in this process, and an approval made by another worker or instance (noticed through the
``answers_version`` counter).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from pathlib import Path

import faiss
import numpy as np

from fallback.core.domain import KeyMatch
from fallback.retrieval.faiss_index import FaissIndex, IndexCorrupt, IndexKind
from fallback.settings import IndexSettings
from fallback.store import answers as answers_repo
from fallback.store import audit
from fallback.store.db import Database
from models.ports import Embedder, Vectors, embedder_identity

log = logging.getLogger(__name__)
_search_thread = threading.local()


def use_one_search_thread() -> None:
    """Run FAISS on a single OpenMP thread in the calling thread (call it from each serving thread).

    A webhook call searches one vector against at most a few thousand keys, where OpenMP threads buy
    nothing; on a busy 2-core host their spin-waits fought the request threads for the cores
    (docs/benchmarks.md, webhook load, step 1). libgomp keeps the setting per thread, hence once per
    thread rather than once per process; batch evaluation in other threads keeps the default.
    """
    if not getattr(_search_thread, "pinned", False):
        faiss.omp_set_num_threads(1)
        _search_thread.pinned = True


class AnswerIndex:
    """FAISS index of answer keys with the key -> answer mapping, synced from the database."""

    def __init__(self, embedder: Embedder, db: Database, directory: Path, settings: IndexSettings):
        self.embedder = embedder
        self.db = db
        self.identity = embedder_identity(embedder)
        digest = hashlib.sha256(f"{self.identity}|{settings.kind}".encode()).hexdigest()[:16]
        self.path = directory / f"answers-{digest}.faiss"
        self.settings = settings
        self._kind: IndexKind = settings.kind
        self._index = self._new()
        self._keys: dict[int, tuple[int, str]] = {}  # key id -> (answer id, key text)
        self._lock = threading.RLock()
        self.version = -1
        self._last_check = 0.0
        self.rebuilt_reason: str | None = None

    def _new(self) -> FaissIndex:
        return FaissIndex(self.embedder.dimension, self._kind, hnsw_m=self.settings.hnsw_m,
                          ivf_nlist=self.settings.ivf_nlist)

    def open(self) -> None:
        """Load the index file (rebuilding when missing, corrupt or another embedder's) and reconcile."""
        with self._lock:
            if self.path.exists():
                try:
                    self._index = FaissIndex.load(
                        self.path, embedder=self.identity, kind=self._kind, dimension=self.embedder.dimension,
                        hnsw_m=self.settings.hnsw_m, ivf_nlist=self.settings.ivf_nlist,
                    )
                    log.info("index.loaded path=%s vectors=%d", self.path, len(self._index))
                except IndexCorrupt as e:
                    log.warning("index.rebuild reason=corrupt detail=%s", e)
                    self.rebuilt_reason = "corrupt"
                    self._index = self._new()
            else:
                self.rebuilt_reason = "missing"
                log.info("index.rebuild reason=missing path=%s", self.path)
            self.reconcile(force=True)

    def reconcile(self, *, force: bool = False) -> int:
        """Bring the index in line with the database; return how many keys were added or removed."""
        with self._lock:
            def read(s):  # type: ignore[no-untyped-def]
                return audit.answers_version(s), answers_repo.live_keys(s)

            version, rows = self.db.run(read)
            if not force and version == self.version:
                return 0
            wanted = {r.key_id: (r.answer_id, r.text) for r in rows}
            have = self._index.ids()
            stale = [k for k in have if k not in wanted]
            missing = [k for k in wanted if k not in have]
            if stale:
                self._index.remove(stale)
            if missing:
                texts = [wanted[k][1] for k in missing]
                vectors = self.encode(texts)
                self._index.add(np.asarray(missing, dtype=np.int64), vectors)
            self._keys = wanted
            self.version = version
            if stale or missing or force:
                self._save()
            if stale or missing:
                log.info("index.reconciled added=%d removed=%d version=%d", len(missing), len(stale), version)
            return len(stale) + len(missing)

    def maybe_sync(self) -> None:
        """Cheap periodic check of the version counter (another worker may have approved something)."""
        now = time.monotonic()
        if now - self._last_check < self.settings.sync_interval_s:
            return
        self._last_check = now
        current = self.db.run(audit.answers_version)
        if current != self.version:
            self.reconcile()

    def encode(self, texts: list[str]) -> Vectors:
        return self.embedder.encode(texts)

    def search(self, vector: Vectors, k: int) -> list[KeyMatch]:
        """Top-``k`` keys for one query vector."""
        return self.search_batch(vector.reshape(1, -1), k)[0]

    def search_batch(self, vectors: Vectors, k: int) -> list[list[KeyMatch]]:
        """Top-``k`` keys for each row of ``vectors`` (one FAISS call for the whole batch)."""
        with self._lock:
            scores, ids = self._index.search(vectors, k)
            out: list[list[KeyMatch]] = []
            for row_s, row_i in zip(scores, ids, strict=True):
                row = []
                for score, key_id in zip(row_s, row_i, strict=True):
                    hit = self._keys.get(int(key_id)) if key_id >= 0 else None
                    if hit is not None:
                        row.append(KeyMatch(int(key_id), hit[0], float(score), hit[1]))
                out.append(row)
            return out

    def __len__(self) -> int:
        return len(self._index)

    def _save(self) -> None:
        try:
            self._index.save(self.path, self.identity)
        except OSError as e:  # a read-only disk must not stop serving
            log.warning("index.save_failed path=%s error=%s", self.path, e)
