"""Mining commands (``backstop mine``, ``backstop eval mining``)."""

from __future__ import annotations

import typer


def register(app: typer.Typer, eval_app: typer.Typer) -> None:
    """Add the mining commands to the root CLI."""
