"""Candidates: grouped unanswered questions awaiting a draft and a reviewer."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table, bindparam, exists, insert, select, update
from sqlalchemy.orm import Session

from fallback.store.base import utcnow
from fallback.store.prepared import Prepared, Tx
from fallback.store.schema import Candidate, CandidateExample, DraftJob, text_digest

_CANDIDATES = cast(Table, Candidate.__table__)
_EXAMPLES = cast(Table, CandidateExample.__table__)
_JOBS = cast(Table, DraftJob.__table__)

# built once: building a statement costs more Python than running it on the hot path
# driven by the digest index: a join let SQLite's planner (no statistics) walk every pending
# candidate and probe its examples, O(open candidates) per webhook call
_FIND_PENDING = Prepared(
    select(_EXAMPLES.c.candidate_id)
    .where(
        _EXAMPLES.c.text_hash == bindparam("h"), _EXAMPLES.c.text == bindparam("text"),
        exists().where(_CANDIDATES.c.id == _EXAMPLES.c.candidate_id, _CANDIDATES.c.status == "pending"),
    )
    .order_by(_EXAMPLES.c.candidate_id)
    .limit(1)
)
_COUNT_ASK = Prepared(
    update(_CANDIDATES)
    .where(_CANDIDATES.c.id == bindparam("cid"), _CANDIDATES.c.status == "pending")
    .values(occurrences=_CANDIDATES.c.occurrences + 1, last_seen=bindparam("now"))
)
_COUNT_EXAMPLE = Prepared(
    update(_EXAMPLES)
    .where(_EXAMPLES.c.candidate_id == bindparam("cid"), _EXAMPLES.c.text_hash == bindparam("h"))
    .values(count=_EXAMPLES.c.count + 1, last_seen=bindparam("now"))
)
_NEW_CANDIDATE = Prepared(insert(_CANDIDATES).returning(_CANDIDATES.c.id))
_NEW_EXAMPLE = Prepared(insert(_EXAMPLES))
_NEW_JOB = Prepared(insert(_JOBS))


def find_pending_by_text(tx: Tx, text: str) -> int | None:
    """The id of a pending candidate that already holds exactly this (normalised, masked) query.

    On the webhook's hot path: one indexed lookup by the text's digest (prepared, no ORM objects).
    """
    row = tx.first(_FIND_PENDING, {"h": text_digest(text), "text": text})
    return int(row[0]) if row is not None else None


def attach(tx: Tx, candidate_id: int, text: str, similarity: float) -> bool:
    """Count one more ask of ``text`` on a pending candidate; False if it is no longer pending."""
    now = utcnow()
    if tx.execute(_COUNT_ASK, {"cid": candidate_id, "now": now}) != 1:
        return False
    digest = text_digest(text)
    if tx.execute(_COUNT_EXAMPLE, {"cid": candidate_id, "h": digest, "now": now}) == 0:
        tx.execute(_NEW_EXAMPLE, {"candidate_id": candidate_id, "text": text, "text_hash": digest, "count": 1,
                                  "similarity": similarity, "last_seen": now})
    return True


def create(
    tx: Tx,
    *,
    text: str,
    risk: bool,
    references: list[dict[str, Any]],
    context: dict[str, Any],
    draft: bool,
    flags: dict[str, Any] | None = None,
) -> int:
    """A new pending candidate (its id); with ``draft`` a durable draft job is queued in the same
    transaction."""
    row = tx.first(
        _NEW_CANDIDATE,
        {
            "status": "pending", "query": text, "occurrences": 1, "risk": risk, "references": references,
            "context": context, "draft": "", "draft_status": "queued" if draft else "none",
            "flags": flags or {}, "scores": {}, "version": 1,
        },
    )
    assert row is not None  # INSERT ... RETURNING always returns the new row
    candidate_id = int(row[0])
    tx.execute(_NEW_EXAMPLE, {"candidate_id": candidate_id, "text": text, "count": 1, "similarity": 1.0})
    if draft:
        tx.execute(_NEW_JOB, {"candidate_id": candidate_id, "status": "queued", "attempts": 0})
    return candidate_id


def pending_since(s: Session, after_id: int) -> list[tuple[int, str]]:
    """(id, query) of pending candidates created after ``after_id`` (for the in-memory grouper)."""
    rows = s.execute(
        select(Candidate.id, Candidate.query)
        .where(Candidate.id > after_id, Candidate.status == "pending")
        .order_by(Candidate.id)
    )
    return [(int(r[0]), str(r[1])) for r in rows]

