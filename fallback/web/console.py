"""The console's router: login/logout, the language switch, static files, and the page routers.

Include it in the app with ``app.include_router(console.router)``.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request, Response
from fastapi.responses import RedirectResponse

from fallback.api.auth import ReviewerDep, end_session, session_user, start_session
from fallback.api.deps import RuntimeDep
from fallback.store import users as users_repo
from fallback.web import dashboard, library
from fallback.web import review_queue as queue
from fallback.web.i18n import LANGS, translator
from fallback.web.render import (
    LANG_COOKIE,
    PREFIX,
    STATIC_DIR,
    WebRoute,
    lang_of,
    page,
    redirect,
    safe_next,
)

# The login form has no session yet, so it is protected by a double-submit token: a random value in a
# strict, httponly cookie that the form must echo (a cross-site page can neither read nor send it).
LOGIN_CSRF_COOKIE = "backstop_login_csrf"
STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                ".svg": "image/svg+xml"}

router = APIRouter(prefix=PREFIX, route_class=WebRoute, include_in_schema=False)
router.include_router(queue.router)
router.include_router(library.router)
router.include_router(dashboard.router)


@router.get("")
@router.get("/")
def index() -> RedirectResponse:
    return redirect(f"{PREFIX}/queue")


@router.get("/login")
def login_form(request: Request, rt: RuntimeDep, next: str = "") -> Response:
    if session_user(request, rt) is not None:
        return redirect(safe_next(next))
    return _login_page(request, next=next)


def _login_page(request: Request, *, next: str, error: str = "", username: str = "",
                status: int = 200) -> Response:
    token = secrets.token_urlsafe(24)
    t = translator(lang_of(request))
    response = page(request, "login.html", me=None, status_code=status, title=t("login_title"),
                    login_csrf=token, next=safe_next(next), error=error, username=username)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, max_age=3600, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", path=f"{PREFIX}/login")
    return response


@router.post("/login")
def login(
    request: Request, rt: RuntimeDep, username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)], csrf: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(csrf, expected):
        raise HTTPException(403, "missing or invalid CSRF token")
    user = rt.db.run(lambda s: users_repo.authenticate(s, username.strip(), password)) if password else None
    if user is None:
        return _login_page(request, next=next, error="login_failed", username=username, status=401)
    response = redirect(safe_next(next))
    start_session(rt, response, user.id, secure=request.url.scheme == "https")
    response.delete_cookie(LOGIN_CSRF_COOKIE, path=f"{PREFIX}/login")
    return response


@router.post("/logout")
def logout(_me: ReviewerDep) -> Response:
    response = redirect(f"{PREFIX}/login")
    end_session(response)
    return response


@router.get("/lang/{lang}")
def switch_language(lang: str, next: str = "") -> Response:
    """Store the chosen language in a cookie (a preference, not a server-side change)."""
    response = redirect(safe_next(next))
    if lang in LANGS:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax", path="/")
    return response


@router.get("/static/{name}")
def static(name: str) -> Response:
    path = STATIC_DIR / name
    suffix = path.suffix
    if "/" in name or name.startswith(".") or suffix not in STATIC_TYPES or not path.is_file():
        raise HTTPException(404, "no such file")
    return Response(path.read_bytes(), media_type=STATIC_TYPES[suffix],
                    headers={"Cache-Control": "public, max-age=86400"})
