"""The closed-loop simulator through the real app, reviewer API and mining pipeline (real data)."""

from __future__ import annotations

from backstop.loop import LoopOptions, simulate
from fallback.evaluation.datasets import read_jsonl
from tests.conftest import shared_dataset


def test_loop_raises_coverage_without_wrong_answers(default_embedder, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _kind, rows = read_jsonl(shared_dataset("smp2017_ecdt/smp2017_ecdt_task1.jsonl"))
    options = LoopOptions(days=3, per_day=200, known_share=0.8, review_budget=30, seed=1)
    result = simulate(rows, default_embedder, options, workdir=tmp_path)  # type: ignore[arg-type]
    summary = result.summary(options)
    assert {"final_coverage", "wrong_answer_rate", "days_to_97", "review_actions"} <= set(summary)
    assert len(summary["per_day"]) == 3
    assert summary["review_actions"] > 0 and summary["handoffs"] > 0
    assert summary["final_coverage"] > summary["initial_coverage"]
    assert summary["wrong_answer_rate"] <= 0.05
