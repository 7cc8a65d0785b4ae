"""Tables. Every text column that holds customer input holds it *masked* (see ``fallback.core.masking``)."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fallback.store.base import Base, UTCDateTime, utcnow


class Answer(Base):
    """A human-approved answer, served for its canonical question and every paraphrase key."""

    __tablename__ = "answers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    question: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="active", index=True)  # active | retired
    safe_to_autosend: Mapped[bool] = mapped_column(Boolean, default=False)
    valid_from: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    hit_count: Mapped[int] = mapped_column(Integer, default=0)
    label: Mapped[str | None] = mapped_column(String(128), nullable=True)  # intent name, if any
    created_by: Mapped[str] = mapped_column(String(64), default="system")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    keys: Mapped[list[AnswerKey]] = relationship(
        back_populates="answer", cascade="all, delete-orphan", order_by="AnswerKey.id"
    )


class AnswerKey(Base):
    """One text an answer is retrieved by (its canonical question or a reviewer-attached paraphrase)."""

    __tablename__ = "answer_keys"
    __table_args__ = (UniqueConstraint("answer_id", "text", name="uq_answer_keys_answer_text"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    answer_id: Mapped[int] = mapped_column(ForeignKey("answers.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(16), default="paraphrase")  # canonical | paraphrase
    answer: Mapped[Answer] = relationship(back_populates="keys")


class Event(Base):
    """One webhook call: what was asked (masked), what was decided, how fast. Mining reads this log."""

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("conversation_id", "message_id", name="uq_events_conversation_message"),
        Index("ix_events_created_action", "created_at", "action"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trace_id: Mapped[str] = mapped_column(String(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    conversation_id: Mapped[str] = mapped_column(String(128))
    message_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    user_id: Mapped[str] = mapped_column(String(128))
    bot_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    locale: Mapped[str] = mapped_column(String(16), default="zh-CN")
    query: Mapped[str] = mapped_column(Text)  # normalised and masked
    action: Mapped[str] = mapped_column(String(20))  # answer | pending_review | handoff | blocked
    reason: Mapped[str] = mapped_column(String(64))
    confidence: Mapped[float] = mapped_column(Float, default=0.0)
    top_score: Mapped[float] = mapped_column(Float, default=0.0)
    answer_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    candidate_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    latency_ms: Mapped[float] = mapped_column(Float, default=0.0)
    cached: Mapped[bool] = mapped_column(Boolean, default=False)
    scorer: Mapped[str | None] = mapped_column(String(32), nullable=True)  # vote | learned:v<version>
    matches: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    slots: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    client: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # Coze headers, as sent (untrusted)
    response: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # what the bot got, for replays


class Candidate(Base):
    """An unanswered question group awaiting review, with its draft."""

    __tablename__ = "candidates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    # pending (awaiting draft or review) | approved | rejected
    query: Mapped[str] = mapped_column(Text)  # the representative (first) normalised, masked query
    occurrences: Mapped[int] = mapped_column(Integer, default=1)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    risk: Mapped[bool] = mapped_column(Boolean, default=False)
    draft: Mapped[str] = mapped_column(Text, default="")
    draft_status: Mapped[str] = mapped_column(String(16), default="queued")
    # queued | drafted | none (generator off) | failed
    references: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    flags: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    scores: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    generator: Mapped[str] = mapped_column(String(128), default="")
    draft_latency_ms: Mapped[float] = mapped_column(Float, default=0.0)
    assignee: Mapped[str | None] = mapped_column(String(64), nullable=True)
    answer_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reject_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # masked history + slots of 1st ask
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    examples: Mapped[list[CandidateExample]] = relationship(
        back_populates="candidate", cascade="all, delete-orphan", order_by="CandidateExample.id"
    )


def text_digest(text: str) -> str:
    """A fixed-width key for a (long) text: what unique indexes and lookups use instead of the text.

    A B-tree entry is capped (PostgreSQL: ~2.7 kB), and a query may hold 2,000 CJK characters (6 kB).
    """
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def _example_digest(context: Any) -> str:
    return text_digest(context.get_current_parameters()["text"])


class CandidateExample(Base):
    """A distinct query grouped into a candidate, with how often it was asked."""

    __tablename__ = "candidate_examples"
    __table_args__ = (
        UniqueConstraint("candidate_id", "text_hash", name="uq_candidate_examples_text_hash"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidates.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    # sha256 of text (see text_digest); filled in on insert, indexed for the webhook's exact-text lookup
    text_hash: Mapped[str] = mapped_column(String(32), default=_example_digest, index=True)
    count: Mapped[int] = mapped_column(Integer, default=1)
    similarity: Mapped[float] = mapped_column(Float, default=1.0)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    candidate: Mapped[Candidate] = relationship(back_populates="examples")


class DraftJob(Base):
    """A durable unit of drafting work (claimed with SKIP LOCKED on PostgreSQL)."""

    __tablename__ = "draft_jobs"
    __table_args__ = (Index("ix_draft_jobs_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidates.id", ondelete="CASCADE"), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued | running | done | dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    locked_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class AuditEntry(Base):
    """Who did what to which entity, with before/after snapshots."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class User(Base):
    """A reviewer or admin account."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16), default="reviewer")  # reviewer | admin
    token_hash: Mapped[str | None] = mapped_column(String(128), nullable=True, unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Meta(Base):
    """Small key/value facts, e.g. ``answers_version`` (bumped on every change to served answers)."""

    __tablename__ = "meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class ScorerModel(Base):
    """One trained version of the shop's learned scorer (classifier, calibrator, thresholds).

    Every instance serves the newest row; the id is the version. ``max_key_id`` and ``keys`` describe
    the answer keys it was trained on, so a server can tell how many changed since.
    """

    __tablename__ = "scorer_models"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    embedder: Mapped[str] = mapped_column(String(128))
    keys: Mapped[int] = mapped_column(Integer)
    answers: Mapped[int] = mapped_column(Integer)
    max_key_id: Mapped[int] = mapped_column(Integer)
    report: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    blob: Mapped[bytes] = mapped_column(LargeBinary)
