"""Alembic migrations create exactly the schema the models describe, on PostgreSQL and SQLite."""

from __future__ import annotations

import pytest
from alembic import command

from backstop.db import alembic_config, upgrade


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_upgrade_then_check_finds_no_drift(backend, tmp_path, request) -> None:  # type: ignore[no-untyped-def]
    url = (
        f"sqlite:///{tmp_path / 'm.db'}"
        if backend == "sqlite"
        else request.getfixturevalue("fresh_postgres_url")
    )
    upgrade(url)
    command.check(alembic_config(url))  # raises when models and migrated schema differ
    command.downgrade(alembic_config(url), "base")
    upgrade(url)
