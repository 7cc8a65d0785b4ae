"""The event log: one row per webhook call, idempotent on (conversation_id, message_id)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fallback.store.schema import Event


def find(s: Session, conversation_id: str, message_id: str | None) -> Event | None:
    """The event already logged for this message, if any (retries are answered from it)."""
    if not message_id:
        return None
    return s.scalars(
        select(Event).where(Event.conversation_id == conversation_id, Event.message_id == message_id)
    ).first()


def insert(s: Session, **fields: Any) -> Event:
    ev = Event(**fields)
    s.add(ev)
    s.flush()
    return ev
