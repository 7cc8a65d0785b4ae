"""Review actions on candidates: list, approve (creating the served answer), reject, assign."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, selectinload

from fallback.store import answers as answers_repo
from fallback.store import audit
from fallback.store.answers import NotFound, StaleVersion
from fallback.store.base import utcnow
from fallback.store.schema import Answer, Candidate, CandidateExample, DraftJob

SortKey = Literal["frequency", "age", "recent"]


def snapshot(c: Candidate) -> dict[str, Any]:
    """JSON view of a candidate (API and audit)."""
    return {
        "id": c.id,
        "status": c.status,
        "query": c.query,
        "occurrences": c.occurrences,
        "risk": c.risk,
        "draft": c.draft,
        "draft_status": c.draft_status,
        "references": c.references,
        "flags": c.flags,
        "scores": c.scores,
        "generator": c.generator,
        "draft_latency_ms": c.draft_latency_ms,
        "assignee": c.assignee,
        "answer_id": c.answer_id,
        "reject_reason": c.reject_reason,
        "version": c.version,
        "first_seen": c.first_seen.isoformat(),
        "last_seen": c.last_seen.isoformat(),
        "examples": [
            {"text": e.text, "count": e.count, "similarity": round(e.similarity, 4)} for e in c.examples
        ],
    }


@dataclass(frozen=True)
class CandidateFilter:
    status: str | None = "pending"
    risk: bool | None = None
    q: str | None = None
    min_count: int = 1
    assignee: str | None = None
    sort: SortKey = "frequency"
    limit: int = 50
    offset: int = 0


def list_candidates(s: Session, f: CandidateFilter) -> tuple[int, list[Candidate]]:
    """Filtered, sorted page of candidates plus the total count."""
    stmt = select(Candidate)
    if f.status:
        stmt = stmt.where(Candidate.status == f.status)
    if f.risk is not None:
        stmt = stmt.where(Candidate.risk.is_(f.risk))
    if f.min_count > 1:
        stmt = stmt.where(Candidate.occurrences >= f.min_count)
    if f.assignee:
        stmt = stmt.where(Candidate.assignee == f.assignee)
    if f.q:
        like = f"%{f.q}%"
        sub = select(CandidateExample.candidate_id).where(CandidateExample.text.like(like))
        stmt = stmt.where(or_(Candidate.query.like(like), Candidate.draft.like(like), Candidate.id.in_(sub)))
    total = int(s.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
    order = {
        "frequency": (Candidate.occurrences.desc(), Candidate.first_seen.asc()),
        "age": (Candidate.first_seen.asc(),),
        "recent": (Candidate.last_seen.desc(),),
    }[f.sort]
    rows = s.scalars(
        stmt.options(selectinload(Candidate.examples))
        .order_by(*order, Candidate.id)
        .limit(f.limit)
        .offset(f.offset)
    ).all()
    return total, list(rows)


def get(s: Session, candidate_id: int) -> Candidate:
    c = s.get(Candidate, candidate_id, options=[selectinload(Candidate.examples)])
    if c is None:
        raise NotFound(f"candidate {candidate_id} not found")
    return c


def _claim_version(s: Session, c: Candidate, expected: int, *, pending_only: bool = True) -> None:
    """Bump the version iff it is still ``expected`` (and pending): the optimistic lock."""
    stmt = update(Candidate).where(Candidate.id == c.id, Candidate.version == expected)
    if pending_only:
        stmt = stmt.where(Candidate.status == "pending")
    res = s.execute(stmt.values(version=Candidate.version + 1, updated_at=utcnow()))
    if res.rowcount != 1:  # type: ignore[attr-defined]
        s.refresh(c)
        raise StaleVersion(
            f"candidate {c.id} is at version {c.version} ({c.status}); you approved version {expected}"
        )
    s.refresh(c)


def approve(
    s: Session,
    candidate_id: int,
    *,
    expected_version: int,
    actor: str,
    text: str | None = None,
    question: str | None = None,
    paraphrases: Sequence[str] | None = None,
    safe_to_autosend: bool = False,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
    label: str | None = None,
    into_answer: tuple[int, int] | None = None,
) -> Answer:
    """Turn a candidate into a served answer (edited text optional); return the answer.

    ``paraphrases`` picks which grouped queries become retrieval keys (default: all of them).
    ``into_answer`` = (answer id, its version): the candidate asks an already answered question, so
    its queries become more keys of that answer instead of a new answer (text, if given, replaces it).
    """
    c = get(s, candidate_id)
    final = (text if text is not None else c.draft).strip()
    if not final and into_answer is None:
        raise ValueError("nothing to approve: the draft is empty and no text was given")
    before = snapshot(c)
    _claim_version(s, c, expected_version)
    examples = [e.text for e in c.examples]
    keys = list(paraphrases) if paraphrases is not None else examples
    unknown = [k for k in keys if k not in examples]
    if unknown and paraphrases is not None:
        raise ValueError(f"not queries of this candidate: {unknown[:3]}")
    if into_answer is not None:
        answer = answers_repo.update_answer(
            s,
            into_answer[0],
            expected_version=into_answer[1],
            actor=actor,
            text=final or None,
            add_keys=keys,
        )
    else:
        answer = answers_repo.create(
            s,
            question=(question or c.query).strip(),
            text=final,
            keys=keys,
            actor=actor,
            safe_to_autosend=safe_to_autosend,
            valid_from=valid_from,
            valid_until=valid_until,
            label=label,
        )
    c.status, c.answer_id = "approved", answer.id
    s.execute(
        update(DraftJob)
        .where(DraftJob.candidate_id == c.id, DraftJob.status.in_(("queued",)))
        .values(status="done", last_error="approved before drafting")
    )
    s.flush()
    audit.record(
        s,
        actor,
        "approve" if text is None or text == c.draft else "approve_edited",
        "candidate",
        c.id,
        before,
        snapshot(c),
    )
    return answer


def reject(s: Session, candidate_id: int, *, expected_version: int, actor: str, reason: str) -> Candidate:
    if not reason.strip():
        raise ValueError("a rejection needs a reason")
    c = get(s, candidate_id)
    before = snapshot(c)
    _claim_version(s, c, expected_version)
    c.status, c.reject_reason = "rejected", reason.strip()
    s.execute(
        update(DraftJob)
        .where(DraftJob.candidate_id == c.id, DraftJob.status == "queued")
        .values(status="done", last_error="rejected before drafting")
    )
    s.flush()
    audit.record(s, actor, "reject", "candidate", c.id, before, snapshot(c))
    return c


def assign(
    s: Session, candidate_id: int, *, expected_version: int, actor: str, assignee: str | None
) -> Candidate:
    c = get(s, candidate_id)
    before = snapshot(c)
    _claim_version(s, c, expected_version)
    c.assignee = assignee
    s.flush()
    audit.record(s, actor, "assign", "candidate", c.id, before, snapshot(c))
    return c


def counts(s: Session) -> dict[str, int]:
    """Candidates by status, plus pending risk ones."""
    out = {
        str(k): int(v)
        for k, v in s.execute(select(Candidate.status, func.count()).group_by(Candidate.status))
    }
    out["pending_risk"] = int(
        s.scalar(
            select(func.count())
            .select_from(Candidate)
            .where(Candidate.status == "pending", Candidate.risk.is_(True))
        )
        or 0
    )
    return out
