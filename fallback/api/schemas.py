"""HTTP schemas of the webhook (every response field declared: Coze strips undeclared ones)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from fallback.core.storable import make_storable, storable_text


class Turn(BaseModel):
    """One earlier message of the conversation."""

    model_config = ConfigDict(extra="ignore")
    role: Literal["user", "assistant", "system"] = "user"
    content: str = Field("", max_length=4000)


class FallbackIn(BaseModel):
    """The bot's call when no intent matched."""

    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={
            "examples": [
                {
                    "query": "你们的发票怎么开？",
                    "user_id": "u-1",
                    "conversation_id": "c-1",
                    "message_id": "m-1",
                    "history": [{"role": "user", "content": "你好"}],
                    "slots": {"order_id": "202411110001234"},
                }
            ]
        },
    )

    query: str = Field(..., min_length=1, description="What the customer wrote (masked on arrival).")
    user_id: str = Field(..., min_length=1, max_length=128)
    conversation_id: str = Field(..., min_length=1, max_length=128)
    message_id: str | None = Field(None, max_length=128, description="Makes retries idempotent.")
    bot_id: str | None = Field(None, max_length=128)
    history: list[Turn] = Field(default_factory=list, max_length=50)
    slots: dict[str, Any] = Field(default_factory=dict, description="e.g. order_id")
    locale: str = Field("zh-CN", max_length=16)

    _sanitised: list[str] = PrivateAttr(default_factory=list)

    @field_validator("query")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("query is blank")
        return v

    @model_validator(mode="after")
    def _storable(self) -> FallbackIn:
        # NUL characters, lone surrogates and NaN/Infinity/1e999 cannot be stored (PostgreSQL) or
        # encoded (UTF-8): repaired here, before anything is masked, embedded, stored or drafted, and
        # each repair named (field, not value) in `sanitised`, which the event log records
        reasons: list[str] = []
        for name in ("query", "user_id", "conversation_id", "message_id", "bot_id", "locale"):
            value = getattr(self, name)
            if isinstance(value, str):
                problems: set[str] = set()
                setattr(self, name, storable_text(value, problems))
                reasons.extend(f"{name}: {p}" for p in sorted(problems))
        problems = set()
        for turn in self.history:
            turn.content = storable_text(turn.content, problems)
        reasons.extend(f"history: {p}" for p in sorted(problems))
        problems = set()
        slots = make_storable(self.slots, problems)
        assert isinstance(slots, dict)
        self.slots = slots
        reasons.extend(f"slots: {p}" for p in sorted(problems))
        for name in ("user_id", "conversation_id"):
            if not getattr(self, name):
                raise ValueError(f"{name} is empty once NUL characters are removed")
        self._sanitised = reasons
        return self

    @property
    def sanitised(self) -> list[str]:
        """What :meth:`_storable` repaired, as ``"<field>: <repair>"`` (no user text)."""
        return list(self._sanitised)


class FallbackOut(BaseModel):
    """What the bot shows, and why."""

    action: Literal["answer", "pending_review", "handoff", "blocked"] = Field(
        ..., description="answer: show `answer`; otherwise `answer` holds the polite hand-off text."
    )
    answer: str = Field(..., description="The text to show the customer.")
    confidence: float = Field(..., description="Calibrated probability that the matched answer is right.")
    answer_id: int | None = Field(None, description="The approved answer served, when action=answer.")
    candidate_id: int | None = Field(None, description="The review candidate this query joined, if any.")
    reason: str = Field(..., description="Why: matched, risk_topic, low_confidence, no_match, ...")
    trace_id: str = Field(..., description="Quote this when reporting a problem.")


class ErrorOut(BaseModel):
    """Every error response."""

    error: str
    detail: Any = None
