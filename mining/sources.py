"""Where mining input comes from: the window of the event log, text files, the bot's intent export."""

from __future__ import annotations

import csv
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from mining.domain import ExistingIntent

_SPAN = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$", re.IGNORECASE)
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
TEXT_FIELDS = ("text", "query", "question", "utterance")


def parse_span(span: str) -> timedelta:
    """``30m``, ``24h``, ``7d`` or ``2w`` as a timedelta.

    Raises:
        ValueError: For anything else.
    """
    match = _SPAN.match(span)
    if not match:
        raise ValueError(f"cannot read the time span {span!r}: use e.g. 30m, 24h, 7d, 2w")
    return timedelta(**{_UNITS[match.group(2).lower()]: int(match.group(1))})


def parse_instant(value: str) -> datetime:
    """An ISO date or datetime; naive values are taken as UTC."""
    parsed = datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def resolve_window(
    since: str | None, start: str | None, end: str | None, *, now: datetime | None = None
) -> tuple[datetime, datetime]:
    """The ``[from, to)`` window of a run: ``--since`` back from now, or explicit ``--from``/``--to``.

    ``--to`` defaults to now, ``--from`` to 24 hours before ``--to``; ``--since`` excludes both.
    """
    now = now or datetime.now(UTC)
    if since is not None:
        if start is not None or end is not None:
            raise ValueError("give either --since or --from/--to, not both")
        return now - parse_span(since), now
    upper = parse_instant(end) if end else now
    lower = parse_instant(start) if start else upper - timedelta(hours=24)
    if lower >= upper:
        raise ValueError(f"empty window: {lower.isoformat()} is not before {upper.isoformat()}")
    return lower, upper


def _row_text(row: dict[str, object]) -> str:
    for name in TEXT_FIELDS:
        value = row.get(name)
        if isinstance(value, str) and value.strip():
            return value
    return ""


def load_text_file(path: Path) -> list[str]:
    """Texts from JSONL (a ``text``/``query`` field per line), CSV (such a column) or plain lines."""
    suffix = path.suffix.lower()
    with path.open(encoding="utf-8-sig", newline="") as handle:
        if suffix == ".jsonl":
            rows = [json.loads(line) for line in handle if line.strip()]
            texts = [_row_text(r) if isinstance(r, dict) else str(r) for r in rows]
        elif suffix == ".csv":
            reader = csv.DictReader(handle)
            texts = [_row_text({k.strip().lower(): v for k, v in r.items() if k}) for r in reader]
        else:
            texts = [line.strip() for line in handle]
    return [t for t in texts if t.strip()]


def _intent_from_mapping(item: dict[str, object]) -> ExistingIntent:
    name = item.get("intent_name") or item.get("name") or item.get("intent")
    examples = item.get("examples") or item.get("utterances") or []
    if not isinstance(name, str) or not isinstance(examples, list):
        raise ValueError(f"an intent needs a name and a list of examples, got {sorted(item)}")
    return ExistingIntent(name, tuple(str(e) for e in examples if str(e).strip()))


def load_existing_intents(path: Path) -> list[ExistingIntent]:
    """The bot's intents from JSON or CSV.

    JSON: ``[{"name": ..., "examples": [...]}]`` (``intent_name``/``utterances`` also read; an intent
    pack works too) or ``{"name": [examples]}``. CSV: one example per row, columns ``intent`` (or
    ``name``/``intent_name``) and ``example`` (or ``text``/``utterance``).
    """
    if path.suffix.lower() == ".csv":
        grouped: dict[str, list[str]] = {}
        with path.open(encoding="utf-8-sig", newline="") as handle:
            for raw in csv.DictReader(handle):
                row = {k.strip().lower(): (v or "").strip() for k, v in raw.items() if k}
                name = row.get("intent") or row.get("name") or row.get("intent_name") or ""
                text = row.get("example") or row.get("text") or row.get("utterance") or ""
                if name and text:
                    grouped.setdefault(name, []).append(text)
        return [ExistingIntent(n, tuple(e)) for n, e in grouped.items()]
    data = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(data, dict):
        return [ExistingIntent(str(n), tuple(str(e) for e in ex)) for n, ex in data.items()]
    if isinstance(data, list):
        return [_intent_from_mapping(item) for item in data if isinstance(item, dict)]
    raise ValueError(f"{path}: expected a JSON list or object of intents")

