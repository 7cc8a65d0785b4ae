"""Time `answers import` of N generated FAQ rows into a fresh embedded store (docs/benchmarks.md).

    .venv/bin/python scripts/bench_import.py --rows 10000
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> None:
    from fallback.faq.files import read_table, write_table
    from fallback.faq.importer import import_faq
    from fallback.faq.rows import parse_rows
    from fallback.runtime import build_runtime
    from fallback.settings import Settings

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000)
    args = ap.parse_args()
    d = Path(tempfile.mkdtemp())
    records = [{"question": f"型号{i}的商品支持七天无理由退货吗", "answer": f"型号{i}支持七天无理由退货。",
                "paraphrases": [f"型号{i}能退货吗", f"{i}号商品可以退吗"], "tags": "售后"}
               for i in range(args.rows)]
    path = d / "faq.xlsx"
    write_table(path, records)
    rt = build_runtime(Settings(data_dir=d / "data", seed_demo=True, generator={"backend": "none"}),
                       generator=None)
    t0 = time.perf_counter()
    rows, errors = parse_rows(read_table(path))
    t1 = time.perf_counter()
    report = import_faq(rt.db, rt.index, rows, actor="bench", source=path.name,
                        near_threshold=rt.calibration.grouping_threshold)
    t2 = time.perf_counter()
    rt.close()
    print(json.dumps({"rows": args.rows, "read_s": round(t1 - t0, 1), "import_s": round(t2 - t1, 1),
                      "created": len(report["created_answer_ids"]), "skipped": report["skipped"],
                      "invalid": len(errors), "cpus": os.cpu_count()}))


if __name__ == "__main__":
    main()
