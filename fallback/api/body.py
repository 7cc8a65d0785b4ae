"""Request bodies read up front (they are small: ``server.max_body_bytes``) and handed on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Body:
    """What was read of a request body."""

    data: bytes
    complete: bool  # the whole body was read
    over_limit: bool  # more than the limit arrived (in one message or several)
    gone: dict[str, Any] | None = None  # the disconnect message, if the client went away mid-body

    @property
    def usable(self) -> bool:
        return self.complete and not self.over_limit


async def read_body(receive: Any, limit: int) -> Body:
    """Read the body until it ends or passes ``limit`` bytes (then stop: the rest stays unread)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message: dict[str, Any] = await receive()
        if message["type"] != "http.request":  # the client went away
            return Body(b"".join(chunks), False, size > limit, message)
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        complete = not message.get("more_body", False)
        if complete or size > limit:
            return Body(b"".join(chunks), complete, size > limit)


def replay(body: Body, receive: Any) -> Any:
    """A ``receive`` that gives the app what was already read, then the rest of the stream."""
    first = {"type": "http.request", "body": body.data, "more_body": not body.complete}
    pending: list[dict[str, Any]] = [first]
    if body.gone is not None:
        pending.append(body.gone)

    async def replayed() -> dict[str, Any]:
        if pending:
            return pending.pop(0)
        result: dict[str, Any] = await receive()
        return result

    return replayed
