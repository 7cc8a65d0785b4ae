"""SQLite specifics of the store: WAL checkpoints run in a background thread, not in webhook commits."""

from __future__ import annotations

import os
import time
from pathlib import Path

from sqlalchemy import text

from fallback.store.db import Database


def _checkpointed(db: Database, path: Path, size: int) -> bool:
    """Is the whole log in the database file? (busy = another checkpoint, e.g. the thread's, is running)"""
    with db.engine.connect() as conn:
        busy, pages, copied = conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").one()
    return busy == 0 and pages == copied and os.path.getsize(path) > size


def _write_rows(db: Database, n: int) -> None:
    def write(s):  # type: ignore[no-untyped-def]
        stamp = time.time_ns()
        for i in range(n):
            row = {"k": f"k{stamp}-{i}", "v": "x" * 2000}
            s.execute(text("INSERT INTO meta (key, value) VALUES (:k, :v)"), row)
    db.run(write)


def test_commits_leave_checkpoints_to_the_background_thread(tmp_path: Path) -> None:
    db = Database.connect(f"sqlite:///{tmp_path / 'b.db'}", checkpoint_interval_s=0.05)
    try:
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
        checkpointer = db._checkpointer
        assert checkpointer is not None
        before = checkpointer.runs
        _write_rows(db, 3000)  # ~6 MB: SQLite's own policy would checkpoint inside this commit
        deadline = time.monotonic() + 5
        while checkpointer.runs <= before + 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert checkpointer.runs > before + 1  # the thread keeps running after the writes
        while not _checkpointed(db, tmp_path / "b.db", 5_000_000) and time.monotonic() < deadline + 5:
            time.sleep(0.05)
        assert _checkpointed(db, tmp_path / "b.db", 5_000_000)  # the rows reached the database file
    finally:
        db.dispose()
    assert not checkpointer._thread.is_alive()  # stopped with the database


def test_one_process_checkpoints_a_shared_file_and_another_takes_over(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    first = Database.connect(url, checkpoint_interval_s=0.05)
    second = Database.connect(url, checkpoint_interval_s=0.05)  # another worker on the same file
    try:
        a, b = first._checkpointer, second._checkpointer
        assert a is not None and b is not None
        deadline = time.monotonic() + 5
        while a.runs < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert a.runs >= 3 and b.runs == 0  # the lease holder checkpoints, the other stands by
        first.dispose()
        before = b.runs
        _write_rows(second, 300)
        while b.runs <= before and time.monotonic() < deadline + 5:
            time.sleep(0.05)
        assert b.runs > before  # the lease moved with the first one gone
    finally:
        first.dispose()
        second.dispose()


def test_without_the_setting_sqlite_checkpoints_as_usual(tmp_path: Path) -> None:
    db = Database.connect(f"sqlite:///{tmp_path / 'a.db'}")
    try:
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 1000
        assert db._checkpointer is None
    finally:
        db.dispose()


def test_the_server_setting_reaches_the_runtime_database(tmp_path: Path) -> None:
    from fallback.runtime import build_runtime
    from fallback.settings import ServerSettings, Settings
    from models.embedders.usem3 import Usem3Embedder

    embedder = Usem3Embedder()
    default = build_runtime(Settings(data_dir=tmp_path / "a"), embedder=embedder, generator=None, start=False)
    off = build_runtime(
        Settings(data_dir=tmp_path / "b", server=ServerSettings(sqlite_checkpoint_s=None)),
        embedder=embedder, generator=None, start=False,
    )
    try:
        assert default.db._checkpointer is not None and default.db._checkpointer.interval_s == 0.25
        assert off.db._checkpointer is None
    finally:
        default.close()
        off.close()


def test_one_process_lease_holder_per_sqlite_file(tmp_path: Path) -> None:
    from fallback.store.db import ProcessLease

    db = Database.connect(f"sqlite:///{tmp_path / 'l.db'}")
    try:
        # flock is per open file, so two leases in one process contend as two processes would
        first, second = ProcessLease(db, "suggest"), ProcessLease(db, "suggest")
        assert first.held() and first.held()  # taken, and kept
        assert not second.held()
        assert ProcessLease(db, "other").held()  # another chore, another lease
        first.release()
        assert second.held()  # free again: the next caller takes it
        second.release()
    finally:
        db.dispose()
    memory = Database.connect("sqlite://")
    try:
        a, b = ProcessLease(memory, "suggest"), ProcessLease(memory, "suggest")
        assert a.held() and b.held()  # nothing to share a lock file through: everyone sweeps
    finally:
        memory.dispose()
