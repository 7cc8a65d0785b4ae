"""Readers for the shared labelled-data format (intent files and pair files)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

OOS = "oos"


@dataclass(frozen=True)
class IntentExample:
    text: str
    label: str
    split: str


@dataclass(frozen=True)
class PairExample:
    q1: str
    q2: str
    label: int
    split: str


class DataFormatError(ValueError):
    """The file is not in the shared format; the message names the line."""


def read_jsonl(path: Path) -> tuple[str, list[IntentExample] | list[PairExample]]:
    """Read a shared-format file; return ("intent", rows) or ("pair", rows)."""
    intents: list[IntentExample] = []
    pairs: list[PairExample] = []
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                d = json.loads(line)
            except json.JSONDecodeError as e:
                raise DataFormatError(f"{path}:{n}: not JSON ({e.msg})") from e
            if "text" in d and "label" in d:
                intents.append(IntentExample(str(d["text"]), str(d["label"]), str(d.get("split", "train"))))
            elif "q1" in d and "q2" in d and "label" in d:
                pairs.append(
                    PairExample(str(d["q1"]), str(d["q2"]), int(d["label"]), str(d.get("split", "test")))
                )
            else:
                raise DataFormatError(f"{path}:{n}: expected keys text+label or q1+q2+label")
    if intents and pairs:
        raise DataFormatError(f"{path}: mixes intent lines and pair lines")
    if not intents and not pairs:
        raise DataFormatError(f"{path}: no examples")
    return ("intent", intents) if intents else ("pair", pairs)


def read_intents(path: Path) -> list[IntentExample]:
    """Read an intent file; raise ``DataFormatError`` if it is a pair file."""
    kind, rows = read_jsonl(path)
    if kind != "intent":
        raise DataFormatError(f"{path}: a pair file (q1, q2, label); an intent file is needed")
    return [r for r in rows if isinstance(r, IntentExample)]
