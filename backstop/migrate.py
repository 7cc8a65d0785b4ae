"""Schema migrations (Alembic): ``backstop db upgrade|current|check``.

A PostgreSQL deployment runs ``backstop db upgrade`` before starting the service (the compose file
does). The embedded SQLite default is brought up to date by ``backstop serve`` / ``backstop worker``
themselves (:func:`prepare_embedded`), so a ``var/backstop.db`` made by an earlier release keeps working.
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


def prepare_embedded(url: str) -> str | None:
    """Migrate an embedded SQLite database to the latest schema; return what was done (None: nothing).

    Files made before migrations were tracked there (the tables came from ``create_all``) carry no
    ``alembic_version``: they are stamped with the revision their tables match, then upgraded.
    """
    if not url.startswith("sqlite"):
        return None
    from sqlalchemy import inspect

    from fallback.store.db import make_engine

    engine = make_engine(url)  # also creates the file's folder (./var on a fresh clone)
    stamped = None
    try:
        insp = inspect(engine)
        tables = set(insp.get_table_names())
        if "alembic_version" not in tables and "candidate_examples" in tables:
            columns = {c["name"] for c in insp.get_columns("candidate_examples")}
            event_columns = {c["name"] for c in insp.get_columns("events")} if "events" in tables else set()
            if "text_hash" not in columns:
                stamped = "0001"
            elif "scorer" not in event_columns:
                stamped = "0002"
            else:
                stamped = "head"
            # the service's create_all makes only its own tables; the miner's (created in 0001, unchanged
            # since) go with them before the stamp says they are there
            from mining.store import create_tables

            create_tables(engine)
            command.stamp(alembic_config(url), stamped)
    finally:
        engine.dispose()
    before = _revision(url)
    upgrade(url)
    after = _revision(url)
    if before != after:
        return f"{before or 'empty'} -> {after}"
    return f"stamped {after}" if stamped else None


def _revision(url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def register(app: typer.Typer) -> None:
    db_app = typer.Typer(help="Database schema migrations (Alembic).", no_args_is_help=True)
    app.add_typer(db_app, name="db")

    def _url(url: str | None) -> str:
        from backstop import config

        return url or config.settings().resolved_database_url

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
