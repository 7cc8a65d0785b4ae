"""Reviewer authentication: a signed session cookie (console) or a Bearer API token (scripts).

State-changing requests made with the cookie must carry the session's CSRF token (header
``X-CSRF-Token`` or form field ``csrf``); Bearer-token requests carry no ambient authority and need none.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Response
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from fallback.api.deps import RuntimeDep
from fallback.runtime import Runtime
from fallback.store import users as users_repo

COOKIE = "backstop_session"
MAX_AGE_S = 12 * 3600
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


@dataclass(frozen=True)
class Reviewer:
    """The authenticated user of a request."""

    id: int
    username: str
    role: str
    csrf: str | None  # None for token-authenticated requests

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def _serializer(rt: Runtime) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(rt.settings.auth.session_secret.get_secret_value(), salt="backstop-session")


def start_session(rt: Runtime, response: Response, user_id: int, *, secure: bool) -> str:
    """Set the session cookie; return the session's CSRF token."""
    csrf = secrets.token_urlsafe(24)
    value = _serializer(rt).dumps({"uid": user_id, "csrf": csrf})
    response.set_cookie(
        COOKIE, value, max_age=MAX_AGE_S, httponly=True, samesite="strict", secure=secure, path="/"
    )
    return csrf


def end_session(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/")


def session_user(request: Request, rt: Runtime) -> Reviewer | None:
    """The user of a valid session cookie, if any."""
    raw = request.cookies.get(COOKIE)
    if not raw:
        return None
    try:
        data = _serializer(rt).loads(raw, max_age=MAX_AGE_S)
    except (BadSignature, SignatureExpired):
        return None
    user = rt.db.run(lambda s: users_repo.by_id(s, int(data["uid"])))
    if user is None:
        return None
    return Reviewer(user.id, user.username, user.role, str(data["csrf"]))


async def current_reviewer(request: Request, rt: RuntimeDep) -> Reviewer:
    """Bearer token or session cookie; enforces CSRF on cookie-authenticated writes."""
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        token = auth[7:].strip()
        user = rt.db.run(lambda s: users_repo.by_token(s, token))
        if user is None:
            raise HTTPException(401, "invalid API token", headers={"WWW-Authenticate": "Bearer"})
        return Reviewer(user.id, user.username, user.role, None)
    reviewer = session_user(request, rt)
    if reviewer is None:
        raise HTTPException(401, "login required", headers={"WWW-Authenticate": "Bearer"})
    if request.method not in SAFE_METHODS:
        sent = request.headers.get("x-csrf-token", "")
        if not sent and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")
        ):
            sent = str((await request.form()).get("csrf", ""))
        if not sent or not hmac.compare_digest(sent, reviewer.csrf or ""):
            raise HTTPException(403, "missing or invalid CSRF token")
    return reviewer


def require_admin(reviewer: Annotated[Reviewer, Depends(current_reviewer)]) -> Reviewer:
    if not reviewer.is_admin:
        raise HTTPException(403, "admin role required")
    return reviewer


ReviewerDep = Annotated[Reviewer, Depends(current_reviewer)]
AdminDep = Annotated[Reviewer, Depends(require_admin)]
