"""FAISS adapter: an id-addressed inner-product index over unit vectors, persisted atomically."""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import faiss
import numpy as np
import numpy.typing as npt

from models.errors import BackstopError

log = logging.getLogger(__name__)

IndexKind = Literal["flat", "hnsw", "ivf"]
Ids = npt.NDArray[np.int64]


class IndexCorrupt(BackstopError):
    """The index file on disk cannot be read or does not match its metadata."""


@dataclass(frozen=True)
class IndexMeta:
    """What an index file was built with; a mismatch means rebuild."""

    embedder: str
    kind: str
    dimension: int
    count: int


class GrowingFlatIndex:
    """Exact inner-product search over unit vectors kept in one numpy matrix that grows by doubling.

    For a set that changes on every call, such as the pending candidates the webhook groups new
    queries onto: adding is amortised O(1) and removing O(1) (the last row moves into the gap), where
    FAISS's flat index copies all of its vectors on every add (docs/benchmarks.md, fourth round,
    step 2). Search is one matrix product for all queries. Thread-safe.
    """

    def __init__(self, dimension: int, capacity: int = 256):
        self._dim = dimension
        self._rows = np.zeros((max(1, capacity), dimension), dtype=np.float32)
        self._ids = np.zeros(max(1, capacity), dtype=np.int64)
        self._pos: dict[int, int] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._pos)

    def ids(self) -> set[int]:
        with self._lock:
            return set(self._pos)

    def add(self, ids: Ids, vectors: npt.NDArray[np.float32]) -> None:
        """Add (or replace) vectors under ``ids``."""
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self._dim or len(ids) != len(vectors):
            raise ValueError(f"expected {len(ids)} vectors of dimension {self._dim}, got {vectors.shape}")
        with self._lock:
            for i, v in zip(ids.tolist(), vectors, strict=True):
                at = self._pos.get(i)
                if at is None:
                    at = len(self._pos)
                    if at == len(self._rows):
                        self._grow()
                    self._pos[i] = at
                    self._ids[at] = i
                self._rows[at] = v

    def remove(self, ids: Iterable[int]) -> None:
        """Remove ids (unknown ids are ignored)."""
        with self._lock:
            for i in ids:
                at = self._pos.pop(int(i), None)
                if at is None:
                    continue
                last = len(self._pos)  # the row that was last before this removal
                if at != last:
                    moved = int(self._ids[last])
                    self._rows[at] = self._rows[last]
                    self._ids[at] = moved
                    self._pos[moved] = at

    def search(self, vectors: npt.NDArray[np.float32], k: int) -> tuple[np.ndarray, Ids]:
        """Top-``k`` (scores, ids) per query row, best first; missing slots have id -1 and score -1."""
        q = np.asarray(vectors, dtype=np.float32)
        if q.ndim == 1:
            q = q[None, :]
        out_s = np.full((len(q), max(k, 0)), -1.0, np.float32)
        out_i = np.full((len(q), max(k, 0)), -1, np.int64)
        with self._lock:
            n = len(self._pos)
            if n == 0 or k <= 0:
                return out_s, out_i
            scores = q @ self._rows[:n].T  # (queries, n)
            ids = self._ids[:n].copy()
        kk = min(k, n)
        if kk < n:
            top = np.argpartition(-scores, kk - 1, axis=1)[:, :kk]
        else:
            top = np.tile(np.arange(n), (len(q), 1))
        top_scores = np.take_along_axis(scores, top, axis=1)
        order = np.argsort(-top_scores, axis=1, kind="stable")
        out_s[:, :kk] = np.take_along_axis(top_scores, order, axis=1)
        out_i[:, :kk] = ids[np.take_along_axis(top, order, axis=1)]
        return out_s, out_i

    def _grow(self) -> None:
        rows = np.zeros((2 * len(self._rows), self._dim), dtype=np.float32)
        rows[: len(self._rows)] = self._rows
        ids = np.zeros(2 * len(self._ids), dtype=np.int64)
        ids[: len(self._ids)] = self._ids
        self._rows, self._ids = rows, ids


class FaissIndex:
    """Exact (``flat``) or approximate (``hnsw``, ``ivf``) inner-product search keyed by int64 ids.

    HNSW and IVF (behind an id map) cannot delete in place, so there removals are masked out at query
    time and the index is rebuilt from the kept vectors when more than a quarter of it is masked.
    Thread-safe: one lock around every call.
    """

    def __init__(self, dimension: int, kind: IndexKind = "flat", *, hnsw_m: int = 32, ivf_nlist: int = 256):
        self._dim = dimension
        self._kind: IndexKind = kind
        self._hnsw_m = hnsw_m
        self._ivf_nlist = ivf_nlist
        self._lock = threading.RLock()
        self._masked: set[int] = set()
        self._vectors: dict[int, npt.NDArray[np.float32]] = {}  # kept for hnsw/ivf rebuilds
        self._index: Any = self._empty()
        self._stored: set[int] | None = None  # ids in the id map (masked ones too); None = read it again

    def _empty(self) -> Any:
        if self._kind == "hnsw":
            inner = faiss.IndexHNSWFlat(self._dim, self._hnsw_m, faiss.METRIC_INNER_PRODUCT)
            inner.hnsw.efSearch = 64
            return faiss.IndexIDMap2(inner)
        return faiss.IndexIDMap2(faiss.IndexFlatIP(self._dim))

    @property
    def dimension(self) -> int:
        return self._dim

    @property
    def kind(self) -> IndexKind:
        return self._kind

    def __len__(self) -> int:
        with self._lock:
            return int(self._index.ntotal) - len(self._masked)

    def ids(self) -> set[int]:
        """Ids currently searchable."""
        with self._lock:
            return self._stored_ids() - self._masked

    def _stored_ids(self) -> set[int]:
        # kept up to date by add/remove: reading the whole id map on every add made each new
        # candidate cost O(open candidates) on the webhook's path
        if self._stored is None:
            stored: Any = faiss.vector_to_array(self._index.id_map) if self._index.ntotal else []
            self._stored = {int(i) for i in stored}
        return self._stored

    def add(self, ids: Ids, vectors: npt.NDArray[np.float32]) -> None:
        """Add (or replace) vectors under ``ids``."""
        ids = np.asarray(ids, dtype=np.int64)
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self._dim or len(ids) != len(vectors):
            raise ValueError(f"expected {len(ids)} vectors of dimension {self._dim}, got {vectors.shape}")
        if len(ids) == 0:
            return
        with self._lock:
            stored = self._stored_ids()  # O(len(ids)), not a copy of every id: this runs per new candidate
            existing = {int(i) for i in ids if int(i) in stored and int(i) not in self._masked}
            if existing:
                self.remove(existing)
            if self._kind != "flat":
                self._masked -= {int(i) for i in ids}
            self._index.add_with_ids(vectors, ids)
            self._stored_ids().update(int(i) for i in ids)
            if self._kind != "flat":
                for i, v in zip(ids, vectors, strict=True):
                    self._vectors[int(i)] = v
            self._maybe_retrain()

    def remove(self, ids: Iterable[int]) -> None:
        """Remove ids (unknown ids are ignored)."""
        wanted = {int(i) for i in ids}
        if not wanted:
            return
        with self._lock:
            if self._kind != "flat":
                self._masked |= wanted & self._stored_ids()
                for i in wanted:
                    self._vectors.pop(i, None)
                if self._masked and len(self._masked) > 0.25 * self._index.ntotal:
                    self._rebuild_from_vectors()
                return
            self._index.remove_ids(np.fromiter(wanted, dtype=np.int64))
            self._stored_ids().difference_update(wanted)
            for i in wanted:
                self._vectors.pop(i, None)

    def search(self, vectors: npt.NDArray[np.float32], k: int) -> tuple[np.ndarray, Ids]:
        """Top-``k`` (scores, ids) per query row; missing slots have id -1."""
        q = np.ascontiguousarray(vectors, dtype=np.float32)
        if q.ndim == 1:
            q = q[None, :]
        with self._lock:
            n = int(self._index.ntotal)
            if n == 0 or k <= 0:
                return np.full((len(q), max(k, 0)), -1.0, np.float32), np.full(
                    (len(q), max(k, 0)), -1, np.int64
                )
            kk = min(n, k + len(self._masked))
            scores, ids = self._index.search(q, kk)
        if self._masked:
            keep = ~np.isin(ids, np.fromiter(self._masked, dtype=np.int64))
            out_s = np.full((len(q), k), -1.0, np.float32)
            out_i = np.full((len(q), k), -1, np.int64)
            for r in range(len(q)):
                s, i = scores[r][keep[r]][:k], ids[r][keep[r]][:k]
                out_s[r, : len(s)], out_i[r, : len(i)] = s, i
            return out_s, out_i
        if kk < k:
            pad = k - kk
            scores = np.pad(scores, ((0, 0), (0, pad)), constant_values=-1.0)
            ids = np.pad(ids, ((0, 0), (0, pad)), constant_values=-1)
        return scores, ids

    def _maybe_retrain(self) -> None:
        """IVF needs training data: start exact, switch to IVF once there are enough vectors."""
        if self._kind != "ivf":
            return
        n = int(self._index.ntotal)
        is_ivf = isinstance(faiss.downcast_index(self._index.index), faiss.IndexIVFFlat)
        if not is_ivf and n >= 39 * self._ivf_nlist:
            self._rebuild_from_vectors()

    def _rebuild_from_vectors(self) -> None:
        ids = np.fromiter(self._vectors.keys(), dtype=np.int64)
        vecs = np.vstack(list(self._vectors.values())) if len(ids) else np.zeros((0, self._dim), np.float32)
        self._masked = set()
        if self._kind == "ivf" and len(ids) >= 39 * self._ivf_nlist:
            quant = faiss.IndexFlatIP(self._dim)
            ivf = faiss.IndexIVFFlat(quant, self._dim, self._ivf_nlist, faiss.METRIC_INNER_PRODUCT)
            ivf.train(vecs)
            ivf.nprobe = max(1, self._ivf_nlist // 16)
            self._index = faiss.IndexIDMap2(ivf)
            self._stored = None
            self._index.__dict__["_quantizer"] = quant  # keep the quantizer alive
        else:
            self._index = self._empty()
            self._stored = None
        if len(ids):
            self._index.add_with_ids(np.ascontiguousarray(vecs, dtype=np.float32), ids)

    # persistence -------------------------------------------------------------------------------
    def save(self, path: Path, embedder: str) -> None:
        """Write the index and its metadata atomically (temp file + rename)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            if self._masked:
                self._rebuild_from_vectors()
            tmp = path.with_suffix(path.suffix + f".tmp{os.getpid()}")
            faiss.write_index(self._index, str(tmp))
            meta = IndexMeta(embedder, self._kind, self._dim, int(self._index.ntotal))
            meta_tmp = tmp.with_suffix(".json.tmp")
            meta_tmp.write_text(json.dumps(meta.__dict__), encoding="utf-8")
            os.replace(tmp, path)
            os.replace(meta_tmp, meta_path(path))

    @classmethod
    def load(cls, path: Path, *, embedder: str, kind: IndexKind, dimension: int, **kw: int) -> FaissIndex:
        """Read an index file; raise ``IndexCorrupt`` when unreadable or built for something else."""
        try:
            meta = IndexMeta(**json.loads(meta_path(path).read_text(encoding="utf-8")))
            raw = faiss.read_index(str(path))
        except Exception as e:  # faiss raises RuntimeError; json ValueError; OSError
            raise IndexCorrupt(f"cannot read index {path}: {e}") from e
        if meta.embedder != embedder or meta.kind != kind or meta.dimension != dimension:
            raise IndexCorrupt(f"index {path} was built for {meta}, not {embedder}/{kind}/{dimension}")
        if int(raw.ntotal) != meta.count or raw.d != dimension:
            raise IndexCorrupt(f"index {path} holds {raw.ntotal} vectors, metadata says {meta.count}")
        index = cls(dimension, kind, **kw)
        if kind == "flat":
            index._index = raw
            index._stored = None
            return index
        if raw.ntotal:
            ids = faiss.vector_to_array(raw.id_map).astype(np.int64)  # type: ignore[attr-defined]
            inner = faiss.downcast_index(raw.index)  # type: ignore[attr-defined]
            if isinstance(inner, faiss.IndexIVF):
                inner.make_direct_map()
            vecs = (
                np.vstack([inner.reconstruct(j) for j in range(int(raw.ntotal))])
                if isinstance(inner, faiss.IndexIVF)
                else inner.reconstruct_n(0, int(raw.ntotal))
            )
            index._vectors = {int(i): v for i, v in zip(ids, vecs, strict=True)}
            index._rebuild_from_vectors()
        return index


def meta_path(path: Path) -> Path:
    """The metadata file beside an index file."""
    return path.with_suffix(".json")
