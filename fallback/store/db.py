"""Engine and session factory. SQLite gets WAL + a busy timeout; PostgreSQL a pre-pinged pool."""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Generic, TypeVar

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from fallback.store.base import Base
from fallback.store.prepared import Tx, transaction

T = TypeVar("T")
S = TypeVar("S")
log = logging.getLogger(__name__)


def make_engine(url: str, *, manual_checkpoints: bool = False) -> Engine:
    """Create an engine for ``url`` with the pragmas/pool settings Backstop relies on.

    ``manual_checkpoints`` (SQLite): no automatic WAL checkpoints; :class:`Checkpointer` runs them.
    """
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:" and not path.startswith("file:"):
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # hide_parameters: an error's message (and so the log) never carries the customer's values
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            if manual_checkpoints:
                cur.execute("PRAGMA wal_autocheckpoint=0")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, hide_parameters=True)


def missing_sqlite_file(url: str) -> Path | None:
    """The file of an SQLite ``url`` when it does not exist yet (None: it exists, or not a file URL).

    Commands that only read or add to a deployment's database (``users add``, ``mine``, ``export kb``)
    refuse to run on a file that is not there: opening it would create a new, empty database.
    """
    if not url.startswith("sqlite"):
        return None
    path = url.split("///", 1)[-1]
    if not path or path == ":memory:" or path.startswith("file:"):
        return None
    return None if Path(path).exists() else Path(path).resolve()


def init_schema(engine: Engine) -> None:
    """Create missing tables (the embedded default; PostgreSQL deployments run Alembic)."""
    import fallback.store.schema  # noqa: F401  (registers the tables)

    Base.metadata.create_all(engine)


class Database:
    """An engine plus a session factory, with a retrying transaction helper."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._factory = sessionmaker(engine, expire_on_commit=False)
        self._checkpointer: Checkpointer | None = None

    @classmethod
    def connect(
        cls, url: str, *, create: bool = True, checkpoint_interval_s: float | None = None
    ) -> Database:
        """Open ``url``; create the schema when ``create``.

        ``checkpoint_interval_s`` (SQLite): move WAL checkpoints off the writers into a background
        thread that runs one every so many seconds (see :class:`Checkpointer`).
        """
        background = bool(checkpoint_interval_s) and url.startswith("sqlite")
        db = cls(make_engine(url, manual_checkpoints=background))
        if create:
            init_schema(db.engine)
        if background and checkpoint_interval_s:
            # one checkpointer per file: uvicorn workers share it, and each checkpoint syncs the file
            lease = ProcessLease(db, "checkpoint")
            db._checkpointer = Checkpointer(db.engine, checkpoint_interval_s, lease=lease)
            db._checkpointer.start()
        return db

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def lock_file(self, name: str) -> Path | None:
        """``<database file>-<name>.lock``, shared by the processes using an SQLite file; None for any
        other database (in-memory SQLite, PostgreSQL), where no file is shared."""
        path = self.engine.url.database if self.is_sqlite else None
        if not path or path == ":memory:" or "mode=memory" in path:
            return None
        return Path(f"{path}-{name}.lock")

    @contextmanager
    def session(self, *, immediate: bool = False) -> Iterator[Session]:
        """A session in a transaction: committed on success, rolled back on error.

        Args:
            immediate: SQLite only: take the write lock when the transaction starts (``BEGIN
                IMMEDIATE``). A transaction that reads and then writes otherwise starts as a reader and
                cannot become the writer when another connection committed in between: SQLite fails it
                at once with "database is locked" (no busy wait) and ``run`` retries it after a sleep.
        """
        with self._factory() as s, s.begin():
            if immediate and self.is_sqlite:
                s.execute(text("BEGIN IMMEDIATE"))  # pysqlite has not begun: it only does before DML
            yield s

    def run(self, fn: Callable[[Session], T], *, retries: int = 5, immediate: bool = False) -> T:
        """Run ``fn`` in a transaction, retrying when the database is busy or the connection dropped.

        ``immediate``: see :meth:`session` (for transactions that will write).
        """
        return _retrying(lambda: self.session(immediate=immediate), fn, retries)

    @contextmanager
    def tx(self, *, immediate: bool = False) -> Iterator[Tx]:
        """A DBAPI-level transaction for :class:`~fallback.store.prepared.Prepared` statements (the
        webhook's hot path; everything else uses :meth:`session`)."""
        with transaction(self.engine, immediate=immediate) as tx:
            yield tx

    def run_tx(self, fn: Callable[[Tx], T], *, retries: int = 5, immediate: bool = False) -> T:
        """:meth:`run` for :meth:`tx` transactions (same retries)."""
        return _retrying(lambda: self.tx(immediate=immediate), fn, retries)

    def dispose(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
        self.engine.dispose()


def _retrying(open_tx: Callable[[], AbstractContextManager[S]], fn: Callable[[S], T], retries: int) -> T:
    delay = 0.05
    for attempt in range(retries + 1):
        try:
            with open_tx() as tx:
                return fn(tx)
        except OperationalError:
            if attempt == retries:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 2.0)
    raise AssertionError("unreachable")


class ProcessLease:
    """At most one process of those sharing an embedded SQLite file holds the lease named ``name``.

    For background chores that every uvicorn worker would otherwise repeat on the same rows (the
    suggestion sweep). ``flock`` on a file beside the database: the kernel releases it when the
    holder exits, however it exits, and another process takes it at its next :meth:`held` call. With
    any other database (PostgreSQL, in-memory SQLite) every process holds it: the chores are
    idempotent, and processes on several hosts cannot share a file lock.
    """

    def __init__(self, db: Database, name: str):
        self._path = db.lock_file(name)
        self._file: Any = None

    def held(self) -> bool:
        """Whether this process holds the lease (taking it when it is free)."""
        if self._path is None or self._file is not None:
            return True
        f = open(self._path, "a+b")  # noqa: SIM115 - kept open while the lease is held
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            f.close()
            return False
        self._file = f
        return True

    def release(self) -> None:
        if self._file is not None:
            self._file.close()  # closing the file releases the lock
            self._file = None


class Checkpointer:
    """Copies SQLite's write-ahead log into the database file from a background thread.

    By default the commit that pushes the WAL past 1,000 pages runs the checkpoint itself, fsync
    included, while holding up the webhook call that made it (and every call queued behind that
    writer). Here writers never checkpoint; this thread runs a PASSIVE checkpoint (it waits for no
    reader or writer) every ``interval_s`` seconds, and a TRUNCATE one when the WAL is large and idle.
    """

    def __init__(
        self, engine: Engine, interval_s: float, *, truncate_pages: int = 4_000,
        lease: ProcessLease | None = None,
    ):
        self.engine = engine
        self.interval_s = interval_s
        self.truncate_pages = truncate_pages
        self.lease = lease  # when given, only the process holding it checkpoints (the others stand by)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="sqlite-checkpoint", daemon=True)
        self.runs = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        if self.lease is not None:
            self.lease.release()  # another process takes over at its next tick

    def checkpoint(self) -> tuple[int, int, int]:
        """One PASSIVE checkpoint: (busy, WAL pages, pages copied), as SQLite reports it."""
        with self.engine.connect() as conn:
            busy, pages, copied = conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").one()
            if pages >= self.truncate_pages and copied == pages:  # all copied: let the file shrink
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        self.runs += 1
        return int(busy), int(pages), int(copied)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                if self.lease is None or self.lease.held():
                    self.checkpoint()
            except Exception:  # a locked or vanished file must not kill the thread
                log.warning("sqlite.checkpoint_failed", exc_info=True)


class GroupCommit:
    """Runs the write transactions of concurrent callers one at a time, several per commit.

    SQLite has one writer, so a process queues its writers rather than spin on a busy database. With
    one lock, every hand-over from one request thread to the next waits for that thread to wake and
    win the GIL, and under load those hand-overs, not the writes, set the pace. Here the caller that
    finds no writer running becomes the writer: it runs everything queued meanwhile in one
    transaction (one commit), then hands the role to the owner of the next queued call. No call waits
    for a batch to fill; alone, a call runs in its own transaction as before.

    Each call's changes still commit before it returns, and a call that fails does not take the others
    with it: when a batch fails, its calls are run again one transaction each, so only the failing one
    raises (``fn`` must be safe to run again, as for :meth:`Database.run`'s retries).
    """

    def __init__(self, db: Database, *, max_batch: int = 32):
        self.db = db
        self.max_batch = max_batch
        self._mutex = threading.Lock()
        self._queue: deque[_Write[Any]] = deque()
        self._writing = False
        self._lock_path = db.lock_file("writer")
        self._lock_fd: int | None = None

    def run(self, fn: Callable[[Tx], T]) -> T:
        """Run ``fn`` in a committed transaction (shared with concurrent calls); return its result."""
        job: _Write[T] = _Write(fn)
        with self._mutex:
            self._queue.append(job)
            lead = not self._writing
            self._writing = True
        if not lead:
            job.wake.wait()  # done, or handed the writer's role
        if not job.done:
            self._write_until_done(job)
        if job.error is not None:
            raise job.error
        return job.result  # type: ignore[return-value]

    def _write_until_done(self, job: _Write[Any]) -> None:
        try:
            while not job.done:
                with self._mutex:
                    batch = [self._queue.popleft() for _ in range(min(self.max_batch, len(self._queue)))]
                if not batch:  # cannot happen while our call is queued; never spin
                    job.finish(None, RuntimeError("group commit lost a queued write"))
                    break
                self._commit(batch)
        finally:
            with self._mutex:
                if self._queue:
                    self._queue[0].wake.set()  # its owner writes next
                else:
                    self._writing = False

    @contextmanager
    def _between_processes(self) -> Iterator[None]:
        """Hold the database's writer lock file while committing (uvicorn workers share one file).

        SQLite makes a writer that finds the database locked sleep and poll (1, 2, 5 ... 100 ms), and
        a process committing batch after batch wins nearly every time: another worker's writes starved
        for seconds (docs/benchmarks.md, "Figures behind choices in the code"). ``flock`` queues the waiter
        in the kernel and wakes it when the lock is released.
        """
        if self._lock_path is None:
            yield
            return
        if self._lock_fd is None:  # opened once: one writer at a time per process uses it
            self._lock_fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            weakref.finalize(self, os.close, self._lock_fd)
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def _commit(self, batch: list[_Write[Any]]) -> None:
        with self._between_processes():
            self._commit_locked(batch)

    def _commit_locked(self, batch: list[_Write[Any]]) -> None:
        if len(batch) > 1:
            try:
                results = self.db.run_tx(lambda tx: [job.fn(tx) for job in batch], immediate=True)
            except Exception:
                for job in batch:  # find the failing call: each alone, as without batching
                    self._commit_locked([job])
                return
            except BaseException as e:  # interrupted: fail the calls rather than leave their owners waiting
                for job in batch:
                    job.finish(None, e)
                raise
            for job, result in zip(batch, results, strict=True):
                job.finish(result, None)
            return
        for job in batch:
            try:
                job.finish(self.db.run_tx(job.fn, immediate=True), None)
            except Exception as e:
                job.finish(None, e)
            except BaseException as e:  # interrupted: fail the call rather than leave its owner waiting
                job.finish(None, e)
                raise


class _Write(Generic[T]):
    """One caller's transaction function waiting for the writer."""

    __slots__ = ("done", "error", "fn", "result", "wake")

    def __init__(self, fn: Callable[[Tx], T]):
        self.fn = fn
        self.result: T | None = None
        self.error: BaseException | None = None
        self.done = False
        self.wake = threading.Event()

    def finish(self, result: T | None, error: BaseException | None) -> None:
        self.result, self.error, self.done = result, error, True
        self.wake.set()
