"""The durable draft queue: ``draft_jobs`` rows claimed under a lease, retried with backoff.

A job moves ``queued -> running -> done``, or back to ``queued`` with a later ``next_attempt_at``
after a failure, or to ``dead`` (keeping ``last_error``) after ``max_attempts`` tries.

* **Claim.** PostgreSQL: ``SELECT ... FOR UPDATE SKIP LOCKED`` picks a row no other worker is
  looking at, then it is marked running in the same transaction. SQLite: a conditional
  ``UPDATE ... WHERE id = ? AND <claimable>`` whose row count says whether this worker won (SQLite
  has one writer at a time, so the check and the write are atomic). Either way the job gets
  ``locked_by`` (the worker id), ``locked_until = now + lease_s`` and ``attempts + 1``.
* **Lease.** A job whose worker died (kill -9, OOM, power) is claimable again once
  ``locked_until`` passes; nothing is lost. A live worker renews its lease while it drafts.
* **Fencing.** Completion, failure and renewal are conditional on the claim: same id, still
  ``running``, same ``locked_by`` and same ``attempts`` (the try number is the fencing token). A
  worker that lost its lease to another one (a zombie back from a long pause) writes nothing, so a
  draft is stored once. A lease that ran out but that nobody has taken yet still counts as held:
  the finished draft is kept rather than thrown away, and claim and completion exclude each other.
* **Retries.** A failed try waits ``backoff_base_s * 2**(n - 1)`` seconds (``n`` tries so far, so
  ``base * 2**attempts`` counted before the try) plus up to 25 % jitter, capped at an hour.
* **Poison jobs.** A job whose workers keep dying is dead-lettered by :meth:`DraftQueue.reap` once its
  lease runs out with ``max_attempts`` tries used.

Clocks: all times come from the worker's clock (injectable); keep hosts' clocks within a small
fraction of ``lease_s`` of each other (NTP).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, and_, func, or_, select, update
from sqlalchemy.orm import Session

from fallback.settings import DraftingSettings
from fallback.store.base import utcnow
from fallback.store.db import Database
from fallback.store.schema import Candidate, DraftJob

log = logging.getLogger(__name__)

BACKOFF_CAP_S = 3600.0
_ERROR_CHARS = 2000
_CANDIDATE_ERROR_CHARS = 300


def backoff_delay(tries: int, base_s: float, *, cap_s: float = BACKOFF_CAP_S, jitter: float = 0.0) -> float:
    """Seconds to wait before the next try.

    Args:
        tries: Tries made so far (1 after the first failure).
        base_s: The wait after the first failure.
        cap_s: The longest wait before jitter.
        jitter: A number in ``[0, 1)``; adds up to 25 % so many failed jobs do not retry in step.

    Returns:
        ``min(cap_s, base_s * 2**(tries - 1)) * (1 + 0.25 * jitter)``.
    """
    delay = min(cap_s, base_s * 2.0 ** max(0, tries - 1))
    return delay * (1.0 + 0.25 * jitter)


@dataclass(frozen=True)
class ClaimedJob:
    """A job this worker holds.

    Attributes:
        id: The ``draft_jobs.id``.
        candidate_id: The candidate to draft for.
        attempts: The try number of this claim (1 for the first); the fencing token.
        worker_id: Who holds it.
    """

    id: int
    candidate_id: int
    attempts: int
    worker_id: str


@dataclass(frozen=True)
class DraftOutcome:
    """What a finished draft writes onto its candidate.

    Attributes:
        draft: The generated text.
        references: The references, enriched with ``question`` and ``text``.
        flags: Post-check flags (merged into ``candidate.flags``).
        scores: Post-check scores.
        generator: The generator's name.
        latency_ms: Time spent generating.
    """

    draft: str
    references: list[dict[str, Any]]
    flags: dict[str, Any]
    scores: dict[str, Any]
    generator: str
    latency_ms: float


def _rowcount(result: Any) -> int:
    return int(cast(CursorResult[Any], result).rowcount)


class DraftQueue:
    """Claims, renews, completes and fails draft jobs in the database.

    Args:
        db: The database holding ``draft_jobs``.
        lease_s: How long a claim holds a job without renewal.
        max_attempts: Tries before a job is dead-lettered.
        backoff_base_s: The wait after the first failure (doubles per try).
        clock: Returns the current UTC time (tests move it forward).
        rng: Returns a number in ``[0, 1)`` for the jitter.
    """

    def __init__(
        self,
        db: Database,
        *,
        lease_s: float,
        max_attempts: int,
        backoff_base_s: float,
        clock: Callable[[], datetime] = utcnow,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.db = db
        self.lease = timedelta(seconds=lease_s)
        self.max_attempts = max_attempts
        self.backoff_base_s = backoff_base_s
        self.clock = clock
        self._rng = rng

    @classmethod
    def from_settings(cls, db: Database, settings: DraftingSettings, **kwargs: Any) -> DraftQueue:
        """Build from ``lease_s``, ``max_attempts`` and ``backoff_base_s`` of the drafting settings."""
        return cls(db, lease_s=settings.lease_s, max_attempts=settings.max_attempts,
                   backoff_base_s=settings.backoff_base_s, **kwargs)

    # --- claiming ---------------------------------------------------------------------------------
    def _claimable(self, now: datetime) -> ColumnElement[bool]:
        return or_(
            and_(DraftJob.status == "queued", DraftJob.next_attempt_at <= now),
            and_(DraftJob.status == "running", DraftJob.locked_until < now,
                 DraftJob.attempts < self.max_attempts),
        )

    def claim(self, worker_id: str) -> ClaimedJob | None:
        """Take the job that has waited longest, if any is due.

        Args:
            worker_id: Unique per worker thread (``host:pid:...``); stored in ``locked_by``.

        Returns:
            The claimed job, or None when nothing is due.
        """
        if self.db.is_sqlite:
            return self._claim_conditional(worker_id)
        return self.db.run(lambda s: self._claim_skip_locked(s, worker_id))

    def _claim_skip_locked(self, s: Session, worker_id: str) -> ClaimedJob | None:
        now = self.clock()
        job = s.scalars(
            select(DraftJob).where(self._claimable(now))
            .order_by(DraftJob.next_attempt_at, DraftJob.id).limit(1)
            .with_for_update(skip_locked=True)
        ).first()
        if job is None:
            return None
        job.status, job.locked_by, job.locked_until = "running", worker_id, now + self.lease
        job.attempts += 1
        job.updated_at = now
        s.flush()
        return ClaimedJob(job.id, job.candidate_id, job.attempts, worker_id)

    def _claim_conditional(self, worker_id: str) -> ClaimedJob | None:
        now = self.clock()
        due = self.db.run(lambda s: list(s.scalars(
            select(DraftJob.id).where(self._claimable(now))
            .order_by(DraftJob.next_attempt_at, DraftJob.id).limit(8)
        )))
        for job_id in due:  # another worker may win a row: try the next one

            def take(s: Session, job_id: int = job_id) -> ClaimedJob | None:
                now = self.clock()
                won = _rowcount(s.execute(
                    update(DraftJob).where(DraftJob.id == job_id, self._claimable(now))
                    .values(status="running", locked_by=worker_id, locked_until=now + self.lease,
                            attempts=DraftJob.attempts + 1, updated_at=now)
                    .execution_options(synchronize_session=False)
                ))
                if won != 1:
                    return None
                cand_id, attempts = s.execute(
                    select(DraftJob.candidate_id, DraftJob.attempts).where(DraftJob.id == job_id)
                ).one()
                return ClaimedJob(job_id, int(cand_id), int(attempts), worker_id)

            claimed = self.db.run(take)
            if claimed is not None:
                return claimed
        return None

    # --- holding ----------------------------------------------------------------------------------
    @staticmethod
    def _held(job: ClaimedJob) -> ColumnElement[bool]:
        return and_(DraftJob.id == job.id, DraftJob.status == "running",
                    DraftJob.locked_by == job.worker_id, DraftJob.attempts == job.attempts)

    def renew(self, job: ClaimedJob) -> bool:
        """Extend the lease of a job still held; False when it was lost (taken by another worker)."""

        def write(s: Session) -> bool:
            now = self.clock()
            return _rowcount(s.execute(
                update(DraftJob).where(self._held(job))
                .values(locked_until=now + self.lease, updated_at=now)
                .execution_options(synchronize_session=False)
            )) == 1

        return self.db.run(write)

    def complete(self, job: ClaimedJob, outcome: DraftOutcome | None) -> bool:
        """Mark the job done and store the draft on its candidate, only if the claim still holds.

        Args:
            job: The claim.
            outcome: The draft, or None when there was nothing to draft (candidate gone or already
                reviewed).

        Returns:
            True when this call finished the job; False when the claim was lost (nothing written).
        """

        def write(s: Session) -> bool:
            now = self.clock()
            done = _rowcount(s.execute(
                update(DraftJob).where(self._held(job))
                .values(status="done", locked_by=None, locked_until=None, last_error=None, updated_at=now)
                .execution_options(synchronize_session=False)
            ))
            if done != 1:
                return False
            cand = s.get(Candidate, job.candidate_id)
            if outcome is not None and cand is not None and cand.status == "pending":
                cand.draft = outcome.draft
                cand.draft_status = "drafted"
                cand.references = outcome.references
                kept = {k: v for k, v in (cand.flags or {}).items() if k != "draft_error"}
                cand.flags = {**kept, **outcome.flags}
                cand.scores = {**(cand.scores or {}), **outcome.scores}
                cand.generator = outcome.generator
                cand.draft_latency_ms = round(outcome.latency_ms, 1)
            return True

        finished = self.db.run(write)
        if not finished:
            log.warning("draft.lease_lost job_id=%d worker=%s attempt=%d: result discarded",
                        job.id, job.worker_id, job.attempts)
        return finished

    def fail(self, job: ClaimedJob, error: str) -> str | None:
        """Record a failed try: back to ``queued`` after a backoff, or ``dead`` after the last try.

        Args:
            job: The claim.
            error: What went wrong (kept in ``last_error``; no customer text).

        Returns:
            The job's new status (``"queued"`` or ``"dead"``), or None when the claim was lost.
        """
        error = error[:_ERROR_CHARS]
        dead = job.attempts >= self.max_attempts
        wait = backoff_delay(job.attempts, self.backoff_base_s, jitter=self._rng())

        def write(s: Session) -> str | None:
            now = self.clock()
            values: dict[str, Any] = {"locked_by": None, "locked_until": None, "last_error": error,
                                      "updated_at": now}
            if dead:
                values["status"] = "dead"
            else:
                values.update(status="queued", next_attempt_at=now + timedelta(seconds=wait))
            changed = _rowcount(s.execute(
                update(DraftJob).where(self._held(job)).values(**values)
                .execution_options(synchronize_session=False)
            ))
            if changed != 1:
                return None
            if dead:
                _mark_failed(s, job.candidate_id, error)
            return str(values["status"])

        status = self.db.run(write)
        log.warning("draft.failed job_id=%d attempt=%d/%d status=%s retry_in_s=%.1f error=%r", job.id,
                    job.attempts, self.max_attempts, status, 0.0 if dead else wait, error[:200])
        return status

    # --- housekeeping -----------------------------------------------------------------------------
    def reap(self) -> int:
        """Dead-letter jobs whose lease ran out with every try used (their workers kept dying).

        Returns:
            How many jobs were dead-lettered.
        """
        now = self.clock()
        stuck = self.db.run(lambda s: list(s.execute(
            select(DraftJob.id, DraftJob.candidate_id, DraftJob.attempts).where(
                DraftJob.status == "running", DraftJob.locked_until < now,
                DraftJob.attempts >= self.max_attempts)
        ).tuples()))
        reaped = 0
        for job_id, cand_id, attempts in stuck:
            error = (f"lease expired after {attempts} attempt(s): the worker stopped while drafting "
                     "(killed, crashed or out of memory)")

            def write(s: Session, job_id: int = job_id, cand_id: int = cand_id, error: str = error) -> int:
                changed = _rowcount(s.execute(
                    update(DraftJob).where(DraftJob.id == job_id, DraftJob.status == "running",
                                           DraftJob.locked_until < self.clock())
                    .values(status="dead", locked_by=None, locked_until=None, last_error=error,
                            updated_at=self.clock())
                    .execution_options(synchronize_session=False)
                ))
                if changed:
                    _mark_failed(s, cand_id, error)
                return changed

            reaped += self.db.run(write)
        if reaped:
            log.warning("draft.reaped jobs=%d", reaped)
        return reaped

    def requeue_dead(self) -> int:
        """Put every dead job back on the queue with its tries reset (after fixing the cause).

        Returns:
            How many jobs were re-queued.
        """

        def write(s: Session) -> int:
            now = self.clock()
            ids = list(s.scalars(select(DraftJob.candidate_id).where(DraftJob.status == "dead")))
            if not ids:
                return 0
            s.execute(update(DraftJob).where(DraftJob.status == "dead")
                      .values(status="queued", attempts=0, next_attempt_at=now, updated_at=now)
                      .execution_options(synchronize_session=False))
            s.execute(update(Candidate).where(Candidate.id.in_(ids), Candidate.draft_status == "failed")
                      .values(draft_status="queued").execution_options(synchronize_session=False))
            return len(ids)

        return self.db.run(write)

    def counts(self) -> dict[str, int]:
        """Jobs per status (``queued``, ``running``, ``done``, ``dead``), for health pages and metrics."""
        rows = self.db.run(lambda s: list(s.execute(
            select(DraftJob.status, func.count()).group_by(DraftJob.status)).tuples()))
        return {"queued": 0, "running": 0, "done": 0, "dead": 0, **{str(k): int(v) for k, v in rows}}

    def due(self) -> int:
        """How many jobs a worker could claim right now."""
        now = self.clock()
        return int(self.db.run(lambda s: s.scalar(
            select(func.count()).select_from(DraftJob).where(self._claimable(now)))) or 0)


def _mark_failed(s: Session, candidate_id: int, error: str) -> None:
    cand = s.get(Candidate, candidate_id)
    if cand is not None and cand.draft_status != "drafted":
        cand.draft_status = "failed"
        cand.flags = {**(cand.flags or {}), "draft_error": error[:_CANDIDATE_ERROR_CHARS]}
