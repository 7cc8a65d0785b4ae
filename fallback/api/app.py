"""``create_app(settings)``: the only place the HTTP service is wired."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from fallback.api import errors, ops, review, webhook
from fallback.api.body import read_body, replay
from fallback.api.dispatch import Dispatcher
from fallback.api.fastpath import WebhookFastPath
from fallback.api.heap import frozen_heap
from fallback.api.ratelimit import RateLimiter
from fallback.runtime import Runtime, build_runtime
from fallback.settings import Settings

log = logging.getLogger(__name__)

ASGIApp = Callable[[dict[str, Any], Callable[[], Awaitable[dict[str, Any]]], Callable[..., Awaitable[None]]],
                   Awaitable[None]]


class BodyLimit:
    """Rejects request bodies over ``limit`` bytes with 413 (Content-Length or streamed).

    The body is read before the app runs and replayed to it: an over-long stream found while the
    framework parsed it came out as a 400 "error parsing the body" instead of a 413.
    """

    def __init__(self, app: ASGIApp, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for k, v in scope.get("headers", []):
            if k == b"content-length" and v.isdigit() and int(v) > self.limit:
                await _too_large(send)
                return
        body = await read_body(receive, self.limit)
        if body.over_limit:
            await _too_large(send)
            return
        await self.app(scope, replay(body, receive), send)


class RequestTiming:
    """Observes each request's latency by route and status into ``app.state.metrics`` (plain ASGI).

    Same measurement as a ``@app.middleware("http")`` function (start of the call to the start of the
    response), without Starlette's ``BaseHTTPMiddleware``, which wraps every request in an extra task,
    memory streams and a streaming response (it cost the event loop about a quarter of its CPU per
    webhook call: docs/benchmarks.md, webhook load, step 3).
    """

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def timed_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                metrics: ops.Metrics | None = getattr(scope["app"].state, "metrics", None)
                if metrics is not None:
                    path = getattr(scope.get("route"), "path", "unmatched")
                    elapsed = time.perf_counter() - started
                    metrics.latency.labels(path, str(message["status"])).observe(elapsed)
            await send(message)

        await self.app(scope, receive, timed_send)


async def _too_large(send: Any) -> None:
    body = b'{"error":"request body too large"}'
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def create_app(settings: Settings, *, runtime: Runtime | None = None, **runtime_kw: Any) -> FastAPI:
    """Build the FastAPI app. The runtime (models, index, database) is built at startup, not import.

    Args:
        settings: the settings tree.
        runtime: an already built runtime (tests share one loaded model this way).
        runtime_kw: passed to ``build_runtime`` (e.g. ``embedder=``) when ``runtime`` is None.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from fallback.drafting.worker import start_in_process

        rt = runtime or build_runtime(settings, **runtime_kw)
        srv = settings.server
        app.state.dispatcher = Dispatcher(
            rt.service.handle_many, max_batch=srv.webhook_batch, threads=srv.webhook_threads,
            linger_s=srv.webhook_linger_ms / 1000
        ).start()
        app.state.runtime = rt
        app.state.drafting = start_in_process(rt)
        try:  # lazily loaded weights and vocabulary: now (before the heap is frozen), not on a call
            rt.embedder.encode(["warm-up"])
        except Exception:  # the calls will report it (a remote embedder may come back): start anyway
            log.exception("app.warm_up_failed embedder=%s", rt.index.identity)
        rt.service.start_background()
        log.info("app.started embedder=%s answers_indexed=%d gating=%s", rt.index.identity, len(rt.index),
                 rt.service.scorer_status())
        try:
            with frozen_heap(srv.freeze_heap), app.state.metrics.gc_pauses.observing():
                yield
        finally:
            app.state.dispatcher.stop()
            app.state.drafting.stop()
            rt.service.stop_background()
            if runtime is None:
                rt.close()

    app = FastAPI(
        title="Backstop",
        version="0.1.0",
        description="Fallback webhook and review API for Coze customer-service bots.",
        lifespan=lifespan,
        servers=[{"url": settings.server.public_url}] if settings.server.public_url else None,
    )
    errors.install(app)
    app.include_router(webhook.router)
    app.include_router(review.router)
    from fallback.web import console

    app.include_router(console.router)

    app.include_router(ops.router)
    app.state.metrics = ops.Metrics()
    srv = settings.server
    app.state.limits = {"user": RateLimiter(srv.user_rate_per_s, srv.user_burst),
                        "bot": RateLimiter(srv.bot_rate_per_s, srv.bot_burst)}
    app.add_middleware(RequestTiming)
    app.add_middleware(BodyLimit, limit=settings.server.max_body_bytes)
    app.add_middleware(WebhookFastPath, max_body_bytes=settings.server.max_body_bytes)  # outermost
    return app
