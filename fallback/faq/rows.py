"""FAQ rows: validation and the import plan (pure: no files, no database, no model).

A row has the columns of the console's answer library: ``question``, ``answer``, ``paraphrases``
(several, separated by new lines or ``|``), ``tags`` (stored as the answer's label),
``valid_from`` / ``valid_until`` (ISO 8601; a date alone means midnight UTC) and ``safe_to_autosend``
(true/false, 是/否, 1/0). Unknown columns are an error, so a misspelt header never loses a column.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

COLUMNS = ("question", "answer", "paraphrases", "tags", "valid_from", "valid_until", "safe_to_autosend")
# written by an export for reference, ignored by an import (a round trip needs no editing)
EXPORT_ONLY = ("id", "status", "hit_count")
REQUIRED = ("question", "answer")
# the console's Chinese headers are accepted too
ALIASES = {
    "问题": "question", "答案": "answer", "相似问": "paraphrases", "同义问法": "paraphrases", "标签": "tags",
    "生效时间": "valid_from", "失效时间": "valid_until", "可自动发送": "safe_to_autosend",
}
_SPLIT = re.compile(r"[\n|｜]+")
_TRUE = {"true", "1", "yes", "y", "是", "对", "t"}
_FALSE = {"false", "0", "no", "n", "否", "不", "f", ""}
_EARLIEST, _LATEST = datetime(2000, 1, 1, tzinfo=UTC), datetime(2200, 1, 1, tzinfo=UTC)
MAX_TEXT = 5000


class FaqFormatError(ValueError):
    """The file cannot be read as an FAQ table (its header, not a row)."""


@dataclass(frozen=True)
class FaqRow:
    """One validated row; ``line`` is its 1-based line (or sheet row) in the file."""

    line: int
    question: str
    answer: str
    paraphrases: tuple[str, ...] = ()
    tags: str | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    safe_to_autosend: bool = False

    def texts(self) -> tuple[str, ...]:
        """The question and its paraphrases, each once."""
        return tuple(dict.fromkeys((self.question, *self.paraphrases)))


@dataclass(frozen=True)
class RowError:
    """Why one row was not imported."""

    line: int
    message: str


def header(columns: Iterable[Any]) -> list[str]:
    """Canonical column names; raises :class:`FaqFormatError` on unknown or missing ones."""
    names = [ALIASES.get(str(c).strip(), str(c).strip().lower()) for c in columns if c is not None]
    unknown = [n for n in names if n and n not in COLUMNS and n not in EXPORT_ONLY]
    if unknown:
        raise FaqFormatError(f"unknown column(s) {unknown}; expected {list(COLUMNS)}")
    if len(set(names)) != len(names):
        raise FaqFormatError(f"a column appears twice: {names}")
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise FaqFormatError(f"missing column(s) {missing}; expected at least {list(REQUIRED)}")
    return names


def parse_rows(records: Iterable[tuple[int, Mapping[str, Any]]]) -> tuple[list[FaqRow], list[RowError]]:
    """Validate ``(line, {column: value})`` records; bad rows become errors, never exceptions."""
    rows: list[FaqRow] = []
    errors: list[RowError] = []
    for line, rec in records:
        try:
            row = _row(line, rec)
        except ValueError as e:
            errors.append(RowError(line, str(e)))
            continue
        if row is not None:
            rows.append(row)
    return rows, errors


def _text(rec: Mapping[str, Any], name: str) -> str:
    value = rec.get(name)
    text = "" if value is None else str(value).strip()
    if len(text) > MAX_TEXT:
        raise ValueError(f"{name} is longer than {MAX_TEXT} characters")
    return text


def _row(line: int, rec: Mapping[str, Any]) -> FaqRow | None:
    if all(v is None or str(v).strip() == "" for v in rec.values()):
        return None  # a blank line
    question, answer = _text(rec, "question"), _text(rec, "answer")
    if not question:
        raise ValueError("question is empty")
    if not answer:
        raise ValueError("answer is empty")
    raw = rec.get("paraphrases")
    items = raw if isinstance(raw, list) else _SPLIT.split(str(raw or ""))
    paraphrases = tuple(dict.fromkeys(p for p in (str(i).strip() for i in items) if p and p != question))
    tags_raw = rec.get("tags")
    tags = ",".join(str(t).strip() for t in tags_raw) if isinstance(tags_raw, list) else _text(rec, "tags")
    if len(tags) > 128:
        raise ValueError("tags are longer than 128 characters")
    vf, vu = _date(rec.get("valid_from"), "valid_from"), _date(rec.get("valid_until"), "valid_until")
    if vf and vu and vu <= vf:
        raise ValueError("valid_until must be after valid_from")
    return FaqRow(line, question, answer, paraphrases, tags or None, vf, vu,
                  _bool(rec.get("safe_to_autosend")))


def _date(value: Any, name: str) -> datetime | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        dt = value
    else:
        text = str(value).strip().replace("Z", "+00:00")
        try:
            dt = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{name} {value!r} is not an ISO 8601 date (e.g. 2026-12-31 or "
                             "2026-12-31T23:00:00+08:00)") from None
    dt = dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
    if not _EARLIEST <= dt < _LATEST:
        raise ValueError(f"{name} {value!r} is outside 2000-01-01 .. 2199-12-31")
    return dt


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = "" if value is None else str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"safe_to_autosend {value!r} is not true/false")


@dataclass
class ImportPlan:
    """What an import will do: rows to create and rows skipped, each with its reason."""

    create: list[FaqRow] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)

    def report(self) -> dict[str, Any]:
        """Counts and the skipped rows (JSON-ready)."""
        reasons: dict[str, int] = {}
        for s in self.skipped:
            reasons[s["reason"]] = reasons.get(s["reason"], 0) + 1
        return {"to_create": len(self.create), "skipped": len(self.skipped), "skipped_by_reason": reasons,
                "skipped_rows": self.skipped}


def plan_import(
    rows: Iterable[FaqRow],
    existing: Mapping[str, int],
    key_form: Callable[[str], str],
    near: Mapping[int, tuple[int, float]] | None = None,
) -> ImportPlan:
    """Decide which rows become new answers.

    Args:
        rows: validated rows, in file order.
        existing: ``key_form(key)`` of every active answer's keys -> that answer's id.
        key_form: the normalisation exact repeats are compared in (the webhook's cache key).
        near: line -> (answer id, cosine) for rows whose question is a near-duplicate of an existing
            key (computed at the edge with the embedder).

    A row is skipped when its question or a paraphrase equals an existing key (``duplicate``), an
    earlier row of the file (``duplicate_in_file``), or is a near-duplicate (``near_duplicate``).
    """
    plan = ImportPlan()
    seen: dict[str, int] = {}
    near = near or {}
    for row in rows:
        forms = [key_form(k) for k in row.texts()]
        hit = next((existing[f] for f in forms if f in existing), None)
        if hit is not None:
            plan.skipped.append({"line": row.line, "question": row.question, "reason": "duplicate",
                                 "answer_id": hit})
            continue
        earlier = next((seen[f] for f in forms if f in seen), None)
        if earlier is not None:
            plan.skipped.append({"line": row.line, "question": row.question, "reason": "duplicate_in_file",
                                 "same_as_line": earlier})
            continue
        if row.line in near:
            answer_id, score = near[row.line]
            plan.skipped.append({"line": row.line, "question": row.question, "reason": "near_duplicate",
                                 "answer_id": answer_id, "similarity": round(score, 3)})
            continue
        for f in forms:
            seen.setdefault(f, row.line)
        plan.create.append(row)
    return plan
