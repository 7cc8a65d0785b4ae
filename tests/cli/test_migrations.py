"""Alembic migrations create exactly the schema the models describe, on PostgreSQL and SQLite."""

from __future__ import annotations

import pytest
from alembic import command

from backstop.migrate import alembic_config, upgrade


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


LONG_QUERY = "我的订单一直没有发货，" * 200  # 2,000 CJK characters: 6 kB, over PostgreSQL's B-tree row limit


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_0002_backfills_text_hash_and_keeps_examples(backend, tmp_path, request) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import create_engine, text

    from fallback.store.schema import text_digest

    url = (
        f"sqlite:///{tmp_path / 'm.db'}"
        if backend == "sqlite"
        else request.getfixturevalue("fresh_postgres_url")
    )
    upgrade(url, "0001")
    engine = create_engine(url)
    with engine.begin() as c:
        c.execute(text(
            "INSERT INTO candidates (id, status, query, occurrences, first_seen, last_seen, risk, draft,"
            " draft_status, \"references\", flags, scores, generator, draft_latency_ms, version, context,"
            " created_at, updated_at) VALUES (1, 'pending', '能开发票吗', 2, :t, :t, false, '', 'none',"
            " '[]', '{}', '{}', '', 0, 1, '{}', :t, :t)"), {"t": "2026-11-01 00:00:00+00:00"})
        for i, q in enumerate(["能开发票吗", "可以开发票吗"], start=1):
            c.execute(text(
                "INSERT INTO candidate_examples (id, candidate_id, text, count, similarity, last_seen)"
                " VALUES (:i, 1, :q, 1, 1.0, :t)"), {"i": i, "q": q, "t": "2026-11-01 00:00:00+00:00"})
    upgrade(url)
    with engine.begin() as c:
        rows = c.execute(text("SELECT text, text_hash FROM candidate_examples ORDER BY id")).all()
        assert [(r[0], r[1]) for r in rows] == [(q, text_digest(q)) for q in ["能开发票吗", "可以开发票吗"]]
        # the old unique (candidate_id, text) index is gone: a 6 kB query is storable on PostgreSQL too
        c.execute(text(
            "INSERT INTO candidate_examples (id, candidate_id, text, text_hash, count, similarity, last_seen)"
            " VALUES (3, 1, :q, :h, 1, 1.0, :t)"), {"q": LONG_QUERY, "h": text_digest(LONG_QUERY),
                                                 "t": "2026-11-01 00:00:00+00:00"})
    engine.dispose()
    command.check(alembic_config(url))


def test_embedded_file_from_an_earlier_release_is_migrated_in_place(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A var/backstop.db made by create_all before 0002 (no alembic_version) is stamped, then upgraded."""
    from sqlalchemy import create_engine, inspect, text

    from backstop.migrate import prepare_embedded

    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0001")
    engine = create_engine(url)
    with engine.begin() as c:
        c.execute(text("DROP TABLE alembic_version"))  # what create_all left behind
    assert prepare_embedded(url) == "0001 -> 0003"
    assert "text_hash" in {c["name"] for c in inspect(engine).get_columns("candidate_examples")}
    assert "scorer" in {c["name"] for c in inspect(engine).get_columns("events")}
    assert prepare_embedded(url) is None  # idempotent
    engine.dispose()
    # a fresh file made by today's create_all is stamped at head, not migrated twice
    from fallback.store.db import Database

    fresh = f"sqlite:///{tmp_path / 'fresh.db'}"
    Database.connect(fresh).dispose()
    assert prepare_embedded(fresh) == "stamped 0003"
    assert prepare_embedded(f"sqlite:///{tmp_path / 'new.db'}") == "empty -> 0003"
    # a fresh clone has no ./var yet: the folder is created, as Database.connect does
    assert prepare_embedded(f"sqlite:///{tmp_path / 'var' / 'deeper' / 'backstop.db'}") == "empty -> 0003"
    command.check(alembic_config(fresh))


def test_embedded_file_of_the_0002_era_gets_the_scorer_tables(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A file stamped by nothing but with text_hash (0002's create_all) gains scorer_models, events.scorer."""
    from sqlalchemy import create_engine, inspect, text

    from backstop.migrate import prepare_embedded

    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0002")
    engine = create_engine(url)
    with engine.begin() as c:
        c.execute(text("DROP TABLE alembic_version"))
    assert prepare_embedded(url) == "0002 -> 0003"
    insp = inspect(engine)
    assert "scorer_models" in insp.get_table_names()
    assert "scorer" in {c["name"] for c in insp.get_columns("events")}
    engine.dispose()
    command.check(alembic_config(url))
