"""``backstop answers import|export``: load an existing FAQ (CSV, XLSX, JSONL) and write it back out."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console

err = Console(stderr=True, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add ``answers`` to the root CLI."""
    answers_app = typer.Typer(help="The answer library in bulk: import and export FAQ tables.",
                              no_args_is_help=True)
    app.add_typer(answers_app, name="answers")

    @answers_app.command("import")
    def import_(
        path: Path = typer.Argument(  # noqa: B008
            ..., help="CSV (UTF-8), XLSX or JSONL with question, answer, ... columns."
        ),
        fmt: str = typer.Option(None, "--format", help="csv | xlsx | jsonl (default: from the suffix)."),
        dry_run: bool = typer.Option(False, "--dry-run", help="Report what would happen; write nothing."),
        near: float = typer.Option(
            None, help="Skip rows whose question is this close (cosine) to an existing key "
            "(default: the calibration's grouping threshold; 1.0 disables)."),
        actor: str = typer.Option("import", help="Who the audit entry names."),
    ) -> None:
        """Import answers: de-duplicated against the library and the file, one audit entry, pending
        candidates the import answers are closed. Prints a JSON report; exit 1 when rows were invalid."""
        from fallback.faq.files import read_table
        from fallback.faq.importer import import_faq
        from fallback.faq.rows import FaqFormatError, parse_rows
        from fallback.runtime import build_runtime
        from fallback.settings import load_settings

        try:
            records = read_table(path, fmt)
        except FaqFormatError as e:
            err.print(f"[red]cannot import:[/] {e}")
            raise typer.Exit(2) from None
        rows, errors = parse_rows(records)
        settings = load_settings()
        with err.status("loading the answer library and embedder …"):
            rt = build_runtime(settings, generator=None)
        try:
            threshold = near if near is not None else rt.calibration.grouping_threshold
            report = import_faq(rt.db, rt.index, rows, actor=actor, source=str(path),
                                near_threshold=None if threshold >= 1.0 else threshold, dry_run=dry_run)
        finally:
            rt.close()
        report["invalid"] = [{"line": e.line, "error": e.message} for e in errors]
        typer.echo(json.dumps(report, ensure_ascii=False, default=str))
        verb = "would create" if dry_run else "created"
        err.print(f"{verb} {report['to_create']} answers; skipped {report['skipped']}; "
                  f"invalid {len(errors)}")
        if errors:
            raise typer.Exit(1)

    @answers_app.command("export")
    def export(
        path: Path = typer.Argument(..., help="Output file: .csv, .xlsx or .jsonl."),  # noqa: B008
        fmt: str = typer.Option(None, "--format", help="csv | xlsx | jsonl (default: from the suffix)."),
        include_retired: bool = typer.Option(False, help="Also export retired answers."),
    ) -> None:
        """Write the answer library in the columns `answers import` reads (a round trip needs no edits)."""
        from fallback.faq.files import format_of, write_table
        from fallback.faq.importer import export_rows
        from fallback.faq.rows import FaqFormatError
        from fallback.settings import load_settings
        from fallback.store.db import Database

        try:
            format_of(path, fmt)
        except FaqFormatError as e:
            err.print(f"[red]cannot export:[/] {e}")
            raise typer.Exit(2) from None
        settings = load_settings()
        db = Database.connect(settings.resolved_database_url)
        try:
            n = write_table(path, export_rows(db, include_retired=include_retired), fmt)
        finally:
            db.dispose()
        typer.echo(json.dumps({"file": str(path), "answers": n}))
