"""The ``backstop`` console script: composes each package's commands into one typer app."""

from __future__ import annotations

import typer


def build_app() -> typer.Typer:
    """Build the root CLI: ``models``, service commands, ``mine`` and ``eval gating|mining|loop``."""
    from backstop import loop_cli
    from backstop import migrate as db_cli
    from fallback import cli as fallback_cli
    from fallback.drafting import cli as drafting_cli
    from fallback.scoring import cli as scorer_cli
    from mining import cli as mining_cli
    from models import cli as models_cli

    app = typer.Typer(
        name="backstop",
        help="Backstop: LLM fallback and intent mining for Coze customer-service bots.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_show_locals=False,
    )
    eval_app = typer.Typer(
        help="Evaluate gating, mining and the closed loop on labelled data (prints one JSON object).",
        no_args_is_help=True,
    )
    app.add_typer(eval_app, name="eval")
    models_cli.register(app)
    fallback_cli.register(app, eval_app)
    drafting_cli.register(app)
    scorer_cli.register(app)
    mining_cli.register(app, eval_app)
    loop_cli.register(eval_app)
    db_cli.register(app)
    return app


def main() -> None:
    """Entry point of the console script."""
    build_app()()


if __name__ == "__main__":  # pragma: no cover
    main()
