"""The one place that turns settings into model backends. Imports are lazy: nothing heavy at import time."""

from __future__ import annotations

from models.ports import Embedder, Generator
from models.settings import EmbedderSettings, GeneratorSettings


def build_embedder(settings: EmbedderSettings) -> Embedder:
    """Build the configured embedder (loads weights; may convert e5-small once into the cache)."""
    if settings.backend == "usem3":
        from models.embedders.usem3 import Usem3Embedder

        return Usem3Embedder(threads=settings.threads or 1)
    if settings.backend == "e5-small":
        from models.embedders.e5 import E5SmallEmbedder

        return E5SmallEmbedder.create(settings)
    if settings.backend == "minilm":
        from models.embedders.minilm import MiniLMEmbedder

        return MiniLMEmbedder.create(settings)
    if settings.backend == "sentence-transformers":
        from models.embedders.sentence_transformers import SentenceTransformerEmbedder

        return SentenceTransformerEmbedder.create(settings)
    raise ValueError(f"unknown embedder backend {settings.backend!r}")


def build_generator(settings: GeneratorSettings) -> Generator | None:
    """Build the configured generator; ``None`` for backend ``none`` (reviewers write answers)."""
    if settings.backend == "none":
        return None
    if settings.backend == "transformers":
        from models.generators.transformers import TransformersGenerator

        return TransformersGenerator.create(settings)
    if settings.backend == "openai":
        from models.generators.openai import OpenAICompatibleGenerator

        return OpenAICompatibleGenerator.create(settings)
    raise ValueError(f"unknown generator backend {settings.backend!r}")
