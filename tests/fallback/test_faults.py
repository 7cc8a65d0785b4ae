"""Faults: generator down, database busy, kill -9 under load (zero lost events), duplicate deliveries."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from fallback.core.masking import pseudonymize
from fallback.store.schema import DraftJob, Event
from models.factory import build_generator
from models.settings import GeneratorSettings
from tests.fallback.conftest import TOKENS, call, hold_write_lock


def test_generator_down_hands_off_in_time_and_retries_the_draft(start_server) -> None:  # type: ignore[no-untyped-def]
    dead = GeneratorSettings(
        backend="openai", base_url="http://127.0.0.1:9/v1", model="chatglm3-6b", timeout_s=0.5, max_retries=0
    )
    rt, url = start_server(
        generator=build_generator(dead), drafting={"poll_interval_s": 0.05, "backoff_base_s": 30}
    )
    started = time.perf_counter()
    r = call(url, "你们的仓库在哪个城市发货", message_id="g1")
    assert r.status_code == 200 and r.json()["action"] in ("pending_review", "handoff")
    assert time.perf_counter() - started < rt.settings.server.deadline_s
    deadline = time.time() + 20
    job = None
    while time.time() < deadline:
        with rt.db.session() as s:
            job = s.scalars(select(DraftJob)).first()
            if job is not None and job.attempts >= 1 and job.status == "queued":
                break
        time.sleep(0.1)
    assert job is not None and job.attempts >= 1 and job.status == "queued" and job.last_error


def test_database_busy_is_waited_out_not_lost(start_server, database_url) -> None:  # type: ignore[no-untyped-def]
    rt, url = start_server()
    release_after = 1.5
    unlock = hold_write_lock(rt, database_url)

    def release() -> None:
        time.sleep(release_after)
        unlock()

    t = threading.Thread(target=release)
    t.start()
    started = time.perf_counter()
    r = call(url, "怎么开发票", message_id="busy")
    t.join()
    assert r.status_code == 200 and r.json()["reason"] != "internal_error", r.json()
    assert time.perf_counter() - started >= release_after * 0.9  # it waited for the lock, then logged
    with rt.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Event)) == 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


PSEUDONYM_KEY = "fault-test-pseudonym-key"


def _start(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "BACKSTOP_DATA_DIR": str(data_dir),
        "BACKSTOP_SEED_DEMO": "true",
        "BACKSTOP_AUTH__SERVICE_TOKENS": f'["{TOKENS[0]}"]',
        "BACKSTOP_SERVER__USER_RATE_PER_S": "0",
        "BACKSTOP_LOG_LEVEL": "WARNING",
        "BACKSTOP_AUTH__PSEUDONYM_KEY": PSEUDONYM_KEY,
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "backstop", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not become ready")


def test_kill_9_under_load_loses_no_event(tmp_path) -> None:  # type: ignore[no-untyped-def]
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    proc = _start(tmp_path, port)
    n = 120
    acked: dict[str, str] = {}
    queries = [
        "怎么开发票",
        "运费怎么算",
        "你们的仓库在哪里",
        "可以用花呗吗",
        "衣服起球了怎么办",
        "发货太慢了",
    ]

    def send(i: int) -> None:
        body = {
            "query": queries[i % len(queries)],
            "user_id": f"u{i}",
            "conversation_id": f"c{i}",
            "message_id": "m1",
        }
        for _ in range(200):  # the bot's own retry: same message id until it gets an answer
            try:
                r = httpx.post(
                    f"{url}/v1/fallback", json=body, headers={"X-Backstop-Token": TOKENS[0]}, timeout=10
                )
                if r.status_code == 200:
                    acked[f"c{i}"] = r.json()["trace_id"]
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)

    restarted: list[subprocess.Popen[bytes]] = []

    def killer() -> None:
        while len(acked) < n // 3:
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        restarted.append(_start(tmp_path, port))

    k = threading.Thread(target=killer)
    k.start()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(send, range(n)))
    k.join()
    try:
        assert len(acked) == n
        engine = create_engine(f"sqlite:///{tmp_path / 'backstop.db'}")
        with Session(engine) as s:
            rows = dict(s.execute(select(Event.conversation_id, Event.trace_id)).all())
            dupes = s.scalar(text("SELECT COUNT(*) - COUNT(DISTINCT conversation_id) FROM events"))
        engine.dispose()
        assert dupes == 0
        acked_ids = {pseudonymize(c, PSEUDONYM_KEY): t for c, t in acked.items()}  # stored as keyed hashes
        assert set(rows) == set(acked_ids)  # every acknowledged call is logged, exactly once
        assert all(rows[c] == t for c, t in acked_ids.items())  # retries were answered from the log
    finally:
        for p in [proc, *restarted]:
            if p.poll() is None:
                p.terminate()
                p.wait(10)
