"""The plug-in points of ``models``: every embedder and generator implements one of these."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors.

    ``model_id`` + ``version`` identify the vector space: an index or cache built with one identity
    must refuse to serve with another.
    """

    @property
    def model_id(self) -> str:
        """The model's identity (name and weights), recorded with every vector."""
        ...

    @property
    def dimension(self) -> int:
        """Length of every vector ``encode`` returns."""
        ...

    @property
    def version(self) -> str:
        """Changes whenever the same texts would embed differently (keys caches and indexes)."""
        ...

    def encode(self, texts: Sequence[str], *, batch_size: int = 64) -> Vectors:
        """Return an array of shape ``[len(texts), dimension]``, each row of unit length."""
        ...


Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True)
class ChatMessage:
    """One chat turn."""

    role: Role
    content: str


@dataclass(frozen=True)
class Generation:
    """A generator's answer with its accounting."""

    text: str
    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0
    extra: dict[str, object] = field(default_factory=dict)


@runtime_checkable
class Generator(Protocol):
    """Drafts a reply from chat messages. ``name`` identifies backend and model."""

    @property
    def name(self) -> str:
        """Backend and model, as recorded with every draft."""
        ...

    def generate(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_new_tokens: int = 256,
        temperature: float = 0.0,
    ) -> Generation:
        """Return the generated text; raise ``GenerationFailed`` on any backend failure."""
        ...


def embedder_identity(embedder: Embedder) -> str:
    """A stable string naming an embedder's vector space (model, version, dimension)."""
    return f"{embedder.model_id}@{embedder.version}/{embedder.dimension}"


def l2_normalise(vectors: npt.NDArray[np.floating]) -> Vectors:
    """Return float32 rows scaled to unit length (zero rows stay zero)."""
    arr = np.asarray(vectors, dtype=np.float32)
    if arr.ndim == 1:
        arr = arr[None, :]
    norms = np.linalg.norm(arr, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(arr / norms, dtype=np.float32)
