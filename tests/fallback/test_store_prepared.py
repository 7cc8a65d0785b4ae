"""The webhook's prepared statements store exactly what the ORM stores, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from fallback.store import answers as answers_repo
from fallback.store import candidates as cand_repo
from fallback.store import events as events_repo
from fallback.store.db import Database
from fallback.store.prepared import Prepared
from fallback.store.schema import Answer, Candidate, CandidateExample, DraftJob, Event, text_digest


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    url = (f"sqlite:///{tmp_path / 'p.db'}" if request.param == "sqlite"
           else request.getfixturevalue("fresh_postgres_url"))
    database = Database.connect(url)
    yield database
    database.dispose()


def _event(tx: Any, trace_id: str, **fields: Any) -> None:
    events_repo.insert_event(
        tx, trace_id=trace_id, conversation_id="c1", message_id=fields.pop("message_id", trace_id),
        user_id="u1", query="发票怎么开", action="answer", reason="confident", **fields,
    )


def test_an_event_reads_back_through_the_orm_as_written(db: Database) -> None:
    before = datetime.now(UTC)
    response = {"action": "answer", "answer": "可以开发票", "confidence": 0.97, "answer_id": 3}
    db.run_tx(lambda tx: _event(tx, "t1", matches=[{"key_id": 1, "score": 0.9}], slots={"order_id": "12"},
                                response=response, cached=True, confidence=0.97))
    row = db.run(lambda s: s.scalars(select(Event).where(Event.trace_id == "t1")).one())
    assert row.response == response and row.matches == [{"key_id": 1, "score": 0.9}]
    assert row.slots == {"order_id": "12"} and row.cached is True and row.confidence == pytest.approx(0.97)
    # column defaults filled in as SQLAlchemy would: created_at now (aware UTC), locale, client
    assert row.created_at.tzinfo is not None and before <= row.created_at <= datetime.now(UTC)
    assert row.locale == "zh-CN" and row.client == {} and row.latency_ms == 0.0
    found = db.run_tx(lambda tx: events_repo.find(tx, "c1", "t1"))
    assert found is not None and found.trace_id == "t1" and found.response == response
    assert db.run_tx(lambda tx: events_repo.find(tx, "c1", "other")) is None


def test_a_duplicate_message_raises_sqlalchemys_integrity_error_and_writes_nothing(db: Database) -> None:
    db.run_tx(lambda tx: _event(tx, "t1", message_id="m1"))

    def twice(tx: Any) -> None:
        _event(tx, "t2", message_id="m9")
        _event(tx, "t3", message_id="m1")  # same (conversation_id, message_id) as t1

    with pytest.raises(IntegrityError):
        db.run_tx(twice, immediate=True)
    traces = db.run(lambda s: s.scalars(select(Event.trace_id).order_by(Event.id)).all())
    assert traces == ["t1"]  # t2 was rolled back with the failing statement's transaction


def test_candidates_get_their_digest_defaults_and_onupdate_stamps(db: Database) -> None:
    cid = db.run_tx(lambda tx: cand_repo.create(
        tx, text="衣服起球了怎么办", risk=True, references=[{"answer_id": 1, "score": 0.5}],
        context={"slots": {}}, draft=True), immediate=True)
    created = db.run(lambda s: s.get(Candidate, cid))
    assert created.status == "pending" and created.risk is True and created.references[0]["answer_id"] == 1
    example = db.run(lambda s: s.scalars(select(CandidateExample).where(CandidateExample.candidate_id == cid))
                     .one())
    assert example.text_hash == text_digest("衣服起球了怎么办")  # the context-sensitive default
    assert db.run(lambda s: s.scalars(select(DraftJob.status).where(DraftJob.candidate_id == cid)).one()) \
        == "queued"

    assert db.run_tx(lambda tx: cand_repo.find_pending_by_text(tx, "衣服起球了怎么办")) == cid
    assert db.run_tx(lambda tx: cand_repo.attach(tx, cid, "起球怎么处理", 0.8), immediate=True)
    assert db.run_tx(lambda tx: cand_repo.attach(tx, cid, "起球怎么处理", 0.8), immediate=True)
    after = db.run(lambda s: s.get(Candidate, cid))
    assert after.occurrences == 3 and after.updated_at > created.updated_at  # onupdate ran
    ex = CandidateExample
    per_text = select(ex.text, ex.count).where(ex.candidate_id == cid)
    counts = db.run(lambda s: dict(s.execute(per_text).all()))
    assert counts == {"衣服起球了怎么办": 1, "起球怎么处理": 2}
    assert db.run_tx(lambda tx: cand_repo.find_pending_by_text(tx, "起球怎么处理")) == cid
    assert db.run_tx(lambda tx: cand_repo.find_pending_by_text(tx, "没问过的问题")) is None


def test_gate_view_and_hits(db: Database) -> None:
    until = datetime.now(UTC) + timedelta(days=3)

    def seed(s: Any) -> int:
        a = Answer(question="发票", text="可以开", safe_to_autosend=True, valid_until=until)
        s.add(a)
        s.flush()
        return a.id

    aid = db.run(seed)
    view = db.run_tx(lambda tx: answers_repo.gate_view(tx, aid))
    assert view is not None and view.active and view.safe_to_autosend and view.text == "可以开"
    assert view.valid_until == until and view.valid_until.tzinfo is not None and view.valid_from is None
    assert db.run_tx(lambda tx: answers_repo.gate_view(tx, aid + 100)) is None
    db.run_tx(lambda tx: answers_repo.add_hits(tx, {aid: 2}))
    db.run_tx(lambda tx: answers_repo.add_hits(tx, {aid: 1}))
    assert db.run(lambda s: s.get(Answer, aid)).hit_count == 3


def test_a_statement_compiles_once_per_dialect_and_parameter_set(db: Database) -> None:
    stmt = Prepared(select(Event.id).where(Event.trace_id == "x"))
    a = stmt.compiled(db.engine.dialect, {})
    assert stmt.compiled(db.engine.dialect, {}) is a
    assert db.run_tx(lambda tx: tx.all(stmt, {})) == []
