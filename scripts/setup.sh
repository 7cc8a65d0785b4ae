#!/usr/bin/env bash
# One entry point for a fresh machine (Debian, Python >= 3.11, no GPU, no model hub).
#   bash scripts/setup.sh serve   # install, then start the service on the embedded default (SQLite + demo data)
#   bash scripts/setup.sh test    # install with test extras, run the static checks, then the whole test suite
# Idempotent: a second run skips the install when pyproject.toml has not changed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
MODE=${1:-test}
shift || true
PY=${PYTHON:-python3}
VENV=${BACKSTOP_VENV:-$ROOT/.venv}
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false

"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python >= 3.11 needed" >&2; exit 1; }
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
# shellcheck disable=SC1091
. "$VENV/bin/activate"

stamp="$VENV/.backstop-installed-$(sha256sum pyproject.toml | cut -c1-16)-$MODE"
if [ ! -f "$stamp" ]; then
  t0=$(date +%s)
  python -m pip install -q --upgrade pip
  # torch first, pinned: a bare `torch` requirement would pull a multi-GB CUDA build.
  python -m pip install -q "torch==2.13.0" || python -m pip install -q "torch==2.13.0" --index-url https://download.pytorch.org/whl/cpu
  if [ "$MODE" = test ]; then extras="[test]"; else extras=""; fi
  python -m pip install -q -e ".$extras"
  touch "$stamp"
  echo "installed in $(( $(date +%s) - t0 )) s; venv size $(du -sh "$VENV" | cut -f1)" >&2
fi

case "$MODE" in
  serve)
    export BACKSTOP_SEED_DEMO=${BACKSTOP_SEED_DEMO:-true}
    exec backstop serve "$@"
    ;;
  test)
    # static checks first (about half a minute cold on 2 cores); any failure stops here (set -e)
    echo "static checks: ruff (lint + docstrings), mypy (strict: fallback/core, models, mining)," \
      "import-linter (layers)" >&2
    ruff check .
    mypy
    lint-imports --no-cache
    bash scripts/services.sh || true
    bash scripts/browser.sh || true
    exec python -m pytest "$@"
    ;;
  *)
    echo "usage: bash scripts/setup.sh serve|test [args]" >&2; exit 2 ;;
esac
