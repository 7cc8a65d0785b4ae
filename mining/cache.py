"""An on-disk embedding cache keyed by text hash and embedder identity (stdlib ``sqlite3``).

Re-runs and growing windows embed only the texts they have not seen with the same embedder.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from models.ports import Embedder, Vectors, embedder_identity

_SCHEMA = """
CREATE TABLE IF NOT EXISTS embeddings (
    identity TEXT NOT NULL,
    text_hash TEXT NOT NULL,
    vector BLOB NOT NULL,
    PRIMARY KEY (identity, text_hash)
)
"""


def text_hash(text: str) -> str:
    """SHA-256 of the UTF-8 text (the cache never stores the text itself: it may be personal data)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class EmbeddingCache:
    """Float32 vectors in one SQLite file, one row per (embedder identity, text hash)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._path = path
        with self._connect() as db:
            db.execute(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self._path, timeout=30)

    def get_many(self, identity: str, hashes: Sequence[str], dimension: int) -> dict[str, Vectors]:
        """Return the cached vectors among ``hashes`` (missing ones are absent from the dict)."""
        found: dict[str, Vectors] = {}
        with self._connect() as db:
            for start in range(0, len(hashes), 500):
                part = list(hashes[start : start + 500])
                marks = ",".join("?" * len(part))
                rows = db.execute(
                    f"SELECT text_hash, vector FROM embeddings WHERE identity = ? AND text_hash IN ({marks})",
                    [identity, *part],
                )
                for key, blob in rows:
                    vector = np.frombuffer(blob, dtype=np.float32)
                    if vector.shape == (dimension,):
                        found[key] = vector
        return found

    def put_many(self, identity: str, items: dict[str, Vectors]) -> None:
        """Store vectors (replacing any with the same key)."""
        with self._connect() as db:
            db.executemany(
                "INSERT OR REPLACE INTO embeddings (identity, text_hash, vector) VALUES (?, ?, ?)",
                [(identity, key, np.asarray(v, dtype=np.float32).tobytes()) for key, v in items.items()],
            )

    def count(self, identity: str | None = None) -> int:
        """Number of cached vectors, for one identity or all."""
        with self._connect() as db:
            if identity is None:
                row = db.execute("SELECT COUNT(*) FROM embeddings").fetchone()
            else:
                row = db.execute("SELECT COUNT(*) FROM embeddings WHERE identity = ?", [identity]).fetchone()
        return int(row[0])


class CachedEmbedder:
    """An :class:`~models.ports.Embedder` that looks texts up in an :class:`EmbeddingCache` first.

    ``hits`` and ``misses`` count texts since construction, so a run can report its cache use.
    """

    def __init__(self, inner: Embedder, cache: EmbeddingCache) -> None:
        self._inner = inner
        self._cache = cache
        self._identity = embedder_identity(inner)
        self.hits = 0
        self.misses = 0

    @property
    def model_id(self) -> str:
        """The model's identity (name and weights), recorded with every vector."""
        return self._inner.model_id

    @property
    def dimension(self) -> int:
        """Length of every vector ``encode`` returns."""
        return self._inner.dimension

    @property
    def version(self) -> str:
        """Changes whenever the same texts would embed differently (keys caches and indexes)."""
        return self._inner.version

    def encode(self, texts: Sequence[str], *, batch_size: int = 64) -> Vectors:
        """Embed ``texts``, computing only those the cache lacks."""
        hashes = [text_hash(t) for t in texts]
        found = self._cache.get_many(self._identity, sorted(set(hashes)), self.dimension)
        missing = sorted({h: t for h, t in zip(hashes, texts, strict=True) if h not in found}.items())
        if missing:
            fresh = self._inner.encode([t for _, t in missing], batch_size=batch_size)
            new = {h: fresh[i] for i, (h, _) in enumerate(missing)}
            self._cache.put_many(self._identity, new)
            found.update(new)
        fresh_keys = {h for h, _ in missing}
        self.misses += len(fresh_keys)
        self.hits += sum(1 for h in hashes if h not in fresh_keys)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for i, key in enumerate(hashes):
            out[i] = found[key]
        return out
