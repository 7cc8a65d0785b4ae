"""Scoring the pipeline on labelled intent files with the labels hidden (``backstop eval mining``)."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mining.domain import NOISE, Labels
from mining.pipeline import MiningPipeline
from mining.ports import Progress, no_progress


@dataclass(frozen=True)
class LabelledText:
    """One row of the shared intent format (``{"text", "label", "split"}``; ``oos`` = out of scope)."""

    text: str
    label: str
    split: str


def load_labelled(
    path: Path, *, split: str | None = "test", limit: int | None = None, seed: int = 42
) -> list[LabelledText]:
    """Rows of ``split`` (all rows when ``None``); ``limit`` draws a seeded random subset."""
    rows = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            item = json.loads(line)
            if split is None or item.get("split") == split:
                rows.append(LabelledText(str(item["text"]), str(item["label"]), str(item.get("split", ""))))
    if not rows:
        raise ValueError(f"{path} has no rows with split={split!r}")
    if limit is not None and limit < len(rows):
        rows = random.Random(seed).sample(rows, limit)
    return rows


def noise_as_cluster(labels: Labels) -> Labels:
    """Give noise one label of its own, so scores count it as a (bad) cluster instead of dropping it."""
    out = labels.copy()
    out[out == NOISE] = int(labels.max(initial=-1)) + 1
    return out


def hungarian_accuracy(truth: Sequence[str], predicted: Labels) -> float:
    """Accuracy under the best one-to-one matching of clusters to labels (scipy's linear_sum_assignment)."""
    from scipy.optimize import linear_sum_assignment

    classes = {c: i for i, c in enumerate(sorted(set(truth)))}
    clusters = {int(c): i for i, c in enumerate(sorted(set(predicted.tolist())))}
    table = np.zeros((len(clusters), len(classes)), dtype=np.int64)
    for label, cluster in zip(truth, predicted.tolist(), strict=True):
        table[clusters[int(cluster)], classes[label]] += 1
    rows, cols = linear_sum_assignment(-table)
    return float(table[rows, cols].sum() / max(len(truth), 1))


def clustering_scores(truth: Sequence[str], labels: Labels) -> dict[str, float]:
    """NMI, ARI and Hungarian accuracy with noise counted as its own cluster."""
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    predicted = noise_as_cluster(labels)
    return {
        "nmi": round(float(normalized_mutual_info_score(truth, predicted)), 4),
        "ari": round(float(adjusted_rand_score(truth, predicted)), 4),
        "acc": round(hungarian_accuracy(truth, predicted), 4),
    }


def evaluate(
    pipeline: MiningPipeline, rows: Sequence[LabelledText], *, progress: Progress = no_progress
) -> dict[str, Any]:
    """Cluster the texts of ``rows`` and score the clusters against their hidden labels."""
    started = time.perf_counter()
    result = pipeline.run([r.text for r in rows], progress=progress)
    seconds = time.perf_counter() - started
    labels = result.row_labels(len(rows))
    truth = [r.label for r in rows]
    dropped = labels == NOISE
    return {
        **clustering_scores(truth, labels),
        "n_clusters": len(result.intents),
        "n_labels": len(set(truth)),
        "noise_fraction": round(float(np.mean(dropped)), 4),
        "raw_noise_fraction": round(result.raw_noise_share, 4),
        "seconds": round(seconds, 2),
        "texts_per_s": round(len(rows) / seconds, 1) if seconds else None,
        "timings": result.timings,
        "embedder": result.embedder,
        "n_texts": len(rows),
        "n_distinct": len(result.utterances),
        "pipeline": {k: v for k, v in result.params.items() if k != "options"},
    }
