"""A root CLI holding only the mining commands (the other packages' commands are not under test here)."""

from __future__ import annotations

import typer

from backstop.mining_cli import register


def build_app() -> typer.Typer:
    """``mine``, ``eval mining`` and ``export kb``, registered as ``backstop.cli`` registers them."""
    app = typer.Typer(no_args_is_help=True)
    eval_app = typer.Typer(no_args_is_help=True)
    app.add_typer(eval_app, name="eval")
    register(app, eval_app)
    return app
