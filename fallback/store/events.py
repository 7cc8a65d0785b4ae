"""The event log: one row per webhook call, idempotent on (conversation_id, message_id).

``find`` and ``insert_event`` sit on the webhook's hot path: prepared Core statements run on a DBAPI
transaction (:mod:`fallback.store.prepared`), no ORM unit of work and no ``Session``. The reader below is
for the nightly mining job.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select
from sqlalchemy.orm import Session

from fallback.core.storable import make_storable
from fallback.store.prepared import Prepared, Tx
from fallback.store.schema import Event

SANITISED_SEPARATOR = "; "
"""Joins the repairs named in ``client["sanitised"]`` when a caller passes them as one string."""

_EVENTS = cast(Table, Event.__table__)
_FIND = Prepared(
    select(_EVENTS.c.trace_id, _EVENTS.c.response)
    .where(_EVENTS.c.conversation_id == bindparam("conv"), _EVENTS.c.message_id == bindparam("msg"))
    .limit(1)
)
_INSERT = Prepared(insert(_EVENTS))


@dataclass(frozen=True)
class LoggedResponse:
    """What an earlier call with the same (conversation_id, message_id) was answered."""

    trace_id: str
    response: dict[str, Any]


def find(tx: Tx, conversation_id: str, message_id: str | None) -> LoggedResponse | None:
    """The response already logged for this message, if any (retries are answered from it)."""
    if not message_id:
        return None
    row = tx.first(_FIND, {"conv": conversation_id, "msg": message_id})
    return LoggedResponse(str(row[0]), dict(row[1] or {})) if row is not None else None


def sanitise(fields: dict[str, Any]) -> dict[str, Any]:
    """``fields`` with every value PostgreSQL cannot store repaired, and why in ``client["sanitised"]``.

    The webhook's input model already repairs what a client sent (and passes its reasons in
    ``client["sanitised"]``, a list or one string joined by :data:`SANITISED_SEPARATOR`); this is the
    last line before the database, so an event is never lost to a NUL, a lone surrogate or a
    non-finite number, whatever put it there. Reasons name the field, never the value.
    """
    reasons: list[str] = []
    clean: dict[str, Any] = {}
    for name, value in fields.items():
        problems: set[str] = set()
        # text and JSON columns; the float columns (scores, latency) are ours, not the client's
        clean[name] = make_storable(value, problems) if isinstance(value, str | dict | list) else value
        reasons.extend(f"{name}: {p}" for p in sorted(problems))
    client = clean.get("client")
    earlier = client.get("sanitised") if isinstance(client, dict) else None
    if not reasons and not isinstance(earlier, str):
        return fields
    listed = earlier.split(SANITISED_SEPARATOR) if isinstance(earlier, str) else list(earlier or [])
    clean["client"] = {**(client or {}), "sanitised": list(dict.fromkeys([*listed, *reasons]))}
    return clean


def insert_event(tx: Tx, **fields: Any) -> None:
    """Log one call (column defaults such as ``created_at`` are filled in as SQLAlchemy would).

    Values the database cannot store are repaired first (:func:`sanitise`), so the event is logged.
    """
    tx.execute(_INSERT, sanitise(fields))


def unanswered_queries(s: Session, start: datetime, end: datetime) -> list[str]:
    """Masked queries of ``[start, end)`` that were not auto-answered (pending review, handoff, blocked).

    What ``backstop mine`` clusters, oldest first.
    """
    rows = s.scalars(
        select(Event.query)
        .where(Event.created_at >= start, Event.created_at < end, Event.action != "answer")
        .order_by(Event.id)
    )
    return [q for q in rows if q and q.strip()]

