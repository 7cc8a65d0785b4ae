"""Loading and saving per-embedder calibrations (JSON). Fitting lives in ``fallback.evaluation.gating``."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from importlib import resources
from pathlib import Path

from fallback.core.gating import Calibration

log = logging.getLogger(__name__)

# Used only when neither a calibrate run nor a bundled file exists for the embedder: it leans on the
# neighbour vote and margin and is deliberately strict (hand-offs rather than wrong answers).
CONSERVATIVE = Calibration(
    embedder="uncalibrated",
    mean=(0.0,) * 5,
    scale=(1.0,) * 5,
    coef=(8.0, 20.0, 4.0, 0.0, 0.0),
    intercept=-10.5,
    answer_threshold=0.97,
    suggest_threshold=0.5,
    grouping_threshold=0.9,
    source="conservative default",
)


def model_key(identity: str) -> str:
    """The file-name key of an embedder identity (model id without version)."""
    return identity.split("@", 1)[0].replace("/", "_")


def save(calibration: Calibration, path: Path) -> None:
    """Write ``calibration`` to ``path`` as JSON (what ``backstop calibrate`` produces)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(asdict(calibration), indent=2, ensure_ascii=False), encoding="utf-8")


def from_json(text: str) -> Calibration:
    """Read a calibration written by :func:`save`."""
    raw = json.loads(text)
    for k in ("mean", "scale", "coef"):
        raw[k] = tuple(raw[k])
    return Calibration(**raw)


def load(identity: str, *, explicit: Path | None = None, data_dir: Path | None = None) -> Calibration:
    """Find the calibration for an embedder: explicit file > data_dir's > bundled > conservative."""
    key = model_key(identity)
    candidates: list[Path] = []
    if explicit is not None:
        candidates.append(explicit)
    if data_dir is not None:
        candidates.append(data_dir / f"calibration-{key}.json")
    for path in candidates:
        if path.exists():
            cal = from_json(path.read_text(encoding="utf-8"))
            if model_key(cal.embedder) != key:
                raise ValueError(f"calibration {path} is for {cal.embedder}, not {identity}")
            return cal
    bundled = resources.files("fallback.core.calibrations").joinpath(f"{key}.json")
    if bundled.is_file():
        return from_json(bundled.read_text(encoding="utf-8"))
    log.warning("calibration.missing embedder=%s using=conservative", identity)
    return CONSERVATIVE
