"""The audit trail and the served-answers version counter."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fallback.store.schema import AuditEntry, Meta

ANSWERS_VERSION = "answers_version"


def record(
    s: Session,
    actor: str,
    action: str,
    entity: str,
    entity_id: int | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Append an audit row (in the caller's transaction, so it commits or rolls back with the change)."""
    s.add(
        AuditEntry(actor=actor, action=action, entity=entity, entity_id=entity_id, before=before, after=after)
    )


def answers_version(s: Session) -> int:
    """The counter bumped on every change to what can be served."""
    row = s.get(Meta, ANSWERS_VERSION)
    return int(row.value) if row else 0


def bump_answers_version(s: Session) -> int:
    """Increment the served-answers version (row-locked on PostgreSQL)."""
    row = s.execute(select(Meta).where(Meta.key == ANSWERS_VERSION).with_for_update()).scalar_one_or_none()
    if row is None:
        row = Meta(key=ANSWERS_VERSION, value="0")
        s.add(row)
    row.value = str(int(row.value) + 1)
    s.flush()
    return int(row.value)
