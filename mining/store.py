"""Tables recording mining runs and their candidate intents, so runs are reproducible and comparable."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Engine, Float, ForeignKey, Integer, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from coze.intent_pack import intent_entry
from mining.domain import MiningResult

# The service's naming convention (fallback.store.base.NAMING): one migration history covers both
# metadatas (backstop/migrations/env.py), so constraint names must be built the same way.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class MiningBase(DeclarativeBase):
    """The mining tables' own base (``mining`` never imports the service); same naming convention."""

    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the zone; it is put back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        """Store ``value`` in UTC (a naive one is taken as UTC)."""
        if value is None:
            return None
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        """Read back an aware UTC datetime."""
        if value is None:
            return None
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)


def utcnow() -> datetime:
    """Now, in UTC, timezone-aware."""
    return datetime.now(UTC)


class MiningRun(MiningBase):
    """One ``backstop mine`` run: what went in, with which models and parameters, what came out."""

    __tablename__ = "mining_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="running")  # running | succeeded | failed
    source: Mapped[str] = mapped_column(String(255))  # "events" or "file:<name>"
    window_from: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    window_to: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    seed: Mapped[int] = mapped_column(Integer, default=0)
    embedder: Mapped[str] = mapped_column(String(255), default="")
    models: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # stage names, generator
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # settings of the run
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # rows, utterances, clusters, cache
    timings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # seconds per stage
    n_intents: Mapped[int] = mapped_column(Integer, default=0)
    noise_share: Mapped[float] = mapped_column(Float, default=0.0)
    out_dir: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str | None] = mapped_column(Text, nullable=True)

    intents: Mapped[list[MiningIntent]] = relationship(
        back_populates="run", cascade="all, delete-orphan", order_by="MiningIntent.id"
    )


class MiningIntent(MiningBase):
    """A candidate intent of a run, with its intent-pack entry as JSON."""

    __tablename__ = "mining_intents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("mining_runs.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    size: Mapped[int] = mapped_column(Integer, default=0)
    volume: Mapped[int] = mapped_column(Integer, default=0)
    overlap: Mapped[str] = mapped_column(String(160), default="new")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    run: Mapped[MiningRun] = relationship(back_populates="intents")


def create_tables(engine: Engine) -> None:
    """Create the mining tables if missing (the service's migrations own every other table)."""
    MiningBase.metadata.create_all(engine)


def start_run(session: Session, **fields: Any) -> MiningRun:
    """Insert a ``running`` row and commit it, so a crash still leaves a trace."""
    run = MiningRun(**fields)
    session.add(run)
    session.commit()
    return run


def finish_run(
    session: Session, run: MiningRun, result: MiningResult, *, counts: dict[str, Any], out_dir: str
) -> None:
    """Mark ``run`` succeeded and store its results and candidate intents."""
    run.status = "succeeded"
    run.finished_at = utcnow()
    run.embedder = result.embedder
    run.models = {k: v for k, v in result.params.items() if k != "options"}
    run.params = {**run.params, "pipeline": result.params.get("options", {})}
    run.counts = counts
    run.timings = result.timings
    run.n_intents = len(result.intents)
    run.noise_share = result.noise_share
    run.out_dir = out_dir
    run.intents = [
        MiningIntent(
            name=i.name, size=i.size, volume=i.volume, overlap=i.overlap.label, payload=intent_entry(i)
        )
        for i in result.intents
    ]
    session.commit()


def fail_run(session: Session, run: MiningRun, error: BaseException) -> None:
    """Mark ``run`` failed with the error's type and message."""
    session.rollback()
    run.status = "failed"
    run.finished_at = utcnow()
    run.error = f"{type(error).__name__}: {error}"
    session.commit()
