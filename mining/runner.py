"""One ``backstop mine`` run: lock, load, mine, write the pack, CSV and report, record the run."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from coze.intent_pack import write_pack_csv, write_pack_json
from mining.build import build_english_embedder, build_generator, build_mining_embedder, build_pipeline
from mining.cache import CachedEmbedder, EmbeddingCache
from mining.domain import ExistingIntent, MiningResult
from mining.ensemble import ConcatEmbedder
from mining.lock import RunLock
from mining.ports import Progress, QueryLog, no_progress
from mining.report import write_report
from mining.settings import MiningSettings
from mining.sources import load_existing_intents, load_text_file, resolve_window
from mining.store import create_tables, fail_run, finish_run, start_run
from models.ports import Embedder, Generator

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MineRequest:
    """What to mine: a window of the event log (``since`` or ``start``/``end``) or a text file."""

    since: str | None = None
    start: str | None = None
    end: str | None = None
    input_path: Path | None = None
    existing_path: Path | None = None


@dataclass(frozen=True)
class MineOutcome:
    """The recorded run and the files it wrote."""

    run_id: int
    out_dir: Path
    pack_json: Path
    pack_csv: Path
    report_html: Path
    result: MiningResult
    cache_hits: int
    cache_misses: int


def ensure_sqlite_dir(database_url: str) -> None:
    """Create the folder of a file-based SQLite database (SQLAlchemy does not)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)


def _cached_parts(embedder: Embedder) -> Sequence[CachedEmbedder]:
    parts = embedder.parts if isinstance(embedder, ConcatEmbedder) else [embedder]
    return [p for p in parts if isinstance(p, CachedEmbedder)]


def mine(
    settings: MiningSettings,
    request: MineRequest,
    *,
    database_url: str,
    queries: QueryLog,
    embedder: Embedder | None = None,
    generator: Generator | None = None,
    progress: Progress = no_progress,
) -> MineOutcome:
    """Run the whole mining job under the run lock and record it in ``mining_runs``.

    Args:
        settings: The mining section (output folder, cache, lock, pipeline knobs).
        request: The window or file to mine and the bot's existing intents.
        database_url: The service's database, where the run is recorded in ``mining_runs``.
        queries: The event log a window is read from.
        embedder: Overrides the configured embedder (tests pass a cached one built once).
        generator: Overrides the configured naming LLM.
        progress: Receives (stage, fraction done).
    """
    with RunLock(settings.lock_path, stale_after_s=settings.lock_stale_after_s):
        ensure_sqlite_dir(database_url)
        engine = create_engine(database_url)
        create_tables(engine)
        with Session(engine) as session:
            window: tuple[datetime, datetime] | None = None
            if request.input_path is not None:
                texts = load_text_file(request.input_path)
                source = f"file:{request.input_path.name}"
            else:
                window = resolve_window(request.since, request.start, request.end)
                texts = queries.unanswered(*window)
                source = "events"
            existing: list[ExistingIntent] = (
                load_existing_intents(request.existing_path) if request.existing_path else []
            )
            progress("load", 0.02)
            english = None
            if embedder is None:  # an injected embedder is the whole choice of views
                store = EmbeddingCache(settings.cache_path)
                embedder = build_mining_embedder(settings, cache=store)
                english = build_english_embedder(settings, cache=store)
            if generator is None:
                generator = build_generator(settings)
            pipeline = build_pipeline(settings, embedder, generator=generator, english_embedder=english)
            run = start_run(
                session,
                source=source,
                window_from=window[0] if window else None,
                window_to=window[1] if window else None,
                seed=settings.seed,
                params=settings.model_dump(mode="json", exclude={"coze", "generator"}),
                models={"generator": generator.name if generator else None},
            )
            logger.info("mine.start run=%s source=%s rows=%d", run.id, source, len(texts))
            cached = _cached_parts(embedder)
            before = sum(c.hits for c in cached), sum(c.misses for c in cached)
            try:
                result = pipeline.run(texts, existing=existing, progress=progress)
                out_dir = settings.out_dir / f"run-{run.id:05d}"
                out_dir.mkdir(parents=True, exist_ok=True)
                pack_json = write_pack_json(result.intents, out_dir / "intent_pack.json")
                pack_csv = write_pack_csv(result.intents, out_dir / "intent_pack.csv")
                hits = sum(c.hits for c in cached) - before[0]
                misses = sum(c.misses for c in cached) - before[1]
                counts = {
                    "rows": len(texts),
                    "distinct": len(result.utterances),
                    "intents": len(result.intents),
                    "raw_noise_share": round(result.raw_noise_share, 4),
                    "noise_share": round(result.noise_share, 4),
                    "existing_intents": len(existing),
                    "cache_hits": hits,
                    "cache_misses": misses,
                }
                meta = {"run": run.id, "source": source, "seed": settings.seed}
                if window:
                    meta["window"] = f"{window[0].isoformat()} .. {window[1].isoformat()}"
                report = write_report(result, out_dir / "report.html", meta=meta)
                finish_run(session, run, result, counts=counts, out_dir=str(out_dir))
            except Exception as e:
                fail_run(session, run, e)
                raise
            logger.info("mine.done run=%s intents=%d", run.id, len(result.intents))
            return MineOutcome(run.id, out_dir, pack_json, pack_csv, report, result, hits, misses)
