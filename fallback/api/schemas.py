"""HTTP schemas of the webhook (every response field declared: Coze strips undeclared ones)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


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

    @field_validator("query")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("query is blank")
        return v


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
