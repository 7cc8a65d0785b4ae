"""Approved answers and their retrieval keys."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import EllipsisType
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.orm import Session, selectinload

from fallback.core.domain import AnswerCandidate
from fallback.store import audit
from fallback.store.prepared import Prepared, Tx
from fallback.store.schema import Answer, AnswerKey

_ANSWERS = cast(Table, Answer.__table__)
# built once (the webhook runs them on every call)
_GATE_VIEW = Prepared(select(
    _ANSWERS.c.id, _ANSWERS.c.text, _ANSWERS.c.status, _ANSWERS.c.safe_to_autosend,
    _ANSWERS.c.valid_from, _ANSWERS.c.valid_until,
).where(_ANSWERS.c.id == bindparam("aid")))
_ADD_HITS = Prepared(
    update(_ANSWERS).where(_ANSWERS.c.id == bindparam("aid"))
    .values(hit_count=_ANSWERS.c.hit_count + bindparam("n"))
)


class StaleVersion(Exception):
    """The record changed since the caller read it (optimistic concurrency): HTTP 409."""


class NotFound(Exception):
    """No such record: HTTP 404."""


@dataclass(frozen=True)
class KeyRow:
    """A retrieval key of a live answer."""

    key_id: int
    answer_id: int
    text: str


def snapshot(a: Answer) -> dict[str, Any]:
    """A JSON-able view of an answer for the audit trail and the API."""
    return {
        "id": a.id,
        "question": a.question,
        "text": a.text,
        "status": a.status,
        "safe_to_autosend": a.safe_to_autosend,
        "valid_from": a.valid_from.isoformat() if a.valid_from else None,
        "valid_until": a.valid_until.isoformat() if a.valid_until else None,
        "version": a.version,
        "hit_count": a.hit_count,
        "label": a.label,
        "keys": [k.text for k in a.keys],
    }


def create(
    s: Session,
    *,
    question: str,
    text: str,
    keys: Sequence[str] = (),
    actor: str,
    safe_to_autosend: bool = False,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
    label: str | None = None,
    audited: bool = True,
) -> Answer:
    """Create an active answer keyed by ``question`` and each distinct paraphrase in ``keys``.

    ``audited=False`` (bulk imports): no audit row and no version bump; the caller records one entry
    for the whole import and bumps the served-answers version once.
    """
    a = Answer(
        question=question,
        text=text,
        safe_to_autosend=safe_to_autosend,
        valid_from=valid_from,
        valid_until=valid_until,
        label=label,
        created_by=actor,
        status="active",
        version=1,
        hit_count=0,
    )
    a.keys = [AnswerKey(text=question, source="canonical")]
    seen = {question}
    for k in keys:
        if k and k not in seen:
            seen.add(k)
            a.keys.append(AnswerKey(text=k, source="paraphrase"))
    s.add(a)
    s.flush()
    if audited:
        audit.record(s, actor, "create", "answer", a.id, None, snapshot(a))
        audit.bump_answers_version(s)
    return a


def get(s: Session, answer_id: int) -> Answer:
    a = s.get(Answer, answer_id, options=[selectinload(Answer.keys)])
    if a is None:
        raise NotFound(f"answer {answer_id} not found")
    return a


def update_answer(
    s: Session,
    answer_id: int,
    *,
    expected_version: int,
    actor: str,
    text: str | None = None,
    add_keys: Iterable[str] = (),
    remove_keys: Iterable[str] = (),
    safe_to_autosend: bool | None = None,
    valid_from: datetime | EllipsisType | None = ...,
    valid_until: datetime | EllipsisType | None = ...,
    status: str | None = None,
) -> Answer:
    """Edit an answer under optimistic concurrency; raise ``StaleVersion`` if it moved on."""
    a = get(s, answer_id)
    before = snapshot(a)
    res = s.execute(
        update(Answer)
        .where(Answer.id == answer_id, Answer.version == expected_version)
        .values(version=Answer.version + 1)
    )
    if res.rowcount != 1:  # type: ignore[attr-defined]
        raise StaleVersion(f"answer {answer_id} is at version {a.version}, not {expected_version}")
    s.refresh(a)
    if text is not None:
        a.text = text
    if safe_to_autosend is not None:
        a.safe_to_autosend = safe_to_autosend
    if not isinstance(valid_from, EllipsisType):
        a.valid_from = valid_from
    if not isinstance(valid_until, EllipsisType):
        a.valid_until = valid_until
    if status is not None:
        if status not in ("active", "retired"):
            raise ValueError(f"unknown status {status!r}")
        a.status = status
    existing = {k.text for k in a.keys}
    for k in add_keys:
        if k and k not in existing:
            a.keys.append(AnswerKey(text=k, source="paraphrase"))
            existing.add(k)
    drop = set(remove_keys) - {a.question}
    a.keys = [k for k in a.keys if k.text not in drop]
    s.flush()
    audit.record(s, actor, "retire" if status == "retired" else "edit", "answer", a.id, before, snapshot(a))
    audit.bump_answers_version(s)
    return a


def live_keys(s: Session) -> list[KeyRow]:
    """Keys of every active answer (validity windows are checked at serve time, not here)."""
    rows = s.execute(
        select(AnswerKey.id, AnswerKey.answer_id, AnswerKey.text)
        .join(Answer, Answer.id == AnswerKey.answer_id)
        .where(Answer.status == "active")
        .order_by(AnswerKey.id)
    )
    return [KeyRow(int(r[0]), int(r[1]), str(r[2])) for r in rows]


def gate_view(tx: Tx, answer_id: int) -> AnswerCandidate | None:
    """The gate's view of one answer (read on every webhook call: prepared, only the columns needed)."""
    row = tx.first(_GATE_VIEW, {"aid": answer_id})
    if row is None:
        return None
    aid, text, status, safe, valid_from, valid_until = row
    return AnswerCandidate(
        answer_id=int(aid), text=text, active=status == "active", safe_to_autosend=bool(safe),
        valid_from=valid_from, valid_until=valid_until,
    )


def count_active(s: Session) -> int:
    return int(s.scalar(select(func.count()).select_from(Answer).where(Answer.status == "active")) or 0)


def add_hits(tx: Tx, hits: dict[int, int]) -> None:
    """Add served counts (batched by the caller)."""
    for answer_id, n in hits.items():
        tx.execute(_ADD_HITS, {"aid": answer_id, "n": n})


def active_pairs(s: Session, *, now: datetime | None = None) -> list[tuple[str, str]]:
    """(question, answer) of every active approved answer valid now, oldest first (the Coze KB export)."""
    now = now or datetime.now(UTC)
    rows: Sequence[Answer] = s.scalars(
        select(Answer).where(Answer.status == "active").order_by(Answer.id)
    ).all()
    return [
        (a.question, a.text)
        for a in rows
        if (a.valid_from is None or a.valid_from <= now) and (a.valid_until is None or a.valid_until > now)
    ]
