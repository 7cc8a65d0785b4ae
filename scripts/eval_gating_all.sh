#!/usr/bin/env bash
# The learned scorer and the k-NN vote on every intent file of ../shared/datasets, one JSON line each,
# then a table with the mean and the worst (docs/benchmarks.md, "Learned scorer").
set -euo pipefail
cd "$(dirname "$0")/.."
D=${SHARED_DATASETS:-../shared/datasets}
OUT=${OUT:-var/eval-gating}
mkdir -p "$OUT"
for f in smp2017_ecdt/smp2017_ecdt_task1 crosswoz_request/crosswoz_request hwu64/hwu64 clinc150/clinc150_full; do
  .venv/bin/backstop eval gating --data "$D/$f.jsonl" "$@" > "$OUT/$(basename "$f").json"
done
.venv/bin/python - "$OUT" <<'PY'
import json, pathlib, sys
rows = [json.loads(p.read_text()) for p in sorted(pathlib.Path(sys.argv[1]).glob("*.json"))]
print("| file | target | learned precision / coverage | vote precision / coverage | OOS recall | upper bound |")
print("|---|---|---|---|---|---|")
for t in ("0.99", "0.97", "0.95"):
    covs = []
    for r in rows:
        at = r["learned"]["coverage_at_precision"][t]
        covs.append(at["coverage"])
        v = r["vote"] if t == str(r["target_precision"]) else None
        vote = f'{v["precision"]} / {v["coverage"]}' if v else "—"
        print(f'| {r["data"]} | {t} | {at["precision"]} / {at["coverage"]} | {vote} | {at["oos_recall"]} '
              f'| {r["learned"]["oracle_coverage_at_precision"][t]} |')
    print(f"| **mean / worst** | {t} | coverage {sum(covs) / len(covs):.3f} / {min(covs):.3f} | | | |")
PY
