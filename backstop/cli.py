"""The ``backstop`` console script: composes each package's commands into one typer app.

Every command reads the one settings tree (``fallback.settings``). The root checks it before any
command runs, so a misspelt variable or a missing ``BACKSTOP_CONFIG`` file ends every command the same
way: one line on stderr naming the variable and what it expects, exit status 2, no traceback.
"""

from __future__ import annotations

import sys

import typer


def build_app() -> typer.Typer:
    """Build the root CLI: ``models``, service commands, ``mine`` and ``eval gating|mining|loop``."""
    from backstop import config, loop_cli, mining_cli, models_cli
    from backstop import migrate as db_cli
    from coze import cli as coze_cli
    from fallback import cli as fallback_cli
    from fallback.drafting import cli as drafting_cli
    from fallback.faq import cli as faq_cli
    from fallback.scoring import cli as scorer_cli

    app = typer.Typer(
        name="backstop",
        help="Backstop: LLM fallback and intent mining for Coze customer-service bots.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_show_locals=False,
    )

    @app.callback()
    def root(ctx: typer.Context) -> None:
        """Backstop: LLM fallback and intent mining for Coze customer-service bots."""
        if not ctx.resilient_parsing:
            config.settings()  # refuse a bad setting before any command runs (one line, exit 2)

    eval_app = typer.Typer(
        help="Evaluate gating, mining and the closed loop on labelled data (prints one JSON object).",
        no_args_is_help=True,
    )
    app.add_typer(eval_app, name="eval")
    models_cli.register(app)
    fallback_cli.register(app, eval_app, prepare_database=db_cli.prepare_embedded)
    drafting_cli.register(app, prepare_database=db_cli.prepare_embedded)
    scorer_cli.register(app)
    faq_cli.register(app)
    coze_cli.register(app)
    mining_cli.register(app, eval_app)
    loop_cli.register(eval_app)
    db_cli.register(app)
    return app


def main() -> None:
    """Entry point of the console script."""
    from fallback.settings_errors import SettingsError

    try:
        build_app()()
    except SettingsError as e:  # raised past a command's own handling: still one line, exit 2
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":  # pragma: no cover
    main()
