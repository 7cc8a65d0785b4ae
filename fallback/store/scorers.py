"""Versioned learned scorers: what a training run stores and what every server instance loads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from fallback.store.schema import Answer, AnswerKey, ScorerModel


@dataclass(frozen=True)
class ScorerHead:
    """A stored version without its model bytes (cheap to poll)."""

    version: int
    created_at: datetime
    embedder: str
    keys: int
    answers: int
    max_key_id: int
    report: dict[str, Any]


def _head(row: ScorerModel) -> ScorerHead:
    return ScorerHead(row.id, row.created_at, row.embedder, row.keys, row.answers, row.max_key_id,
                      dict(row.report or {}))


def save(
    s: Session, *, embedder: str, keys: int, answers: int, max_key_id: int, report: dict[str, Any],
    blob: bytes, keep: int = 5,
) -> int:
    """Store a new version (it becomes the one served) and drop all but the newest ``keep``."""
    row = ScorerModel(embedder=embedder, keys=keys, answers=answers, max_key_id=max_key_id,
                      report=report, blob=blob)
    s.add(row)
    s.flush()
    old = s.scalars(select(ScorerModel.id).order_by(ScorerModel.id.desc()).offset(keep)).all()
    if old:
        s.execute(delete(ScorerModel).where(ScorerModel.id.in_(old)))
    return int(row.id)


def latest_head(s: Session, embedder: str | None) -> ScorerHead | None:
    """The newest version trained with ``embedder`` (any embedder for None; None: none yet)."""
    query = select(ScorerModel).order_by(ScorerModel.id.desc()).limit(1)
    if embedder is not None:
        query = query.where(ScorerModel.embedder == embedder)
    row = s.scalars(query).first()
    return _head(row) if row is not None else None


def latest_version(s: Session, embedder: str) -> int | None:
    """The newest version's id only (what servers poll)."""
    v = s.scalar(select(func.max(ScorerModel.id)).where(ScorerModel.embedder == embedder))
    return int(v) if v is not None else None


def blob(s: Session, version: int) -> bytes:
    """The model bytes of one version."""
    data = s.scalar(select(ScorerModel.blob).where(ScorerModel.id == version))
    if data is None:
        raise LookupError(f"no scorer version {version}")
    return bytes(data)


def key_changes(s: Session, head: ScorerHead | None) -> int:
    """Active answer keys added or removed since ``head`` was trained (all of them without one)."""
    live = (
        select(AnswerKey.id).join(Answer, Answer.id == AnswerKey.answer_id).where(Answer.status == "active")
    )
    total = int(s.scalar(select(func.count()).select_from(live.subquery())) or 0)
    if head is None:
        return total
    added = int(s.scalar(select(func.count()).select_from(
        live.where(AnswerKey.id > head.max_key_id).subquery())) or 0)
    removed = max(head.keys - (total - added), 0)
    return added + removed
