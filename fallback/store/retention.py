"""Retention: delete events and closed candidates older than the ``retention`` settings allow.

Run by ``backstop purge`` (from cron, like the nightly mining). Pending candidates are never touched,
however old: a reviewer still has to see them. The audit log is kept whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, delete, func, select
from sqlalchemy.orm import Session

from fallback.store.base import utcnow
from fallback.store.schema import Candidate, CandidateExample, DraftJob, Event

CLOSED = ("approved", "rejected")


@dataclass(frozen=True)
class PurgeReport:
    """What one purge deleted (or, dry, would delete), and the cut-offs it used (None: kept forever)."""

    events: int
    candidates: int
    events_before: datetime | None
    candidates_before: datetime | None
    dry_run: bool


def cutoff(days: int | None, *, now: datetime | None = None) -> datetime | None:
    """``days`` before ``now`` (None when ``days`` is None: keep forever)."""
    return None if days is None else (now or utcnow()) - timedelta(days=days)


def _count(s: Session, query: Select[Any]) -> int:
    return int(s.scalar(select(func.count()).select_from(query.subquery())) or 0)


def purge(
    s: Session,
    *,
    events_before: datetime | None,
    candidates_before: datetime | None,
    dry_run: bool = False,
) -> PurgeReport:
    """Delete events logged before ``events_before`` and candidates closed before ``candidates_before``.

    A candidate is closed when approved or rejected; its close time is its last update. Its examples
    and draft job go with it. Runs in the caller's transaction.
    """
    events = candidates = 0
    if events_before is not None:
        old_events = select(Event.id).where(Event.created_at < events_before)
        events = _count(s, old_events)
        if not dry_run and events:
            s.execute(delete(Event).where(Event.created_at < events_before))
    if candidates_before is not None:
        closed = select(Candidate.id).where(
            Candidate.status.in_(CLOSED), Candidate.updated_at < candidates_before
        )
        candidates = _count(s, closed)
        if not dry_run and candidates:
            ids = closed.scalar_subquery()
            s.execute(delete(CandidateExample).where(CandidateExample.candidate_id.in_(ids)))
            s.execute(delete(DraftJob).where(DraftJob.candidate_id.in_(ids)))
            s.execute(delete(Candidate).where(Candidate.id.in_(ids)))
    return PurgeReport(events, candidates, events_before, candidates_before, dry_run)
