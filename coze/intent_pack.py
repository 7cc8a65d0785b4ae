"""The Coze intent pack: plain payloads (pure) and their JSON and CSV files."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mining.domain import CandidateIntent

PACK_CSV_COLUMNS = (
    "intent_name",
    "description",
    "example",
    "entities",
    "slot_filling_prompt",
    "overlap",
    "size",
    "volume",
    "display_name",
)


def intent_entry(intent: CandidateIntent) -> dict[str, Any]:
    """One intent in the pack's shape (what a person types into Coze's intent-recognition node)."""
    return {
        "intent_name": intent.name,
        "display_name": intent.display_name,
        "description": intent.description,
        "examples": list(intent.examples),
        "entities": [{"name": e.name, "pattern": e.pattern, "required": e.required} for e in intent.entities],
        "slot_filling_prompt": intent.slot_filling_prompt,
        "overlap": {
            "label": intent.overlap.label,
            "jaccard": intent.overlap.jaccard,
            "cosine": intent.overlap.cosine,
        },
        "stats": {
            "size": intent.size,
            "volume": intent.volume,
            "keywords": list(intent.keywords),
            "named_by": intent.named_by,
        },
    }


def intent_pack(intents: Sequence[CandidateIntent]) -> list[dict[str, Any]]:
    """The whole pack, largest intents first."""
    return [intent_entry(i) for i in intents]


def write_pack_json(intents: Sequence[CandidateIntent], path: Path) -> Path:
    """Write the pack as UTF-8 JSON (Chinese kept readable)."""
    path.write_text(json.dumps(intent_pack(intents), ensure_ascii=False, indent=2), encoding="utf-8")
    return path


def write_pack_csv(intents: Sequence[CandidateIntent], path: Path) -> Path:
    """Write one row per example (UTF-8 with BOM, so spreadsheet programs show the Chinese)."""
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=PACK_CSV_COLUMNS)
        writer.writeheader()
        for intent in intents:
            for example in intent.examples:
                writer.writerow(
                    {
                        "intent_name": intent.name,
                        "description": intent.description,
                        "example": example,
                        "entities": ";".join(f"{e.name}{'*' if e.required else ''}" for e in intent.entities),
                        "slot_filling_prompt": intent.slot_filling_prompt,
                        "overlap": intent.overlap.label,
                        "size": intent.size,
                        "volume": intent.volume,
                        "display_name": intent.display_name,
                    }
                )
    return path
