"""Request dependencies, each named once."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from fallback.runtime import Runtime


# Both dependencies are ``async``: they do no I/O, and FastAPI runs a plain ``def`` dependency in the
# thread pool, a thread hop (and GIL hand-over) per dependency per webhook call.
async def get_runtime(request: Request) -> Runtime:
    rt: Runtime | None = getattr(request.app.state, "runtime", None)
    if rt is None:
        raise HTTPException(503, "starting up")
    return rt


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def presented_token(headers: Mapping[str, str]) -> str:
    """The service token a call presents: ``X-Backstop-Token`` or ``Authorization: Bearer``."""
    token = headers.get("x-backstop-token", "")
    if not token:
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            token = auth[7:].strip()
    return token


def service_token_ok(rt: Runtime, presented: str) -> bool:
    """One of (at most two) service tokens, compared in constant time against every one."""
    raw = presented.encode()
    ok = False
    for t in rt.settings.auth.service_tokens:  # compare against every token: no early exit
        ok |= hmac.compare_digest(raw, t.get_secret_value().encode())
    return bool(raw) and ok


async def require_service_token(request: Request, rt: RuntimeDep) -> None:
    """The webhook's auth (see :func:`service_token_ok`)."""
    if not service_token_ok(rt, presented_token(request.headers)):
        raise HTTPException(401, "missing or invalid service token", headers={"WWW-Authenticate": "Bearer"})


ServiceAuth = Depends(require_service_token)
