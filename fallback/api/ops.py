"""Operations endpoints: ``/healthz`` (alive), ``/readyz`` (model, index, database), ``/metrics``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from sqlalchemy import func, select, text

from fallback.api.heap import GcPauses
from fallback.store import audit
from fallback.store.schema import Candidate, DraftJob, Event

router = APIRouter(tags=["ops"])


class Metrics:
    """Per-app Prometheus registry (no module-level globals, so several apps can live in one process)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.latency = Histogram(
            "backstop_request_seconds",
            "HTTP request latency",
            ["route", "status"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        self.decisions = Counter(
            "backstop_decisions_total", "Webhook decisions", ["action", "reason"], registry=self.registry
        )
        self.queue = Gauge("backstop_draft_queue", "Draft jobs by status", ["status"], registry=self.registry)
        self.candidates = Gauge(
            "backstop_candidates_pending", "Pending review candidates", registry=self.registry
        )
        self.coverage = Gauge(
            "backstop_coverage_24h", "Share of webhook calls auto-answered, last 24 h", registry=self.registry
        )
        self.index_size = Gauge("backstop_index_keys", "Keys in the answer index", registry=self.registry)
        self.draft_latency = Gauge(
            "backstop_draft_latency_ms_avg",
            "Mean draft latency of drafted candidates",
            registry=self.registry,
        )
        self.gc_pause = Histogram(
            "backstop_gc_pause_seconds",
            "How long each garbage collection stopped the process, by generation",
            ["generation"],
            registry=self.registry,
            buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5),
        )
        self.gc_pauses = GcPauses()


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request) -> JSONResponse:
    """Model loaded, index in sync with the database, database reachable."""
    rt = getattr(request.app.state, "runtime", None)
    checks: dict[str, Any] = {"model": rt is not None}
    ok = rt is not None
    if rt is not None:
        try:
            version = rt.db.run(audit.answers_version, retries=0)
            with rt.db.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            checks["database"] = True
            if version != rt.index.version:
                rt.index.reconcile()
            checks["index_in_sync"] = rt.index.version == version
            checks["index_keys"] = len(rt.index)
            checks["gating"] = {**rt.service.scorer_status(), "vote_answer_bar": rt.service.policy.answer_bar}
        except Exception as e:  # readiness must report, not raise
            checks["database"] = False
            checks["error"] = type(e).__name__
        ok = bool(checks.get("database")) and bool(checks.get("index_in_sync"))
    return JSONResponse({"ready": ok, **checks}, status_code=200 if ok else 503)


@router.get("/metrics")
def metrics(request: Request) -> Response:
    """Prometheus exposition (gauges refreshed from the database at scrape time)."""
    m: Metrics = request.app.state.metrics
    for generation, seconds in m.gc_pauses.drain():
        m.gc_pause.labels(str(generation)).observe(seconds)
    rt = getattr(request.app.state, "runtime", None)
    if rt is not None:

        def read(s: Any) -> tuple[list[tuple[str, int]], int, list[tuple[str, int]], float | None]:
            jobs = [
                (str(a), int(b))
                for a, b in s.execute(select(DraftJob.status, func.count()).group_by(DraftJob.status))
            ]
            pending = int(
                s.scalar(select(func.count()).select_from(Candidate).where(Candidate.status == "pending"))
                or 0
            )
            since = audit_since(24)
            acts = [
                (str(a), int(b))
                for a, b in s.execute(
                    select(Event.action, func.count()).where(Event.created_at >= since).group_by(Event.action)
                )
            ]
            lat = s.scalar(
                select(func.avg(Candidate.draft_latency_ms)).where(Candidate.draft_status == "drafted")
            )
            return jobs, pending, acts, lat

        jobs, pending, acts, lat = rt.db.run(read)
        for status in ("queued", "running", "done", "dead"):
            m.queue.labels(status).set(dict(jobs).get(status, 0))
        m.candidates.set(pending)
        total = sum(n for _, n in acts)
        m.coverage.set(dict(acts).get("answer", 0) / total if total else 0.0)
        m.index_size.set(len(rt.index))
        m.draft_latency.set(float(lat or 0.0))
    return Response(generate_latest(m.registry), media_type=CONTENT_TYPE_LATEST)


def audit_since(hours: int) -> Any:
    from datetime import UTC, datetime, timedelta

    return datetime.now(UTC) - timedelta(hours=hours)
