"""Helpers shared by the drafting tests: real databases (SQLite file, PostgreSQL schema) and seed data."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from fallback.store import answers as answers_repo
from fallback.store import candidates as cand_repo
from fallback.store.db import Database

PG_URL = os.environ.get("BACKSTOP_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

REFUND_Q = "退货流程是什么"
REFUND_A = (
    "您好，签收后7天内商品完好可申请无理由退货：在“我的订单”中点击“申请售后”，选择退货并填写快递单号即可。"
)
SHIP_Q = "什么时候发货"
SHIP_A = "您好，现货商品在付款后48小时内发货，预售商品以商品页标注的发货时间为准。"


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A database URL whose tables live in a fresh PostgreSQL schema, dropped afterwards.

    Skips when the server is unreachable, but fails when ``CI=true`` (CI must test PostgreSQL).
    """
    import sqlalchemy as sa

    admin = sa.create_engine(PG_URL, pool_pre_ping=True)
    try:
        with admin.connect() as conn:
            conn.execute(sa.text("select 1"))
    except Exception as e:
        admin.dispose()
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL at {PG_URL} is unreachable under CI: {e}")
        pytest.skip(f"PostgreSQL at {PG_URL} is unreachable: {type(e).__name__}")
    schema = f"drafting_{uuid.uuid4().hex[:10]}"
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@contextmanager
def database_url(kind: str, tmp_path: Any) -> Iterator[str]:
    """``sqlite``: a file under ``tmp_path``; ``postgresql``: a throw-away schema."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'backstop.db'}"
    else:
        with postgres_schema() as url:
            yield url


def seed_answers(db: Database) -> dict[str, int]:
    """Two approved answers (refund flow, shipping time); returns their ids by question."""

    def write(s: Any) -> dict[str, int]:
        ids = {}
        for q, a in ((REFUND_Q, REFUND_A), (SHIP_Q, SHIP_A)):
            ids[q] = answers_repo.create(s, question=q, text=a, actor="test").id
        return ids

    return db.run(write)


def seed_candidate(
    db: Database,
    query: str = "退了货多久能收到退款",
    *,
    references: list[dict[str, Any]] | None = None,
    context: dict[str, Any] | None = None,
    draft: bool = True,
) -> int:
    """A pending candidate created the way the service creates one (with a draft job when ``draft``)."""

    def write(tx: Any) -> int:
        return cand_repo.create(
            tx, text=query, risk=False, references=references or [], context=context or {}, draft=draft
        )

    return db.run_tx(write, immediate=True)


class Clock:
    """A clock the test moves by hand (UTC, timezone-aware); create it after seeding the jobs."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def completion(text: str) -> dict[str, Any]:
    """An OpenAI chat-completions reply body carrying ``text``."""
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "model": "glm-4-9b-chat",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 100, "completion_tokens": len(text), "total_tokens": 100 + len(text)},
    }
