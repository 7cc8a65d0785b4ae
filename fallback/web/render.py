"""Page rendering for the console: the Jinja environment, the per-request context, error pages, headers.

Every console route uses :class:`WebRoute`, which turns the errors the API answers with JSON (login
required, forbidden, stale version, not found, bad form) into pages a reviewer can act on.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Coroutine, Mapping
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from fastapi import HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from fallback.api.auth import Reviewer, session_user
from fallback.store.answers import NotFound, StaleVersion
from fallback.web.i18n import DEFAULT_LANG, LANGS, Translator, translator

log = logging.getLogger(__name__)

PREFIX = "/review"
LANG_COOKIE = "backstop_lang"
STATIC_DIR = Path(__file__).parent / "static"
# Reviewers work in China: times are shown, and datetime inputs read, in UTC+8 (no DST there).
DISPLAY_TZ = timezone(timedelta(hours=8), "UTC+8")

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The template environment (built on first use, not at import)."""
    env = Environment(
        loader=PackageLoader("fallback.web", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["static"] = static_url
    return env


@lru_cache(maxsize=16)
def _static_version(name: str) -> str:
    return hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:10]


def static_url(name: str) -> str:
    """URL of a bundled static file, versioned by content so browsers may cache it for long."""
    return f"{PREFIX}/static/{name}?v={_static_version(name)}"


def lang_of(request: Request) -> str:
    """The console language: the cookie set by the switch, else Chinese."""
    lang = request.cookies.get(LANG_COOKIE, "")
    return lang if lang in LANGS else DEFAULT_LANG


def safe_next(target: str | None, default: str = f"{PREFIX}/queue") -> str:
    """A redirect target inside the console only (no open redirects)."""
    if target and target.startswith(PREFIX) and not target.startswith("//") and "\\" not in target:
        return target
    return default


def to_local(value: datetime | str | None) -> datetime | None:
    """A stored time (aware UTC, or naive/ISO text from a reflected table) in the display zone."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(DISPLAY_TZ)


def fmt_dt(value: datetime | str | None) -> str:
    local = to_local(value)
    return local.strftime("%Y-%m-%d %H:%M") if local else "—"


def input_dt(value: datetime | str | None) -> str:
    """Value for an ``<input type="datetime-local">``."""
    local = to_local(value)
    return local.strftime("%Y-%m-%dT%H:%M") if local else ""


def parse_input_dt(text: str | None) -> datetime | None:
    """Read a ``datetime-local`` value as display-zone time; empty means none."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError as e:
        raise ValueError(f"not a date and time: {text!r}") from e
    return value if value.tzinfo else value.replace(tzinfo=DISPLAY_TZ)


def ago(t: Translator, value: datetime | str | None, now: datetime | None = None) -> str:
    """``3 小时前`` / ``3 h ago``."""
    local = to_local(value)
    if local is None:
        return "—"
    seconds = max(0, int(((now or datetime.now(DISPLAY_TZ)) - local).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return t(f"ago_{unit}", n=seconds // size)
    return t("ago_now")


def page(
    request: Request, template: str, *, me: Reviewer | None, status_code: int = 200, title: str = "",
    nav: str = "", **context: Any,
) -> HTMLResponse:
    """Render ``template`` with the shared context (translator, user, CSRF token, helpers)."""
    lang = lang_of(request)
    t = translator(lang)
    html = environment().get_template(template).render(
        t=t, lang=lang, langs=LANGS, me=me, csrf=(me.csrf if me else "") or "", title=title, nav=nav,
        here=_here(request), fmt_dt=fmt_dt, input_dt=input_dt, ago=lambda v: ago(t, v), prefix=PREFIX,
        flash=flash_of(request), **context,
    )
    return HTMLResponse(html, status_code=status_code)


def _here(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


FLASH = {"approved", "rejected", "saved", "retired", "activated", "user_added"}


def with_flash(url: str, msg: str, entity_id: int | str, ms: float | None = None) -> str:
    """``url`` carrying the outcome of an action to show once (replacing the previous action's)."""
    path, _, query = url.partition("?")
    kept = [(k, v) for k, v in parse_qsl(query) if k not in ("msg", "id", "ms")]
    kept += [("msg", msg), ("id", str(entity_id))] + ([("ms", str(ms))] if ms is not None else [])
    return f"{path}?{urlencode(kept)}"


def flash_of(request: Request) -> dict[str, str] | None:
    """The outcome passed through a redirect's query string, if it is one we know."""
    msg = request.query_params.get("msg", "")
    if msg not in FLASH:
        return None
    return {"key": f"flash_{msg}", "id": request.query_params.get("id", ""),
            "ms": request.query_params.get("ms", "")}


def redirect(url: str) -> RedirectResponse:
    """See-other: a POST answered with a GET of ``url`` (so reloading does not resubmit)."""
    return RedirectResponse(url, status_code=303)


def error_page(request: Request, status: int, message_key: str, detail: str = "") -> HTMLResponse:
    """A page for an error, with the user's navigation when they are logged in."""
    rt = getattr(request.app.state, "runtime", None)
    me = session_user(request, rt) if rt is not None else None
    t = translator(lang_of(request))
    title = t.maybe(f"error_{status}_title", t("error_400_title"))
    return page(request, "error.html", me=me, status_code=status, title=title,
                message=t(message_key), detail=detail, code=status)


def _translate_error(request: Request, exc: Exception) -> Response:
    if isinstance(exc, HTTPException):
        if exc.status_code == 401:
            target = quote(_here(request), safe="/?=&") if request.method == "GET" else ""
            return redirect(f"{PREFIX}/login" + (f"?next={target}" if target else ""))
        if exc.status_code == 403:
            key = "error_csrf" if "csrf" in str(exc.detail).lower() else "error_admin_only"
            return error_page(request, 403, key)
        return error_page(request, exc.status_code, "error_generic", str(exc.detail))
    if isinstance(exc, NotFound):
        return error_page(request, 404, "error_not_found", str(exc))
    if isinstance(exc, StaleVersion):
        return error_page(request, 409, "error_stale", str(exc))
    if isinstance(exc, RequestValidationError):
        fields = ", ".join(str(e.get("loc", ["?"])[-1]) for e in exc.errors())
        return error_page(request, 422, "error_form", fields)
    if isinstance(exc, ValueError):
        return error_page(request, 400, "error_bad_request", str(exc))
    raise exc


class WebRoute(APIRoute):
    """A route whose errors become HTML pages and whose responses carry the console's security headers."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                response = await handler(request)
            except (HTTPException, NotFound, StaleVersion, RequestValidationError, ValueError) as exc:
                response = _translate_error(request, exc)
            _secure(response)
            return response

        return route


def _secure(response: Response, extra: Mapping[str, str] | None = None) -> None:
    for k, v in {**SECURITY_HEADERS, **(extra or {})}.items():
        response.headers.setdefault(k, v)
    if response.headers.get("content-type", "").startswith("text/html"):
        response.headers.setdefault("Cache-Control", "no-store")
