"""One table from error types to HTTP statuses, and the JSON error shape."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from fallback.store.answers import NotFound, StaleVersion

log = logging.getLogger(__name__)

STATUS: dict[type[Exception], tuple[int, str]] = {
    NotFound: (404, "not_found"),
    StaleVersion: (409, "stale_version"),
    ValueError: (400, "bad_request"),
    PermissionError: (403, "forbidden"),
}


def _clean(errors: list[Any]) -> list[dict[str, Any]]:
    out = []
    for e in errors:
        out.append({"loc": list(e.get("loc", [])), "msg": str(e.get("msg", "")), "type": e.get("type", "")})
    return out


def install(app: FastAPI) -> None:
    """Register the handlers (JSON bodies everywhere, never a stack trace)."""

    @app.exception_handler(RequestValidationError)
    async def _validation(_req: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(
            {"error": "invalid_request", "detail": _clean(list(exc.errors()))}, status_code=422
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_req: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers)

    for exc_type, (status, code) in STATUS.items():

        def handler(_req: Request, exc: Exception, status: int = status, code: str = code) -> JSONResponse:
            return JSONResponse({"error": code, "detail": str(exc)}, status_code=status)

        app.add_exception_handler(exc_type, handler)
