"""The drafting worker: claim a job, build the prompt, generate, check, store; and its thread pool.

Two ways to run it, both over the same durable queue (:mod:`fallback.drafting.jobs`):

* in the API process (the embedded default): :func:`start_in_process` starts a background pool
  of ``drafting.concurrency`` threads; the webhook only inserts a ``draft_jobs`` row and never
  waits for a draft;
* as separate processes for scale: ``backstop worker`` (:mod:`fallback.drafting.cli`), any number
  of them, on several hosts when the database is PostgreSQL.

A failed try (``GenerationFailed``, a database hiccup, anything) goes back to the queue with a
backoff; the worker thread itself never dies of a job.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from fallback.drafting.checks import Lexicons, Similarity, check_draft
from fallback.drafting.jobs import ClaimedJob, DraftOutcome, DraftQueue
from fallback.drafting.prompt import Reference, build_messages
from fallback.settings import DraftingSettings
from fallback.store.db import Database, ProcessLease
from fallback.store.schema import Answer, Candidate
from models.errors import GenerationFailed
from models.ports import Embedder, Generator

if TYPE_CHECKING:
    from fallback.runtime import Runtime

log = logging.getLogger(__name__)


def embedder_similarity(embedder: Embedder) -> Similarity:
    """A :data:`~fallback.drafting.checks.Similarity` that embeds the draft and its references.

    Args:
        embedder: Any embedder (its vectors are unit length, so a dot product is the cosine).

    Returns:
        ``similarity(text, refs)``: the highest cosine between ``text`` and one of ``refs``.
    """

    def similarity(text: str, refs: Sequence[str]) -> float:
        vectors = embedder.encode([text, *refs])
        return float(np.max(vectors[1:] @ vectors[0])) if len(refs) else 0.0

    return similarity


def new_worker_id(label: str = "w") -> str:
    """A worker id unique across hosts, processes and threads: ``host:pid:label-xxxxxx``."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{label}-{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True)
class _Loaded:
    query: str
    context: dict[str, Any]
    references: list[dict[str, Any]]  # enriched, in retrieval order
    prompt_refs: list[Reference]


def _enrich(s: Session, raw: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add each answer's question, text and status to ``[{answer_id, score}]`` (missing ones dropped)."""
    return _with_answers(raw, _answer_views(s, _answer_ids(raw)))


def _answer_ids(raw: Sequence[dict[str, Any]]) -> set[int]:
    return {int(r["answer_id"]) for r in raw if r.get("answer_id") is not None}


def _answer_views(s: Session, ids: set[int]) -> dict[int, tuple[str, str, str]]:
    """id -> (question, text, status), in one query, only those columns (no ORM objects)."""
    if not ids:
        return {}
    rows = s.execute(select(Answer.id, Answer.question, Answer.text, Answer.status).where(Answer.id.in_(ids)))
    return {int(r[0]): (r[1], r[2], r[3]) for r in rows}


def _with_answers(
    raw: Sequence[dict[str, Any]], answers: dict[int, tuple[str, str, str]]
) -> list[dict[str, Any]]:
    out = []
    for r in raw:
        aid = int(r.get("answer_id") or 0)
        if aid in answers:
            question, text, status = answers[aid]
            out.append({**r, "answer_id": aid, "score": float(r.get("score") or 0.0),
                        "question": question, "text": text, "status": status})
    return out


def enrich_suggestions(db: Database, after_id: int = 0, *, batch: int = 200) -> int:
    """Fill in question/text of the references of candidates that get no draft (no generator).

    Args:
        db: The database.
        after_id: Only candidates with a larger id are looked at.
        batch: Most candidates per call.

    Returns:
        The largest candidate id looked at (pass it back as ``after_id`` next time).
    """

    def read(s: Session) -> tuple[int, dict[int, list[dict[str, Any]]]]:
        rows = s.execute(
            select(Candidate.id, Candidate.references)
            .where(Candidate.id > after_id, Candidate.draft_status == "none")
            .order_by(Candidate.id).limit(batch)
        ).all()
        wanted = {int(cid): refs for cid, refs in rows if refs and any("text" not in r for r in refs)}
        # the whole batch's answers in one query (one per candidate cost ~8% of a loaded server's CPU)
        answers = _answer_views(s, set().union(*map(_answer_ids, wanted.values())))
        todo = {cid: _with_answers(refs, answers) for cid, refs in wanted.items()}
        return (int(rows[-1][0]) if rows else after_id), todo

    # read first, then write in a short transaction of its own: reading inside the write transaction
    # held SQLite's single write lock for the whole sweep (50-90 ms stalls of the webhook under load)
    last, todo = db.run(read)
    if todo:
        def write(s: Session) -> None:
            t = cast(Table, Candidate.__table__)
            fill = (
                update(t).where(t.c.id == bindparam("cid"), t.c.draft_status == "none")
                .values(references=bindparam("refs"))
            )
            s.connection().execute(fill, [{"cid": cid, "refs": refs} for cid, refs in todo.items()])

        db.run(write, immediate=True)
    return last


class DraftWorker:
    """Drafts one claimed job at a time (thread-safe: share one per process).

    Args:
        db: The database.
        generator: Writes the drafts.
        lexicons: Banned and risk terms (a :class:`fallback.core.safety.SafetyPolicy`).
        similarity: For the grounding score (see :func:`embedder_similarity`).
        settings: ``references_k``, ``history_turns``, ``max_draft_chars`` and the queue settings.
        max_new_tokens: Passed to the generator.
        temperature: Passed to the generator.
        queue: The queue to use (default: built from ``settings``).
    """

    def __init__(
        self,
        db: Database,
        generator: Generator,
        lexicons: Lexicons,
        similarity: Similarity,
        settings: DraftingSettings,
        *,
        max_new_tokens: int = 256,
        temperature: float = 0.2,
        queue: DraftQueue | None = None,
    ) -> None:
        self.db = db
        self.generator = generator
        self.lexicons = lexicons
        self.similarity = similarity
        self.settings = settings
        self.max_new_tokens = max_new_tokens
        self.temperature = temperature
        self.queue = queue or DraftQueue.from_settings(db, settings)

    def run_once(
        self, worker_id: str, *, on_claim: Callable[[ClaimedJob | None], None] | None = None
    ) -> bool:
        """Claim one due job and draft it.

        Args:
            worker_id: The claimer's id.
            on_claim: Told the claim (and None when done), so a pool can renew its lease.

        Returns:
            True when a job was claimed (whatever its outcome), False when none was due.
        """
        job = self.queue.claim(worker_id)
        if job is None:
            return False
        log.info("draft.claimed job_id=%d candidate_id=%d attempt=%d worker=%s", job.id, job.candidate_id,
                 job.attempts, worker_id)
        if on_claim:
            on_claim(job)
        try:
            self.process(job)
        except Exception as e:  # a job must never take the worker down: record it, retry later
            log.exception("draft.error job_id=%d attempt=%d", job.id, job.attempts)
            try:
                self.queue.fail(job, f"{type(e).__name__}: {e}")
            except Exception:  # database down too: the lease runs out and the job is retaken
                log.exception("draft.fail_not_recorded job_id=%d", job.id)
        finally:
            if on_claim:
                on_claim(None)
        return True

    def process(self, job: ClaimedJob) -> bool:
        """Draft a claimed job and store the result (or the failure).

        Returns:
            True when the draft was stored by this call.
        """
        loaded = self.db.run(lambda s: self._load(s, job.candidate_id))
        if loaded is None:  # deleted or already reviewed: nothing to draft
            return self.queue.complete(job, None)
        slots = loaded.context.get("slots") or {}
        history = loaded.context.get("history") or []
        messages = build_messages(
            loaded.query, loaded.prompt_refs, history=history, slots=slots,
            history_turns=self.settings.history_turns, max_chars=self.settings.max_draft_chars,
        )
        started = time.perf_counter()
        try:
            generation = self.generator.generate(
                messages, max_new_tokens=self.max_new_tokens, temperature=self.temperature
            )
        except GenerationFailed as e:
            self.queue.fail(job, f"GenerationFailed: {e}")
            return False
        latency_ms = (time.perf_counter() - started) * 1000
        evidence = [loaded.query, *(str(t.get("content", "")) for t in history), *_flatten(slots)]
        check = check_draft(
            generation.text, references=[f"{r.question}\n{r.text}" for r in loaded.prompt_refs],
            evidence=evidence, lexicons=self.lexicons, similarity=self.similarity,
            max_chars=self.settings.max_draft_chars,
        )
        outcome = DraftOutcome(
            draft=generation.text, references=loaded.references, flags=check.flags, scores=check.scores,
            generator=self.generator.name, latency_ms=latency_ms,
        )
        stored = self.queue.complete(job, outcome)
        log.info("draft.done job_id=%d candidate_id=%d attempt=%d stored=%s latency_ms=%.0f issues=%s",
                 job.id, job.candidate_id, job.attempts, stored, latency_ms, ",".join(check.issues) or "-")
        return stored

    def _load(self, s: Session, candidate_id: int) -> _Loaded | None:
        cand = s.get(Candidate, candidate_id)
        if cand is None or cand.status != "pending":
            return None
        refs = cand.references or []
        enriched = _enrich(s, refs)
        if enriched != refs:  # reviewers see the suggestions while the draft is still being written
            cand.references = enriched
        ranked = sorted((r for r in enriched if r.get("status") == "active"), key=lambda r: -r["score"])
        prompt_refs = [Reference(r["answer_id"], r["score"], r["question"], r["text"])
                       for r in ranked[: self.settings.references_k]]
        return _Loaded(cand.query, dict(cand.context or {}), enriched, prompt_refs)


def _flatten(value: object) -> list[str]:
    if isinstance(value, dict):
        return [t for v in value.values() for t in _flatten(v)]
    if isinstance(value, list | tuple):
        return [t for v in value for t in _flatten(v)]
    return [] if value is None else [str(value)]


class WorkerPool:
    """``concurrency`` threads draining the queue, plus one that renews the leases they hold.

    Args:
        worker: The shared :class:`DraftWorker`, or None to only enrich suggestions (no generator).
        settings: ``concurrency``, ``poll_interval_s`` and ``lease_s``.
        db: The database (for the suggestion sweep).
        label: Part of every worker id (``api`` in the app, ``worker`` in ``backstop worker``).
    """

    def __init__(self, worker: DraftWorker | None, settings: DraftingSettings, db: Database, *,
                 label: str = "w") -> None:
        self.worker = worker
        self.settings = settings
        self.db = db
        self.label = label
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._held: dict[str, ClaimedJob] = {}
        self._lock = threading.Lock()
        self.processed = 0

    @property
    def stopping(self) -> bool:
        """True once :meth:`stop` was called."""
        return self._stop.is_set()

    def start(self) -> WorkerPool:
        """Start the threads (daemon threads: a hard exit leaves their jobs to lease expiry)."""
        if self.worker is None:
            self._spawn(self._suggest_loop, "draft-suggest")
            return self
        for i in range(self.settings.concurrency):
            self._spawn(self._drain_loop, f"draft-{i}", new_worker_id(f"{self.label}{i}"), i == 0)
        self._spawn(self._renew_loop, "draft-lease")
        log.info("draft.pool_started threads=%d generator=%s", self.settings.concurrency,
                 self.worker.generator.name)
        return self

    def _spawn(self, target: Callable[..., None], name: str, *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop claiming and wait up to ``timeout`` seconds for drafts in progress to be stored."""
        self._stop.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        busy = [t.name for t in self._threads if t.is_alive()]
        if busy:
            log.warning("draft.pool_stopped_busy threads=%s: their jobs are retaken after the lease", busy)

    def _track(self, worker_id: str) -> Callable[[ClaimedJob | None], None]:
        def track(job: ClaimedJob | None) -> None:
            with self._lock:
                if job is None:
                    self._held.pop(worker_id, None)
                    self.processed += 1
                else:
                    self._held[worker_id] = job

        return track

    def _drain_loop(self, worker_id: str, reaper: bool) -> None:
        assert self.worker is not None
        track, idle, errors = self._track(worker_id), self.settings.poll_interval_s, 0
        while not self._stop.is_set():
            try:
                if self.worker.run_once(worker_id, on_claim=track):
                    errors = 0
                    continue
                if reaper and self.worker.queue.reap():  # one thread is enough to sweep
                    continue
                errors = 0
                self._stop.wait(idle)
            except Exception:  # database unreachable: back off, keep the thread alive
                errors += 1
                log.exception("draft.poll_error worker=%s", worker_id)
                self._stop.wait(min(60.0, idle * 2 ** min(errors, 7)))

    def _renew_loop(self) -> None:
        assert self.worker is not None
        period = max(0.05, self.settings.lease_s / 3)
        while not self._stop.wait(period):
            with self._lock:
                held = list(self._held.values())
            for job in held:
                try:
                    if not self.worker.queue.renew(job):
                        log.warning("draft.lease_lost job_id=%d worker=%s", job.id, job.worker_id)
                except Exception:
                    log.exception("draft.renew_error job_id=%d", job.id)

    def _suggest_loop(self) -> None:
        # one sweeper among the processes sharing an SQLite file: each would read every new candidate
        lease = ProcessLease(self.db, "suggest")
        after = 0
        try:
            while not self._stop.is_set():
                try:
                    if lease.held():
                        after = enrich_suggestions(self.db, after)
                except Exception:
                    log.exception("draft.suggest_error")
                self._stop.wait(self.settings.poll_interval_s)
        finally:
            lease.release()


def build_worker(runtime: Runtime) -> DraftWorker | None:
    """The drafting worker of a runtime, or None when it has no generator."""
    if runtime.generator is None:
        return None
    gen = runtime.settings.generator
    return DraftWorker(
        runtime.db, runtime.generator, runtime.safety, embedder_similarity(runtime.embedder),
        runtime.settings.drafting, max_new_tokens=gen.max_new_tokens, temperature=gen.temperature,
    )


def start_in_process(runtime: Runtime) -> WorkerPool:
    """Start the background drafting threads of the API process.

    With a generator and ``drafting.in_process_worker`` (the default) it drains the queue; with no
    generator it fills in the references of new candidates as suggestions for reviewers; with
    ``in_process_worker = false`` (separate ``backstop worker`` processes) it starts nothing.

    Args:
        runtime: The process's runtime (``db``, ``generator``, ``embedder``, ``safety``, ``settings``).

    Returns:
        The running pool; call ``.stop()`` on shutdown.
    """
    pool = WorkerPool(build_worker(runtime), runtime.settings.drafting, runtime.db, label="api")
    if pool.worker is not None and not runtime.settings.drafting.in_process_worker:
        return pool  # not started: stop() is a no-op
    return pool.start()
