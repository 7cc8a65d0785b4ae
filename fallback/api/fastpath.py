"""``POST /v1/fallback`` without the framework, for calls that are authorised and valid.

Under load most of the webhook's HTTP handling CPU (under the GIL) went to FastAPI's and Starlette's
layers (exception and telemetry middleware, routing, dependency solving, the request object) rather
than to parsing or sending (docs/benchmarks.md, "Figures behind choices in the code").
This ASGI middleware, the outermost of the app's own, serves the common case directly: it reads
the body, checks the service token, validates the JSON with the same pydantic model in one pass
and runs the same code as the FastAPI route (:func:`fallback.api.webhook.decide`).

Anything else goes on to FastAPI untouched, with the body replayed: a wrong token, a body over the
size limit, a non-JSON content type or a body the model rejects, so every error keeps the one shape
and status the API documents (401, 413, 422). The route stays declared for the OpenAPI schema.
"""

from __future__ import annotations

import time
from typing import Any

from pydantic import ValidationError

from fallback.api.body import read_body, replay
from fallback.api.deps import presented_token, service_token_ok
from fallback.api.schemas import FallbackIn
from fallback.api.webhook import decide

PATH = "/v1/fallback"
_JSON_HEADERS = [(b"content-type", b"application/json")]


class WebhookFastPath:
    """Serves authorised, valid webhook calls; hands every other request to ``app``."""

    def __init__(self, app: Any, max_body_bytes: int):
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers: dict[str, str] = {}
        for k, v in scope["headers"]:  # the first of repeated headers, as Starlette's get() gives
            headers.setdefault(k.decode("latin-1"), v.decode("latin-1"))
        body = await read_body(receive, self.max_body_bytes)
        state = scope["app"].state
        rt = getattr(state, "runtime", None)
        call = None
        if body.usable and rt is not None and _is_json(headers.get("content-type", "")) \
                and service_token_ok(rt, presented_token(headers)):
            try:
                call = FallbackIn.model_validate_json(body.data)
            except ValidationError:
                call = None
            if call is not None and len(call.query) > rt.settings.server.max_query_chars:
                call = None
        if call is None or rt is None:
            await self.app(scope, replay(body, receive), send)
            return
        out = await decide(state, rt, call, headers)
        payload = out.model_dump_json().encode()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [*_JSON_HEADERS, (b"content-length", str(len(payload)).encode())]})
        await send({"type": "http.response.body", "body": payload})
        state.metrics.latency.labels(PATH, "200").observe(time.perf_counter() - started)


def _is_json(content_type: str) -> bool:
    return content_type.split(";", 1)[0].strip().lower() == "application/json"
