"""Engine and session factory. SQLite gets WAL + a busy timeout; PostgreSQL a pre-pinged pool."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from fallback.store.base import Base

T = TypeVar("T")


def make_engine(url: str) -> Engine:
    """Create an engine for ``url`` with the pragmas/pool settings Backstop relies on."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:" and not path.startswith("file:"):
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def init_schema(engine: Engine) -> None:
    """Create missing tables (the embedded default; PostgreSQL deployments run Alembic)."""
    import fallback.store.schema  # noqa: F401  (registers the tables)

    Base.metadata.create_all(engine)


class Database:
    """An engine plus a session factory, with a retrying transaction helper."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._factory = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def connect(cls, url: str, *, create: bool = True) -> Database:
        """Open ``url``; create the schema when ``create``."""
        db = cls(make_engine(url))
        if create:
            init_schema(db.engine)
        return db

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in a transaction: committed on success, rolled back on error."""
        with self._factory() as s, s.begin():
            yield s

    def run(self, fn: Callable[[Session], T], *, retries: int = 5) -> T:
        """Run ``fn`` in a transaction, retrying when the database is busy or the connection dropped."""
        delay = 0.05
        for attempt in range(retries + 1):
            try:
                with self.session() as s:
                    return fn(s)
            except OperationalError:
                if attempt == retries:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 2.0)
        raise AssertionError("unreachable")

    def dispose(self) -> None:
        self.engine.dispose()
