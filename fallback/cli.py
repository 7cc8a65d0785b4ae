"""Service commands: ``serve``, ``calibrate``, ``eval gating``, ``users``, ``purge``.

Registered by the composition root (``backstop.cli``), which also hands in how an embedded database is
brought to the current schema (the migrations are the root's).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path

import typer
from rich.console import Console

err = Console(stderr=True)


def _settings(**overrides: object):  # type: ignore[no-untyped-def]
    from fallback.settings import load_settings

    return load_settings(**overrides)


#: Brings an embedded SQLite file to the current schema; returns what it did (None: nothing).
PrepareDatabase = Callable[[str], str | None]


def prepared(prepare_database: PrepareDatabase, url: str) -> None:
    """Run ``prepare_database`` on ``url`` and say so when the schema changed."""
    done = prepare_database(url)
    if done:
        err.print(f"database schema migrated: {done}")


def _embedder(backend: str | None):  # type: ignore[no-untyped-def]
    from models.factory import build_embedder

    s = _settings()
    if backend:
        s.embedder.backend = backend
    with err.status(f"loading embedder {s.embedder.backend} …"):
        return build_embedder(s.embedder)


def _progress(name: str, message: str) -> None:
    err.print(f"[dim]{name}: {message}[/]")


def register(app: typer.Typer, eval_app: typer.Typer, *, prepare_database: PrepareDatabase) -> None:
    """Add the service commands to the root CLI.

    Args:
        app: The root CLI.
        eval_app: Its ``eval`` group.
        prepare_database: Migrates an embedded database (``backstop.migrate.prepare_embedded``).
    """
    register_users(app, prepare_database)
    register_purge(app)

    @app.command()
    def serve(
        host: str = typer.Option(None, help="Bind address (default from settings: 127.0.0.1)."),
        port: int = typer.Option(None, help="Port (default 8000)."),
        workers: int = typer.Option(None, help="uvicorn worker processes."),
        demo: bool = typer.Option(False, "--demo", help="Seed demo answers into an empty database."),
    ) -> None:
        """Run the webhook, review API and reviewer pages with uvicorn."""
        import os

        import uvicorn

        if demo:
            os.environ["BACKSTOP_SEED_DEMO"] = "true"
        s = _settings()
        host = host or s.server.host
        port = port or s.server.port
        workers = workers or s.server.workers
        from fallback.logs import configure

        configure(s.log_level, json_format=s.log_json)
        prepared(prepare_database, s.resolved_database_url)
        err.print(
            f"[bold]Backstop[/] on http://{host}:{port}  ·  API docs: http://{host}:{port}/docs"
            f"  ·  reviewer console: http://{host}:{port}/review  ·  embedder: {s.embedder.backend}"
            f"  ·  database: {s.resolved_database_url}"
        )
        uvicorn.run(
            "fallback.api.main:app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="info",
            access_log=False,
        )

    @app.command()
    def calibrate(
        data: list[Path] = typer.Option(..., "--data", help="Intent JSONL files (repeatable)."),  # noqa: B008
        embedder: str = typer.Option(None, help="Embedder backend (default: settings)."),
        target_precision: float = typer.Option(0.99, help="Auto-answer precision to reach."),
        out: Path = typer.Option(None, help="Output file (default: <data_dir>/calibration-<model>.json)."),  # noqa: B008
        limit: int = typer.Option(None, help="At most this many calibration queries per file."),
        varied_keys: bool = typer.Option(
            False, help="Index a random 1..all texts per answer (experimental)."
        ),
    ) -> None:
        """Fit the confidence calibration and thresholds for the configured embedder and save them."""
        from fallback.core import calibration as cal_io
        from fallback.evaluation.datasets import DataFormatError, read_intents
        from fallback.evaluation.gating import evaluate_intents, fit_calibration
        from models.ports import embedder_identity

        emb = _embedder(embedder)
        replays = []
        for path in data:
            try:
                rows = read_intents(path)
            except DataFormatError as e:
                raise typer.BadParameter(str(e)) from e
            _res, _cal, replay = evaluate_intents(
                rows,
                emb,
                target_precision=target_precision,
                limit=limit,
                progress=partial(_progress, path.name),
                varied_keys=varied_keys,
            )
            replays.append(replay)
        identity = embedder_identity(emb)
        cal = fit_calibration(
            replays,
            identity,
            target_precision=target_precision,
            source="calibrate: " + ", ".join(p.name for p in data),
        )
        target = out or _settings().data_dir / f"calibration-{cal_io.model_key(identity)}.json"
        cal_io.save(cal, target)
        typer.echo(
            json.dumps(
                {
                    "file": str(target),
                    "answer_threshold": cal.answer_threshold,
                    "suggest_threshold": cal.suggest_threshold,
                    "grouping_threshold": cal.grouping_threshold,
                    "embedder": identity,
                }
            )
        )

    @eval_app.command("gating")
    def eval_gating(
        data: Path = typer.Option(..., "--data", exists=True, dir_okay=False, help="Shared-format JSONL."),  # noqa: B008
        embedder: str = typer.Option(None, help="Embedder backend (default: settings)."),
        target_precision: float = typer.Option(None, help="Default 0.99 (intent files) / 0.9 (pair files)."),
        limit: int = typer.Option(None, help="Subsample each replayed split to this many queries."),
        seed: int = typer.Option(0),
        curve: bool = typer.Option(False, "--curve", help="Add the threshold sweep."),
        shipped: bool = typer.Option(
            False,
            "--shipped",
            help="Apply the embedder's shipped calibration "
            "instead of fitting one on the file's val/dev split.",
        ),
        scorer: str = typer.Option(
            "learned",
            help="learned: the per-shop classifier (the k-NN vote's figures under 'vote'); vote: vote only.",
        ),
    ) -> None:
        """Replay a labelled file through index + gate; print one JSON object (precision, coverage, …)."""
        from fallback.evaluation.datasets import DataFormatError, IntentExample, PairExample, read_jsonl
        from fallback.evaluation.gating import evaluate_intents, evaluate_pairs

        try:
            kind, rows = read_jsonl(data)
        except DataFormatError as e:
            err.print(f"[red]{e}[/]")
            raise typer.Exit(2) from e
        if scorer not in ("learned", "vote"):
            err.print(f"[red]--scorer must be 'learned' or 'vote', not {scorer!r}[/]")
            raise typer.Exit(2)
        emb = _embedder(embedder)
        if kind == "intent":
            from fallback.core import calibration as cal_io
            from models.ports import embedder_identity

            fixed = cal_io.load(embedder_identity(emb), data_dir=_settings().data_dir) if shipped else None
            result, _, _ = evaluate_intents(
                [r for r in rows if isinstance(r, IntentExample)],
                emb,
                target_precision=target_precision or 0.99,
                limit=limit,
                seed=seed,
                curve=curve,
                calibration=fixed,
                scorer=scorer,
                progress=lambda m: err.print(f"[dim]{m}[/]"),
            )
        else:
            result = evaluate_pairs(
                [r for r in rows if isinstance(r, PairExample)],
                emb,
                target_precision=target_precision or 0.9,
                limit=limit,
                seed=seed,
                curve=curve,
            )
        result["data"] = data.name
        sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")


def register_users(app: typer.Typer, prepare_database: PrepareDatabase) -> None:
    """``backstop users add|token``."""
    users_app = typer.Typer(help="Reviewer accounts.", no_args_is_help=True)
    app.add_typer(users_app, name="users")

    @users_app.command("add")
    def add(
        username: str = typer.Argument(..., help="Login name."),
        role: str = typer.Option("reviewer", help="reviewer or admin."),
        password: str = typer.Option(
            ...,
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            envvar="BACKSTOP_NEW_USER_PASSWORD",
            help="At least 8 characters.",
        ),
        token: bool = typer.Option(False, "--token", help="Also issue an API token (printed once)."),
    ) -> None:
        """Create a reviewer or admin account in the configured database (which must exist)."""
        from fallback.store import users as users_repo
        from fallback.store.db import Database, missing_sqlite_file

        url = _settings().resolved_database_url
        missing = missing_sqlite_file(url)
        if missing is not None:  # opening it would make a new database no server reads
            err.print(
                f"[red]no database at {missing}[/]: set BACKSTOP_DATA_DIR (or BACKSTOP_DATABASE_URL) to the "
                "service's, or create it with `backstop db upgrade`"
            )
            raise typer.Exit(2)
        prepared(prepare_database, url)
        db = Database.connect(url)
        try:

            def tx(s):  # type: ignore[no-untyped-def]
                users_repo.create(s, username, password, role)
                return users_repo.issue_token(s, username) if token else None

            issued = db.run(tx)
        except ValueError as e:
            err.print(f"[red]{e}[/]")
            raise typer.Exit(2) from e
        finally:
            db.dispose()
        typer.echo(f"created {role} {username} in {db.engine.url.render_as_string(hide_password=True)}")
        if issued:
            typer.echo(f"API token (shown once): {issued}")


def register_purge(app: typer.Typer) -> None:
    """``backstop purge``: the ``retention`` settings applied to the event log and closed candidates."""

    @app.command()
    def purge(
        dry_run: bool = typer.Option(False, "--dry-run", help="Count what would be deleted; delete nothing."),
    ) -> None:
        """Delete events and closed (approved/rejected) candidates older than the retention settings."""
        from fallback.store import retention
        from fallback.store.db import Database, missing_sqlite_file

        s = _settings()
        keep = s.retention
        if keep.events_days is None and keep.closed_candidates_days is None:
            typer.echo(
                "nothing to purge: set BACKSTOP_RETENTION__EVENTS_DAYS and/or "
                "BACKSTOP_RETENTION__CLOSED_CANDIDATES_DAYS (unset = keep forever)"
            )
            return
        url = s.resolved_database_url
        missing = missing_sqlite_file(url)
        if missing is not None:
            err.print(f"[red]no database at {missing}[/]: set BACKSTOP_DATA_DIR or BACKSTOP_DATABASE_URL")
            raise typer.Exit(2)
        db = Database.connect(url, create=False)
        try:
            report = db.run(
                lambda session: retention.purge(
                    session,
                    events_before=retention.cutoff(keep.events_days),
                    candidates_before=retention.cutoff(keep.closed_candidates_days),
                    dry_run=dry_run,
                )
            )
        finally:
            db.dispose()
        verb = "would delete" if dry_run else "deleted"
        for count, what, days in (
            (report.events, "events", keep.events_days),
            (report.candidates, "closed candidates", keep.closed_candidates_days),
        ):
            typer.echo(f"{verb} {count} {what} older than {days} days" if days else f"kept all {what}")
