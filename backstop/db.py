"""Schema migrations (Alembic) for PostgreSQL deployments: ``backstop db upgrade|current|check``.

The embedded SQLite default creates its tables at start; a PostgreSQL deployment runs
``backstop db upgrade`` before starting the service (the compose file does).
"""

from __future__ import annotations

from pathlib import Path

import typer
from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def register(app: typer.Typer) -> None:
    db_app = typer.Typer(help="Database schema migrations (Alembic).", no_args_is_help=True)
    app.add_typer(db_app, name="db")

    def _url(url: str | None) -> str:
        from fallback.settings import load_settings

        return url or load_settings().resolved_database_url

    @db_app.command("upgrade")
    def upgrade_cmd(revision: str = "head", url: str = typer.Option(None, help="Default: settings.")) -> None:
        """Apply migrations up to ``revision``."""
        upgrade(_url(url), revision)

    @db_app.command("current")
    def current(url: str = typer.Option(None)) -> None:
        """Show the database's revision."""
        command.current(alembic_config(_url(url)))

    @db_app.command("check")
    def check(url: str = typer.Option(None)) -> None:
        """Fail when the models differ from the migrated schema."""
        command.check(alembic_config(_url(url)))
