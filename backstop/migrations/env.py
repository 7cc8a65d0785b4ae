"""Alembic environment: the metadata of every Backstop table (service and mining)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool

import fallback.store.schema  # noqa: F401  (registers the service tables)
from fallback.store.base import Base
from mining.store import MiningBase

config = context.config
target_metadata = [Base.metadata, MiningBase.metadata]  # the service's tables and the miner's


def run_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is None:
        connectable = engine_from_config(config.get_section(config.config_ini_section) or {},
                                         prefix="sqlalchemy.", poolclass=pool.NullPool)
        with connectable.connect() as connection:
            _run(connection)
    else:
        _run(connectable)


def _run(connection: object) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)  # type: ignore[arg-type]
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
