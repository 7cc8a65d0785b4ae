"""Concatenating several embedders into one vector space (an ensemble that costs only their sum)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from models.ports import Embedder, Vectors, embedder_identity, l2_normalise


class ConcatEmbedder:
    """Joins the unit vectors of several embedders; each contributes equally to cosine similarity."""

    def __init__(self, embedders: Sequence[Embedder]) -> None:
        if not embedders:
            raise ValueError("ConcatEmbedder needs at least one embedder")
        self._embedders = list(embedders)

    @property
    def parts(self) -> list[Embedder]:
        """The embedders joined, in order."""
        return list(self._embedders)

    @property
    def model_id(self) -> str:
        return "+".join(e.model_id for e in self._embedders)

    @property
    def dimension(self) -> int:
        return sum(e.dimension for e in self._embedders)

    @property
    def version(self) -> str:
        return "+".join(embedder_identity(e) for e in self._embedders)

    def encode(self, texts: Sequence[str], *, batch_size: int = 64) -> Vectors:
        """Concatenate each embedder's vectors, then scale the result to unit length."""
        parts = [e.encode(texts, batch_size=batch_size) for e in self._embedders]
        return l2_normalise(np.hstack(parts))
