"""Builds the service's components from settings (used by ``create_app`` and the CLI)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from fallback.core import calibration as calibration_io
from fallback.core.gating import Calibration
from fallback.core.safety import Lexicon, SafetyPolicy
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


def build_safety(settings: Settings) -> SafetyPolicy:
    g = settings.gating
    return SafetyPolicy(
        risk=Lexicon.load(g.risk_lexicon, "risk_zh.txt"),
        banned=Lexicon.load(g.banned_lexicon, "banned_zh.txt"),
    )


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
    safety = build_safety(settings)
    index = AnswerIndex(emb, db, settings.data_dir / "index", settings.index)
    service = FallbackService(settings, db, emb, index, cal, safety, drafting_enabled=gen is not None)
    if start:
        service.start()
    return Runtime(settings, db, emb, gen, cal, safety, index, service)
