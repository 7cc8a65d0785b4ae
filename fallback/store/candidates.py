"""Candidates: grouped unanswered questions awaiting a draft and a reviewer."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from fallback.store.base import utcnow
from fallback.store.schema import Candidate, CandidateExample, DraftJob


def find_pending_by_text(s: Session, text: str) -> Candidate | None:
    """A pending candidate that already holds exactly this (normalised, masked) query."""
    return s.scalars(
        select(Candidate)
        .join(CandidateExample, CandidateExample.candidate_id == Candidate.id)
        .where(CandidateExample.text == text, Candidate.status == "pending")
        .order_by(Candidate.id)
    ).first()


def attach(s: Session, candidate_id: int, text: str, similarity: float) -> Candidate | None:
    """Count one more ask of ``text`` on a pending candidate; None if it is no longer pending."""
    now = utcnow()
    res = s.execute(
        update(Candidate)
        .where(Candidate.id == candidate_id, Candidate.status == "pending")
        .values(occurrences=Candidate.occurrences + 1, last_seen=now)
    )
    if res.rowcount != 1:  # type: ignore[attr-defined]
        return None
    res = s.execute(
        update(CandidateExample)
        .where(CandidateExample.candidate_id == candidate_id, CandidateExample.text == text)
        .values(count=CandidateExample.count + 1, last_seen=now)
    )
    if res.rowcount == 0:  # type: ignore[attr-defined]
        s.add(
            CandidateExample(
                candidate_id=candidate_id, text=text, count=1, similarity=similarity, last_seen=now
            )
        )
    s.flush()
    return s.get(Candidate, candidate_id)


def create(
    s: Session,
    *,
    text: str,
    risk: bool,
    references: list[dict[str, Any]],
    context: dict[str, Any],
    draft: bool,
    flags: dict[str, Any] | None = None,
) -> Candidate:
    """A new pending candidate; with ``draft`` a durable draft job is queued in the same transaction."""
    c = Candidate(
        status="pending",
        query=text,
        occurrences=1,
        risk=risk,
        references=references,
        context=context,
        draft="",
        draft_status="queued" if draft else "none",
        flags=flags or {},
        scores={},
        version=1,
    )
    c.examples = [CandidateExample(text=text, count=1, similarity=1.0)]
    s.add(c)
    s.flush()
    if draft:
        s.add(DraftJob(candidate_id=c.id, status="queued", attempts=0))
        s.flush()
    return c


def pending_since(s: Session, after_id: int) -> list[tuple[int, str]]:
    """(id, query) of pending candidates created after ``after_id`` (for the in-memory grouper)."""
    rows = s.execute(
        select(Candidate.id, Candidate.query)
        .where(Candidate.id > after_id, Candidate.status == "pending")
        .order_by(Candidate.id)
    )
    return [(int(r[0]), str(r[1])) for r in rows]


def pending_ids(s: Session, ids: list[int]) -> set[int]:
    if not ids:
        return set()
    rows = s.execute(select(Candidate.id).where(Candidate.id.in_(ids), Candidate.status == "pending"))
    return {int(r[0]) for r in rows}
