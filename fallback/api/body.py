"""Request bodies read up front (they are small: ``server.max_body_bytes``) and handed on."""

from __future__ import annotations

from typing import Any


async def read_body(receive: Any, limit: int) -> tuple[bytes, bool, dict[str, Any] | None]:
    """The body, whether more of it was left unread (over ``limit``), and a non-body message if one came."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message: dict[str, Any] = await receive()
        if message["type"] != "http.request":  # the client went away
            return b"".join(chunks), True, message
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), False, None
        if size > limit:
            return b"".join(chunks), True, None


def replay(body: bytes, more: bool, message: dict[str, Any] | None, receive: Any) -> Any:
    """A ``receive`` that gives the app what was already read, then the rest of the stream."""
    first = {"type": "http.request", "body": body, "more_body": more or message is not None}
    pending: list[dict[str, Any]] = [first]
    if message is not None:
        pending.append(message)

    async def replayed() -> dict[str, Any]:
        if pending:
            return pending.pop(0)
        result: dict[str, Any] = await receive()
        return result

    return replayed
