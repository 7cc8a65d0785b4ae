"""A thread or two per process run the webhook's calls, a batch at a time.

The HTTP layer is asynchronous; the service is blocking Python and numpy. Handing each call to a
thread of a 40-thread pool cost more than half a millisecond of CPU per call on the 2-core reference
machine (thread wake-up, GIL hand-overs among dozens of runnable threads), and the concurrent calls
then met again in the embedder's and the database's queues to be batched. Here calls queue for one
thread, which takes everything queued (up to ``max_batch``) and runs it through
:meth:`~fallback.service.FallbackService.handle_many`: one forward pass, one FAISS search, one
transaction. Nothing waits for a batch to fill: a call that finds the thread idle runs at once.

Callers wait on a :class:`concurrent.futures.Future`; giving up on it (the webhook's deadline) does
not cancel the call, which still runs and is logged, as an abandoned worker thread would be.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Generic, TypeVar

log = logging.getLogger(__name__)
_LOAD_TAU_S = 0.1  # time constant of a dispatcher thread's load estimate
_LOADED = 0.5  # from this share of busy time on, batches linger (see Dispatcher._linger)
Req = TypeVar("Req")
Res = TypeVar("Res")


async def wait_for(future: Future[Res], timeout: float) -> Res:
    """The call's result, or :class:`TimeoutError` after ``timeout`` seconds; the call is never
    cancelled (it still runs and is logged), nor when the awaiting task is.

    What ``anyio.fail_after`` + ``asyncio.shield`` + ``asyncio.wrap_future`` did, with one loop
    future and one timer instead of a cancel scope and three chained futures: 92 -> 25 us of CPU
    per call on the 2-core reference machine (uvloop, 100 calls in flight).
    """
    loop = asyncio.get_running_loop()
    waiter: asyncio.Future[None] = loop.create_future()

    def done(_: Future[Res]) -> None:  # runs on the dispatcher thread
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
            loop.call_soon_threadsafe(_wake, waiter)

    future.add_done_callback(done)
    timer = loop.call_later(timeout, _wake, waiter)
    try:
        await waiter
    finally:
        timer.cancel()
    if not future.done():
        raise TimeoutError(f"no result within {timeout:g} s")
    return future.result()


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


class Dispatcher(Generic[Req, Res]):
    """Runs ``handle_many`` over whatever calls are queued, on ``threads`` threads (default one).

    With two, one thread can embed the next batch while the other waits for the database's write
    lock (another worker process may hold it); each takes the whole queue when it looks.
    """

    def __init__(
        self, handle_many: Callable[[list[Req]], Sequence[Res | Exception]], *, max_batch: int = 32,
        threads: int = 1, linger_s: float = 0.0, name: str = "fallback-dispatch",
    ):
        self.handle_many = handle_many
        self.max_batch = max_batch
        self.linger_s = linger_s
        self._queue: deque[tuple[Req, Future[Res], float]] = deque()
        self._ready = threading.Condition()
        self._stopping = False
        self._idle = 0  # threads waiting for a first call (not lingering for more)
        self._threads = [threading.Thread(target=self._loop, name=f"{name}-{i}", daemon=True)
                         for i in range(max(1, threads))]

    def start(self) -> Dispatcher[Req, Res]:
        for thread in self._threads:
            thread.start()
        return self

    def submit(self, req: Req) -> Future[Res]:
        """Queue one call; its future gets the result or the call's own exception."""
        future: Future[Res] = Future()
        with self._ready:
            if self._stopping:
                raise RuntimeError("the dispatcher is stopped")
            self._queue.append((req, future, time.monotonic()))
            if self._idle or len(self._queue) >= self.max_batch:  # a lingering thread waits for its timer
                self._ready.notify()
        return future

    def stop(self, timeout: float = 10.0) -> None:
        """Run what is queued, then stop the thread."""
        with self._ready:
            self._stopping = True
            self._ready.notify_all()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def _loop(self) -> None:
        load = 0.0  # this thread's recent share of time spent on batches (and lingering), not idle
        since = time.monotonic()  # when this thread last took a batch
        while True:
            with self._ready:
                idle = 0.0
                if not self._queue and not self._stopping:
                    waiting = time.monotonic()
                    self._idle += 1
                    try:
                        while not self._queue and not self._stopping:
                            self._ready.wait()
                    finally:
                        self._idle -= 1
                    idle = time.monotonic() - waiting
                if not self._queue:  # stopping, and nothing left
                    return
                now = time.monotonic()
                if (cycle := now - since) > 0:  # decays with time: a long idle spell clears it at once
                    load += (1 - math.exp(-cycle / _LOAD_TAU_S)) * ((cycle - idle) / cycle - load)
                since = now
                if load >= _LOADED and self.linger_s > 0:
                    self._linger()
                batch = [self._queue.popleft() for _ in range(min(self.max_batch, len(self._queue)))]
            self._run(batch)

    def _linger(self) -> None:
        """Under load, let the batch grow until its oldest call has waited ``linger_s`` (or it is full).

        A batch's fixed costs (streaming the embedder's weights, one search, one commit) dominate
        small batches, so a call costs several times less CPU in a batch of sixteen than alone
        (docs/benchmarks.md, "What a call costs, by batch size"). Only while the thread has been busy
        at least half of the last ~0.1 s: when calls are sparse, one runs at once.
        """
        deadline = self._queue[0][2] + self.linger_s
        while len(self._queue) < self.max_batch and not self._stopping:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self._ready.wait(left)

    def _run(self, batch: list[tuple[Req, Future[Res], float]]) -> None:
        live = [(req, f) for req, f, _ in batch if f.set_running_or_notify_cancel()]
        if not live:
            return
        try:
            outcomes = self.handle_many([req for req, _ in live])
            if len(outcomes) != len(live):
                raise RuntimeError(f"{len(outcomes)} outcomes for {len(live)} calls")
        except Exception as e:  # a bug in the batch path: every call of the batch gets the error
            log.exception("dispatch.batch_failed calls=%d", len(live))
            outcomes = [e] * len(live)
        except BaseException as e:  # interrupted: nobody may wait for these calls forever
            for _, f in live:
                f.set_exception(e)
            raise
        for (_, future), outcome in zip(live, outcomes, strict=True):
            if isinstance(outcome, Exception):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)
