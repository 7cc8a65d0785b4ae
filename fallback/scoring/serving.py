"""Serving the learned scorer: train it from the store, keep the newest loaded, retrain in the background.

* :func:`train_from_store` reads the active answers' keys, embeds them with the serving embedder and
  trains a :class:`~fallback.scoring.training.LearnedScorer`; the fit runs in a child process (the
  TF-IDF and logistic fits hold the GIL, the webhook threads must not wait on them); the result is
  stored as a new version (``scorer_models``), so every instance serves the same one.
* :class:`ScorerSlot` holds the version in force in this process. :meth:`ScorerSlot.refresh` polls
  the newest version id and swaps the loaded model in one assignment (calls in flight keep the old
  one). A version that fails to load is skipped and the previous one (or the vote) keeps serving.
* :class:`Retrainer` is the background thread of an API process: every ``retrain_check_s`` it
  refreshes the slot and, when ``retrain_after`` keys changed since the model in force, retrains
  (one process per SQLite file, through :class:`~fallback.store.db.ProcessLease`).
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

import numpy as np

from fallback.core.domain import KeyMatch
from fallback.core.gating import Verdict
from fallback.core.normalize import normalize
from fallback.scoring.training import LearnedScorer, TrainingKey, TrainOptions, train_scorer
from fallback.store import answers as answers_repo
from fallback.store import scorers as scorers_repo
from fallback.store.db import Database, ProcessLease
from models.ports import Embedder

log = logging.getLogger(__name__)


class NotTrainable(ValueError):
    """The store does not hold what a scorer needs yet (too few answers or keys per answer)."""


@dataclass(frozen=True)
class TrainResult:
    """A stored training run."""

    version: int
    report: dict[str, Any]


def _fit(
    texts: list[str], answer_ids: list[int], vectors: np.ndarray, options: TrainOptions
) -> tuple[bytes, dict[str, Any]]:
    """The child process's part: fit and serialise (arrays in, bytes out; no database, no model)."""
    keys = [TrainingKey(t, a) for t, a in zip(texts, answer_ids, strict=True)]
    scorer, report = train_scorer(keys, vectors, options)
    return scorer.to_bytes(), report


def _fit_in_child(
    texts: list[str], answer_ids: list[int], vectors: np.ndarray, options: TrainOptions
) -> tuple[bytes, dict[str, Any]] | None:
    """:func:`_fit` in a spawned process; None when no child could run it (then the caller fits here)."""
    try:
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
            return pool.submit(_fit, texts, answer_ids, vectors, options).result()
    except (BrokenProcessPool, OSError) as e:
        log.warning("scorer.child_failed error=%s (fitting in this process)", type(e).__name__)
        return None


def train_from_store(
    db: Database, embedder: Embedder, options: TrainOptions | None = None, *, in_child: bool = True
) -> TrainResult:
    """Train on the active answers' keys and store the result as the newest version.

    Raises:
        NotTrainable: fewer than two answers, or too few keys per answer to calibrate.
    """
    options = options or TrainOptions()
    started = time.perf_counter()
    rows = db.run(answers_repo.live_keys)
    if len({r.answer_id for r in rows}) < options.min_answers:
        raise NotTrainable(f"the learned scorer needs at least {options.min_answers} answers with keys")
    texts = [normalize(r.text) for r in rows]
    vectors = np.asarray(embedder.encode(texts), dtype=np.float32)
    answer_ids = [r.answer_id for r in rows]
    try:
        fitted = _fit_in_child(texts, answer_ids, vectors, options) if in_child else None
        data, report = fitted if fitted is not None else _fit(texts, answer_ids, vectors, options)
    except ValueError as e:  # too few keys per answer: a fact about the store, not a failure
        raise NotTrainable(str(e)) from e
    report = {**report, "seconds_total": round(time.perf_counter() - started, 1)}
    version = db.run(lambda s: scorers_repo.save(
        s, embedder=embedder.model_id, keys=len(rows), answers=len(set(answer_ids)),
        max_key_id=max(r.key_id for r in rows), report=report, blob=data,
    ), immediate=True)
    log.info("scorer.trained version=%d keys=%d answers=%d seconds=%.1f thresholds=%s",
             version, len(rows), len(set(answer_ids)), report["seconds_total"], report.get("thresholds"))
    return TrainResult(version, report)


@dataclass(frozen=True)
class Served:
    """The version in force: the model and the threshold it serves."""

    version: int
    scorer: LearnedScorer
    target: float
    threshold: float | None

    def describe(self) -> dict[str, Any]:
        """What /readyz and the startup log show."""
        meta = self.scorer.meta
        return {
            "version": self.version, "target": self.target, "threshold": self.threshold,
            "keys": meta.get("keys"), "answers": meta.get("answers"), "trained_at": meta.get("trained_at"),
            "pool_coverage": meta.get("pool_coverage"),
        }


class ScorerSlot:
    """The learned scorer this process serves (None until one is trained and loads)."""

    def __init__(self, db: Database, embedder_id: str, target: float):
        self._db = db
        self._embedder_id = embedder_id
        self._target = target
        self._failed: set[int] = set()
        self.current: Served | None = None

    def refresh(self) -> bool:
        """Load the newest stored version if it is newer than the one in force; True when swapped."""
        latest = self._db.run(lambda s: scorers_repo.latest_version(s, self._embedder_id))
        now = self.current.version if self.current else None
        if latest is None or latest == now or latest in self._failed:
            return False
        try:
            data = self._db.run(lambda s: scorers_repo.blob(s, latest))
            scorer = LearnedScorer.from_bytes(data)
        except Exception:
            self._failed.add(latest)
            log.exception("scorer.load_failed version=%d (serving %s)", latest, now or "the vote")
            return False
        self.current = Served(latest, scorer, self._target, scorer.threshold(self._target))
        log.info("scorer.loaded version=%d target=%s threshold=%s", latest, self._target,
                 self.current.threshold)
        return True

    def verdicts(
        self, texts: Sequence[str], vectors: Sequence[Any], matches: Sequence[Sequence[KeyMatch]],
        top_ids: Sequence[int],
    ) -> list[Verdict | None]:
        """The learned confidence for each query (one pass for all), or None where the vote decides.

        None when no model is in force, when its target cannot be met (no threshold), when the k-NN
        top answer is unknown to it (approved after it was trained) or when scoring fails.
        """
        out: list[Verdict | None] = [None] * len(texts)
        served = self.current
        if served is None or served.threshold is None:
            return out
        clf = served.scorer.classifier
        known = [i for i, a in enumerate(top_ids) if clf.knows(a) and vectors[i] is not None]
        if not known:
            return out
        try:
            rows = np.vstack([np.asarray(vectors[i], dtype=np.float32).reshape(1, -1) for i in known])
            scored = served.scorer.score([texts[i] for i in known], rows, [list(matches[i]) for i in known])
        except Exception:
            log.exception("scorer.failed version=%d", served.version)
            return out
        for i, (pred, conf) in zip(known, scored, strict=True):
            out[i] = Verdict(pred, conf, served.threshold, served.version)
        return out

    def verdict(
        self, text: str, vector: Any, matches: Sequence[KeyMatch], top_id: int | None
    ) -> Verdict | None:
        """:meth:`verdicts` for one query."""
        if top_id is None:
            return None
        return self.verdicts([text], [vector], [matches], [top_id])[0]


class Retrainer:
    """Background thread: refresh the slot, retrain when enough keys changed."""

    def __init__(
        self, db: Database, embedder: Embedder, slot: ScorerSlot, *, every_s: float, after: int,
        train: bool = True, options: TrainOptions | None = None,
    ):
        self._db, self._embedder, self._slot = db, embedder, slot
        self._every, self._after, self._train = every_s, after, train
        self._options = options
        self._lease = ProcessLease(db, "scorer")
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._not_trainable_at: int | None = None

    def start(self) -> None:
        """Start the thread (daemon: it never holds the process up)."""
        self._thread = threading.Thread(target=self._loop, name="scorer-retrainer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Ask the thread to end and wait a little for it."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def step(self) -> bool:
        """One round (what the thread runs each period): True when a new version was trained."""
        self._slot.refresh()
        if not self._train or not self._lease.held():
            return False
        emb = self._embedder.model_id
        head = self._db.run(lambda s: scorers_repo.latest_head(s, emb))
        changed = self._db.run(lambda s: scorers_repo.key_changes(s, head))
        if changed < (self._after if head is not None else max(self._after, 1)):
            return False
        if self._not_trainable_at == changed:
            return False  # nothing new since the store was found too small
        try:
            train_from_store(self._db, self._embedder, self._options)
        except NotTrainable as e:
            self._not_trainable_at = changed
            log.info("scorer.not_trainable keys_changed=%d reason=%s", changed, e)
            return False
        self._slot.refresh()
        return True

    def _loop(self) -> None:
        while not self._stop.wait(self._every):
            try:
                self.step()
            except Exception:  # a failed round is logged; the model in force keeps serving
                log.exception("scorer.retrain_failed")
