"""The draft queue on real SQLite and PostgreSQL: claims, leases, fencing, backoff, dead letters."""

from __future__ import annotations

import json
import multiprocessing
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from fallback.core.safety import SafetyPolicy
from fallback.drafting.jobs import DraftOutcome, DraftQueue, backoff_delay
from fallback.drafting.worker import DraftWorker
from fallback.settings import DraftingSettings
from fallback.store.db import Database
from fallback.store.schema import Candidate, DraftJob
from models.generators.openai import OpenAICompatibleGenerator
from tests.drafting import Clock, database_url, seed_answers, seed_candidate
from tests.models.fake_openai_server import Canned, FakeOpenAIServer

KINDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(params=KINDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with database_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database.connect(db_url)
    yield database
    database.dispose()


def outcome(text: str) -> DraftOutcome:
    return DraftOutcome(draft=text, references=[], flags={"issues": []}, scores={"grounding": 0.9},
                        generator="test", latency_ms=12.0)


def job_row(db: Database, candidate_id: int) -> DraftJob:
    return db.run(lambda s: s.scalars(select(DraftJob).where(DraftJob.candidate_id == candidate_id)).one())


def candidate(db: Database, candidate_id: int) -> Candidate:
    return db.run(lambda s: s.scalars(select(Candidate).where(Candidate.id == candidate_id)).one())


def test_backoff_doubles_from_the_base_with_bounded_jitter() -> None:
    assert [backoff_delay(n, 2.0) for n in (1, 2, 3, 4)] == [2.0, 4.0, 8.0, 16.0]
    assert backoff_delay(3, 2.0, jitter=0.999) == pytest.approx(8.0 * 1.25, rel=1e-3)
    assert backoff_delay(40, 2.0) == 3600.0


def test_claim_complete_and_nothing_twice(db: Database) -> None:
    cand_id = seed_candidate(db)
    queue = DraftQueue(db, lease_s=60, max_attempts=3, backoff_base_s=1)
    job = queue.claim("w1")
    assert job is not None and job.candidate_id == cand_id and job.attempts == 1
    row = job_row(db, cand_id)
    assert row.status == "running" and row.locked_by == "w1" and row.locked_until is not None
    assert queue.claim("w2") is None  # leased
    assert queue.complete(job, outcome("您好，签收后7天内可以退货。")) is True
    assert queue.complete(job, outcome("again")) is False  # the claim is spent
    row, cand = job_row(db, cand_id), candidate(db, cand_id)
    assert (row.status, row.locked_by, row.attempts) == ("done", None, 1)
    assert cand.draft == "您好，签收后7天内可以退货。" and cand.draft_status == "drafted"
    assert cand.scores == {"grounding": 0.9} and cand.generator == "test" and cand.draft_latency_ms == 12.0
    assert queue.claim("w2") is None and queue.counts() == {"queued": 0, "running": 0, "done": 1, "dead": 0}


def test_expired_lease_is_reclaimed_and_the_zombie_cannot_write(db: Database) -> None:
    cand_id = seed_candidate(db)
    clock = Clock()
    queue = DraftQueue(db, lease_s=30, max_attempts=5, backoff_base_s=1, clock=clock)
    zombie = queue.claim("w1")
    assert zombie is not None
    clock.advance(29)
    assert queue.claim("w2") is None  # still leased
    assert queue.renew(zombie)  # a live worker keeps its job
    clock.advance(31)
    heir = queue.claim("w2")  # w1 stopped renewing (died, or paused): its job is free again
    assert heir is not None and heir.id == zombie.id and heir.attempts == 2
    assert queue.renew(zombie) is False
    assert queue.complete(zombie, outcome("zombie draft")) is False
    assert queue.fail(zombie, "zombie error") is None
    assert job_row(db, cand_id).locked_by == "w2"
    assert queue.complete(heir, outcome("heir draft")) is True
    assert candidate(db, cand_id).draft == "heir draft" and job_row(db, cand_id).attempts == 2


def test_an_expired_lease_nobody_took_still_completes(db: Database) -> None:
    cand_id = seed_candidate(db)
    clock = Clock()
    queue = DraftQueue(db, lease_s=10, max_attempts=5, backoff_base_s=1, clock=clock)
    job = queue.claim("w1")
    assert job is not None
    clock.advance(60)
    assert queue.complete(job, outcome("late but first")) is True
    assert queue.claim("w2") is None and candidate(db, cand_id).draft == "late but first"


def test_failures_back_off_then_dead_letter_with_the_error(db: Database) -> None:
    answer_ids = seed_answers(db)
    cand_id = seed_candidate(db, references=[{"answer_id": i, "score": 0.7} for i in answer_ids.values()])
    clock = Clock()
    settings = DraftingSettings(max_attempts=3, backoff_base_s=10)
    queue = DraftQueue.from_settings(db, settings, clock=clock, rng=lambda: 0.5)  # jitter +12.5 %
    with FakeOpenAIServer() as server:
        server.script.extend(Canned(503, {"error": {"message": "model overloaded"}}) for _ in range(3))
        generator = OpenAICompatibleGenerator(base_url=server.base_url, model="glm-4-9b-chat", max_retries=0)
        worker = DraftWorker(db, generator, SafetyPolicy.load(), lambda t, r: 0.0, settings, queue=queue)
        waits = []
        for attempt in (1, 2, 3):
            failed_at = clock()
            assert worker.run_once("w1") is True
            row = job_row(db, cand_id)
            assert row.attempts == attempt and row.locked_by is None
            assert "HTTP 503" in (row.last_error or "") and "model overloaded" in (row.last_error or "")
            if attempt < 3:
                assert row.status == "queued"
                waits.append((row.next_attempt_at - failed_at).total_seconds())
                assert worker.run_once("w1") is False  # not due yet: nothing runs early
                clock.advance(waits[-1] + 0.01)
        assert waits == pytest.approx([11.25, 22.5], abs=0.01)  # 10 * 2**(n-1) * 1.125
        assert len(server.requests) == 3
        row, cand = job_row(db, cand_id), candidate(db, cand_id)
        assert row.status == "dead" and "HTTP 503" in (row.last_error or "")
        assert cand.draft_status == "failed" and "HTTP 503" in cand.flags["draft_error"]
        assert len(cand.references) == 2 and all("text" in r for r in cand.references)  # still suggested
        clock.advance(3600)
        assert worker.run_once("w1") is False  # dead stays dead
        assert queue.requeue_dead() == 1
        assert candidate(db, cand_id).draft_status == "queued"
        assert job_row(db, cand_id).attempts == 0 and queue.claim("w1") is not None


def test_a_job_whose_workers_keep_dying_is_dead_lettered(db: Database) -> None:
    cand_id = seed_candidate(db)
    clock = Clock()
    queue = DraftQueue(db, lease_s=10, max_attempts=2, backoff_base_s=1, clock=clock)
    for _ in range(2):
        assert queue.claim("w") is not None  # ... and the worker is killed mid-draft
        clock.advance(11)
    assert queue.claim("w") is None
    assert queue.reap() == 1
    row = job_row(db, cand_id)
    assert row.status == "dead" and "lease expired after 2 attempt(s)" in (row.last_error or "")
    assert candidate(db, cand_id).draft_status == "failed"


def _claim_all(url: str, label: str, out: str, go: Any) -> None:
    """Child process: claim and complete jobs until none is left; write the claims to ``out``."""
    db = Database.connect(url, create=False)
    queue = DraftQueue(db, lease_s=60, max_attempts=3, backoff_base_s=1)
    claims = []
    go.wait(30)
    while (job := queue.claim(label)) is not None:
        claims.append([job.id, job.attempts])
        time.sleep(0.003)  # some work, so both claimers stay in the race
        assert queue.complete(job, None)
    Path(out).write_text(json.dumps(claims))
    db.dispose()


@pytest.mark.slow
def test_two_worker_processes_never_claim_the_same_job(db: Database, db_url: str, tmp_path: Path) -> None:
    cand_ids = [seed_candidate(db, f"问题{i}") for i in range(60)]
    ctx = multiprocessing.get_context("spawn")
    go = ctx.Event()
    outs = [tmp_path / f"claims-{i}.json" for i in range(2)]
    procs = [ctx.Process(target=_claim_all, args=(db_url, f"p{i}", str(outs[i]), go)) for i in range(2)]
    for p in procs:
        p.start()
    time.sleep(0.2)
    go.set()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    claims = [json.loads(o.read_text()) for o in outs]
    ids = [job_id for per in claims for job_id, _ in per]
    assert len(ids) == len(set(ids)) == len(cand_ids)  # every job once, none twice
    assert all(attempts == 1 for per in claims for _, attempts in per)
    assert all(per for per in claims), "both processes should have won some jobs"
    assert DraftQueue(db, lease_s=1, max_attempts=1, backoff_base_s=1).counts()["done"] == 60
