"""``backstop scorer train|status``: the shop's learned scorer, trained from the store's approved keys."""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.console import Console

err = Console(stderr=True, soft_wrap=True)
LOW_COVERAGE = 0.05


def coverage_table(report: dict[str, Any], served_target: float) -> list[dict[str, Any]]:
    """Rows (target, threshold, share of held-out in-scope keys answered) from a training report."""
    thresholds = report.get("thresholds") or {}
    coverage = report.get("pool_coverage") or {}
    rows = []
    for target in sorted({float(t) for t in thresholds}, reverse=True):
        thr = thresholds.get(str(target))
        rows.append({
            "target": target, "threshold": thr, "coverage": coverage.get(str(target), 0.0),
            "served": round(target, 4) == round(served_target, 4),
        })
    return rows


def warnings_for(rows: list[dict[str, Any]]) -> list[str]:
    """What an operator must know before relying on the scorer in force."""
    out = []
    for r in rows:
        if not r["served"]:
            continue
        if r["threshold"] is None:
            out.append(f"precision {r['target']} cannot be proven on these reviews: the k-NN vote "
                       "keeps serving; approve more paraphrases per answer, or choose "
                       "gating.learned_target 0.97/0.95")
        elif r["coverage"] < LOW_COVERAGE:
            out.append(f"at precision {r['target']} the scorer would answer only {r['coverage']:.1%} of "
                       "held-out questions automatically")
    return out


def register(app: typer.Typer) -> None:
    """Add ``scorer`` to the root CLI."""
    scorer_app = typer.Typer(
        help="The shop's learned scorer (trained on approved answers).", no_args_is_help=True
    )
    app.add_typer(scorer_app, name="scorer")

    @scorer_app.command("train")
    def train() -> None:
        """Train a new version from the approved answers now, store it and print its coverage per target."""
        from fallback.scoring.serving import NotTrainable, train_from_store
        from fallback.settings import load_settings
        from fallback.store.db import Database
        from models.factory import build_embedder

        s = load_settings()
        db = Database.connect(s.resolved_database_url)
        try:
            with err.status(f"loading embedder {s.embedder.backend} …"):
                emb = build_embedder(s.embedder)
            try:
                result = train_from_store(db, emb, in_child=False)
            except NotTrainable as e:
                err.print(f"[red]not trained:[/] {e}")
                raise typer.Exit(1) from None
        finally:
            db.dispose()
        rows = coverage_table(result.report, s.gating.learned_target)
        for w in warnings_for(rows):
            err.print(f"[yellow]warning:[/] {w}")
        typer.echo(json.dumps({"version": result.version, "keys": result.report.get("keys"),
                               "answers": result.report.get("answers"), "coverage": rows,
                               "seconds": result.report.get("seconds_total")}, ensure_ascii=False))

    @scorer_app.command("status")
    def status() -> None:
        """Show the newest stored version and the coverage it buys at each precision target."""
        from fallback.settings import load_settings
        from fallback.store import scorers as scorers_repo
        from fallback.store.db import Database

        s = load_settings()
        db = Database.connect(s.resolved_database_url)
        try:
            head = db.run(lambda ses: scorers_repo.latest_head(ses, None))
            changed = db.run(lambda ses: scorers_repo.key_changes(ses, head))
        finally:
            db.dispose()
        if head is None:
            typer.echo(json.dumps({"version": None, "keys_changed": changed, "scorer": "vote"}))
            return
        rows = coverage_table(head.report, s.gating.learned_target)
        for w in warnings_for(rows):
            err.print(f"[yellow]warning:[/] {w}")
        typer.echo(json.dumps({
            "version": head.version, "embedder": head.embedder, "trained_at": head.created_at.isoformat(),
            "keys": head.keys,
            "answers": head.answers, "keys_changed": changed, "coverage": rows,
        }, ensure_ascii=False))
