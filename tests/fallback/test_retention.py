"""``backstop purge`` on a real SQLite file: old events and closed candidates go, the rest stays."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from backstop.cli import build_app
from fallback.store.base import utcnow
from fallback.store.db import Database
from fallback.store.schema import AuditEntry, Candidate, CandidateExample, DraftJob, Event


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A service database under ``tmp_path`` (BACKSTOP_DATA_DIR) with events and candidates of all ages."""
    for key in list(os.environ):
        if key.upper().startswith("BACKSTOP_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("BACKSTOP_DATA_DIR", str(tmp_path))
    now = utcnow()
    db = Database.connect(f"sqlite:///{tmp_path / 'backstop.db'}")

    def seed(s) -> None:  # type: ignore[no-untyped-def]
        for i, days in enumerate([200, 100, 40, 1]):
            s.add(Event(trace_id=f"t{i}", created_at=now - timedelta(days=days), conversation_id=f"c{i}",
                        message_id="m", user_id="u", query=f"问题{i}", action="handoff", reason="miss"))
        for status, days in [("approved", 60), ("rejected", 45), ("approved", 5), ("pending", 300)]:
            cand = Candidate(status=status, query=f"{status}-{days}", created_at=now - timedelta(days=days),
                             updated_at=now - timedelta(days=days))
            cand.examples.append(CandidateExample(text=cand.query))
            s.add(cand)
            s.flush()
            s.add(DraftJob(candidate_id=cand.id, status="done"))
        s.add(AuditEntry(actor="alice", action="approve", entity="candidate", entity_id=1))

    db.run(seed)
    db.dispose()
    return tmp_path


def counts(data_dir: Path) -> dict[str, int]:
    db = Database.connect(f"sqlite:///{data_dir / 'backstop.db'}", create=False)
    try:
        return db.run(lambda s: {
            t.__tablename__: int(s.scalar(select(func.count()).select_from(t)) or 0)
            for t in (Event, Candidate, CandidateExample, DraftJob, AuditEntry)
        })
    finally:
        db.dispose()


def remaining_candidates(data_dir: Path) -> list[str]:
    db = Database.connect(f"sqlite:///{data_dir / 'backstop.db'}", create=False)
    try:
        return db.run(lambda s: sorted(s.scalars(select(Candidate.query))))
    finally:
        db.dispose()


def test_purge_deletes_old_events_and_closed_candidates(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = counts(data_dir)
    assert before == {"events": 4, "candidates": 4, "candidate_examples": 4, "draft_jobs": 4, "audit_log": 1}
    monkeypatch.setenv("BACKSTOP_RETENTION__EVENTS_DAYS", "90")
    monkeypatch.setenv("BACKSTOP_RETENTION__CLOSED_CANDIDATES_DAYS", "30")

    dry = CliRunner().invoke(build_app(), ["purge", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert dry.stdout.splitlines() == [
        "would delete 2 events older than 90 days",
        "would delete 2 closed candidates older than 30 days",
    ]
    assert counts(data_dir) == before  # a dry run deletes nothing

    done = CliRunner().invoke(build_app(), ["purge"])
    assert done.exit_code == 0, done.output
    assert done.stdout.splitlines() == [
        "deleted 2 events older than 90 days",
        "deleted 2 closed candidates older than 30 days",
    ]
    # the recent closed one and the old but still pending one stay; examples and jobs went with theirs
    assert remaining_candidates(data_dir) == ["approved-5", "pending-300"]
    assert counts(data_dir) == {
        "events": 2, "candidates": 2, "candidate_examples": 2, "draft_jobs": 2, "audit_log": 1,
    }
    again = CliRunner().invoke(build_app(), ["purge"])
    assert again.stdout.splitlines()[0] == "deleted 0 events older than 90 days"


def test_purge_keeps_everything_by_default(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = CliRunner().invoke(build_app(), ["purge"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("nothing to purge: set BACKSTOP_RETENTION__EVENTS_DAYS")
    monkeypatch.setenv("BACKSTOP_RETENTION__EVENTS_DAYS", "30")  # one of the two: the other is kept
    result = CliRunner().invoke(build_app(), ["purge"])
    assert result.stdout.splitlines() == ["deleted 3 events older than 30 days", "kept all closed candidates"]
    assert counts(data_dir)["candidates"] == 4


def test_retention_days_must_be_positive(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACKSTOP_RETENTION__EVENTS_DAYS", "0")
    result = CliRunner().invoke(build_app(), ["purge"])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "error: BACKSTOP_RETENTION__EVENTS_DAYS: Input should be greater than or equal to 1"
    )
