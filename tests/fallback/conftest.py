"""A real Backstop server (uvicorn on a loopback port, real SQLite, real FAISS, the real embedder)."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from fallback.api.app import create_app
from fallback.runtime import Runtime, build_runtime
from fallback.settings import Settings

TOKENS = ["token-current-0123456789", "token-next-0123456789ab"]


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    base: dict[str, Any] = {
        "data_dir": data_dir,
        "seed_demo": True,
        "auth": {"service_tokens": TOKENS, "session_secret": "test-session-secret-0123456789"},
        "generator": {"backend": "none"},
    }
    base.update(overrides)
    return Settings(**base)


@contextmanager
def serve(runtime: Runtime) -> Iterator[str]:
    """Run the app for ``runtime`` with uvicorn in a thread; yield its base URL."""
    app = create_app(runtime.settings, runtime=runtime)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not server.started:
        if time.time() > deadline or not thread.is_alive():
            raise RuntimeError("server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Every server test runs on the embedded SQLite file and on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return ""
    return str(request.getfixturevalue("fresh_postgres_url"))


@pytest.fixture
def start_server(
    default_embedder: Any, tmp_path: Path, database_url: str
) -> Iterator[Callable[..., tuple[Runtime, str]]]:
    """Start servers on demand (several in one test share the data dir and database)."""
    stack: list[Any] = []

    def start(
        data_dir: Path | None = None, embedder: Any = None, generator: Any = None, **overrides: Any
    ) -> tuple[Runtime, str]:
        overrides.setdefault("database_url", database_url)
        settings = make_settings(data_dir or tmp_path, **overrides)
        rt = build_runtime(settings, embedder=embedder or default_embedder, generator=generator)
        cm = serve(rt)
        url = cm.__enter__()
        stack.append((cm, rt))
        return rt, url

    yield start
    for cm, rt in reversed(stack):
        cm.__exit__(None, None, None)
        rt.close()


def call(url: str, query: str, *, token: str = TOKENS[0], **fields: Any) -> httpx.Response:
    body = {"query": query, "user_id": "u-1", "conversation_id": "c-1", **fields}
    return httpx.post(f"{url}/v1/fallback", json=body, headers={"X-Backstop-Token": token}, timeout=30)


# the text columns that hold (masked) customer input; floats such as similarity scores are left out
# because a digit scanner can mistake them for card numbers
TEXT_COLUMNS = {
    "events": "query, slots, client, response, matches",
    "candidates": "query, context, draft",
    "candidate_examples": "text",
    "draft_jobs": "last_error",
}


_TRACE_ID = re.compile(r"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])")


def without_trace_ids(text: str) -> str:
    """``text`` with our trace ids replaced: they are random hex, and about one in a thousand holds
    eleven digits that read as a mobile number (a flake seen in CI); they are ours, not the user's."""
    return _TRACE_ID.sub("<trace>", text)


def text_dump(rt: Runtime) -> str:
    """Every stored text column of customer input, as one string (for personal-data scans)."""
    from sqlalchemy import text

    with rt.db.engine.connect() as conn:
        return "\n".join(
            str(row)
            for t, cols in TEXT_COLUMNS.items()
            for row in conn.execute(text(f"SELECT {cols} FROM {t}"))
        )


def hold_write_lock(rt: Runtime, database_url: str) -> Callable[[], None]:
    """Lock the database against the service's writes from outside; returns the release function.

    PostgreSQL: another session holds an exclusive lock on the event log. SQLite: another connection
    holds the write lock.
    """
    if database_url:
        from sqlalchemy import create_engine, text

        engine = create_engine(database_url)
        conn = engine.connect()
        tx = conn.begin()
        conn.execute(text("LOCK TABLE events IN ACCESS EXCLUSIVE MODE"))

        def release_pg() -> None:
            tx.rollback()
            conn.close()
            engine.dispose()

        return release_pg
    import sqlite3

    path = rt.settings.resolved_database_url.split("///", 1)[1]
    locker = sqlite3.connect(path, timeout=1, check_same_thread=False)
    locker.execute("BEGIN EXCLUSIVE")

    def release_sqlite() -> None:
        locker.rollback()
        locker.close()

    return release_sqlite

