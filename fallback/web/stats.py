"""Dashboard figures, computed from what the service already records (events, candidates, audit).

Days are calendar days in the console's display zone (UTC+8), grouped in SQL so a long event log is
never loaded into memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from fallback.store.schema import AuditEntry, Candidate, Event
from fallback.web.render import DISPLAY_TZ, to_local

RESOLVING = ("approve", "approve_edited", "reject")
APPROVING = ("approve", "approve_edited")


def _day(s: Session, column: Any) -> ColumnElement[Any]:
    """``YYYY-MM-DD`` of a UTC timestamp column, in the display zone."""
    dialect = s.get_bind().dialect.name
    if dialect == "sqlite":
        return func.date(column, "+8 hours")
    if dialect == "postgresql":
        return func.to_char(func.timezone("Asia/Shanghai", column), "YYYY-MM-DD")
    return func.date(column)  # other backends: UTC days


def window(days: int, now: datetime | None = None) -> tuple[list[str], datetime]:
    """The last ``days`` display-zone days (oldest first) and the UTC instant the first one starts."""
    today = (now or datetime.now(DISPLAY_TZ)).astimezone(DISPLAY_TZ).date()
    labels = [(today - timedelta(days=k)).isoformat() for k in range(days - 1, -1, -1)]
    start = datetime.combine(date.fromisoformat(labels[0]), time(0), DISPLAY_TZ)
    return labels, start


def _by_day(s: Session, column: Any, start: datetime, *where: Any) -> dict[str, int]:
    day = _day(s, column)
    rows = s.execute(select(day, func.count()).where(column >= start, *where).group_by(day))
    return {str(d): int(n) for d, n in rows}


def coverage(s: Session, labels: list[str], start: datetime) -> list[tuple[str, float | None, int]]:
    """Per day: the share of webhook calls answered automatically (None without calls), and the calls."""
    total = _by_day(s, Event.created_at, start)
    answered = _by_day(s, Event.created_at, start, Event.action == "answer")
    return [(d, (answered.get(d, 0) / total[d]) if total.get(d) else None, total.get(d, 0)) for d in labels]


def decisions(s: Session, start: datetime) -> dict[str, int]:
    """Webhook decisions by action since ``start``."""
    rows = s.execute(select(Event.action, func.count()).where(Event.created_at >= start)
                     .group_by(Event.action))
    return {str(a): int(n) for a, n in rows}


def review_actions(s: Session, start: datetime) -> dict[str, int]:
    """Reviewer actions on candidates and answers since ``start`` (seeding and user admin left out)."""
    rows = s.execute(
        select(AuditEntry.action, func.count())
        .where(AuditEntry.at >= start, AuditEntry.entity.in_(("candidate", "answer")),
               AuditEntry.actor != "demo-seed")
        .group_by(AuditEntry.action)
    )
    return {str(a): int(n) for a, n in rows}


def queue_sizes(s: Session, labels: list[str], start: datetime) -> list[tuple[str, float | None]]:
    """Pending candidates at the end of each day: created so far minus approved or rejected so far."""
    created_before = int(s.scalar(select(func.count()).select_from(Candidate)
                                  .where(Candidate.first_seen < start)) or 0)
    resolved_before = int(s.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.at < start, AuditEntry.entity == "candidate", AuditEntry.action.in_(RESOLVING))) or 0)
    created = _by_day(s, Candidate.first_seen, start)
    resolved = _by_day(s, AuditEntry.at, start, AuditEntry.entity == "candidate",
                       AuditEntry.action.in_(RESOLVING))
    level = created_before - resolved_before
    out: list[tuple[str, float | None]] = []
    for d in labels:
        level += created.get(d, 0) - resolved.get(d, 0)
        out.append((d[5:], float(max(level, 0))))
    return out


@dataclass(frozen=True)
class Approval:
    """One approval and how long until a customer got the answer."""

    candidate_id: int
    answer_id: int | None
    actor: str
    approved_at: datetime
    waited_s: float | None  # first asked -> approved
    first_served_at: datetime | None
    served_after_s: float | None  # approved -> first answered to a customer


def recent_approvals(s: Session, limit: int = 10) -> list[Approval]:
    """The last approvals with their approve-to-first-served latency (None until it is asked again)."""
    entries = list(s.scalars(
        select(AuditEntry).where(AuditEntry.entity == "candidate", AuditEntry.action.in_(APPROVING))
        .order_by(AuditEntry.id.desc()).limit(limit)
    ))
    answer_ids = [int((e.after or {}).get("answer_id") or 0) for e in entries]
    first: dict[int, datetime] = {}
    if any(answer_ids):
        rows = s.execute(select(Event.answer_id, func.min(Event.created_at))
                         .where(Event.answer_id.in_([a for a in answer_ids if a]), Event.action == "answer")
                         .group_by(Event.answer_id))
        first = {int(a): at for a, at in rows if a is not None and at is not None}
    out = []
    for e, answer_id in zip(entries, answer_ids, strict=True):
        approved = to_local(e.at)
        assert approved is not None
        seen = to_local((e.before or {}).get("first_seen"))
        served = to_local(first.get(answer_id)) if answer_id else None
        out.append(Approval(
            candidate_id=int(e.entity_id or 0), answer_id=answer_id or None, actor=e.actor,
            approved_at=approved,
            waited_s=(approved - seen).total_seconds() if seen else None, first_served_at=served,
            served_after_s=max(0.0, (served - approved).total_seconds()) if served else None,
        ))
    return out


def median(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
