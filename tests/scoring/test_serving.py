"""The learned scorer in service: trained from the store, versioned, hot-swapped, and the vote behind it.

The shop is SMP2017's training split stored as approved answers (one per intent, its utterances as
keys) on real SQLite and PostgreSQL; its test split plays the traffic. A small shop (the demo's 43
keys) shows a calibration that cannot prove its target and says so.
"""

from __future__ import annotations

import collections
import json
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from fallback.core.domain import Action, AnswerCandidate, Features, Ranked
from fallback.core.gating import Calibration, Policy, Verdict, decide
from fallback.evaluation.datasets import read_intents
from fallback.runtime import Runtime, build_runtime
from fallback.scoring.cli import coverage_table, warnings_for
from fallback.scoring.serving import Retrainer, ScorerSlot, train_from_store
from fallback.service import FallbackRequest
from fallback.settings import Settings
from fallback.store import answers as answers_repo
from fallback.store import scorers as scorers_repo
from fallback.store.schema import Event
from tests.conftest import shared_dataset

SMP = "smp2017_ecdt/smp2017_ecdt_task1.jsonl"


def _runtime(tmp_path: Path, embedder: Any, database_url: str = "", **gating: Any) -> Runtime:
    settings = Settings(
        data_dir=tmp_path, database_url=database_url, seed_demo=False, generator={"backend": "none"},
        gating={"retrain_in_server": False, **gating},
    )
    return build_runtime(settings, embedder=embedder, generator=None)


def _store_shop(rt: Runtime, per_label: int | None = None) -> tuple[dict[int, str], list[Any]]:
    rows = read_intents(shared_dataset(SMP))
    by_label: dict[str, list[str]] = collections.defaultdict(list)
    for r in rows:
        if r.split == "train":
            by_label[r.label].append(r.text)
    label_of: dict[int, str] = {}

    def create(s: Any) -> None:
        for label, texts in sorted(by_label.items()):
            texts = texts[:per_label] if per_label else texts
            a = answers_repo.create(s, question=texts[0], text=f"关于{label}的答复", keys=texts[1:],
                                    actor="test", label=label, safe_to_autosend=True)
            label_of[a.id] = label

    rt.db.run(create)
    rt.index.reconcile(force=True)
    return label_of, [r for r in rows if r.split == "test"]


def test_trained_from_the_store_it_answers_more_than_the_vote_at_its_precision(
    tmp_path: Path, usem3_embedder: Any
) -> None:
    rt = _runtime(tmp_path, usem3_embedder)
    try:
        label_of, test = _store_shop(rt)
        assert rt.service.scorer_status()["scorer"] == "vote"  # nothing trained yet: the vote serves
        result = train_from_store(rt.db, rt.embedder)
        assert result.version == 1 and result.report["keys"] > 2000 and result.report["answers"] == 31
        assert rt.service.scorer is not None and rt.service.scorer.refresh()
        status = rt.service.scorer_status()
        assert status["scorer"] == "learned" and status["learned"]["version"] == 1
        assert status["learned"]["threshold"] is not None

        outcome: dict[str, collections.Counter[str]] = {}
        for name in ("vote", "learned"):
            if name == "vote":
                slot, rt.service.scorer = rt.service.scorer, None
            else:
                rt.service.scorer = slot
            c: collections.Counter[str] = collections.Counter()
            for i, ex in enumerate(test):
                res = rt.service.handle(FallbackRequest(ex.text, "u", f"{name}-{i}", message_id="m"))
                if res.action == "answer":
                    c["answered"] += 1
                    c["right"] += label_of.get(res.answer_id or -1) == ex.label
            outcome[name] = c
        learned, vote = outcome["learned"], outcome["vote"]
        assert learned["right"] / learned["answered"] >= 0.98  # the target is 0.99 on the pool
        assert learned["answered"] > 1.3 * vote["answered"]
        logged = rt.db.run(lambda s: collections.Counter(
            s.scalars(select(Event.scorer).where(Event.action == "answer"))
        ))
        assert logged["learned:v1"] > 0 and logged["vote"] > 0  # every event says who decided
    finally:
        rt.close()


def test_retrains_from_postgresql_and_every_instance_serves_the_same_version(
    tmp_path: Path, usem3_embedder: Any, fresh_postgres_url: str
) -> None:
    first = _runtime(tmp_path / "a", usem3_embedder, fresh_postgres_url, learned_target=0.95)
    second = _runtime(tmp_path / "b", usem3_embedder, fresh_postgres_url, learned_target=0.95)
    try:
        _store_shop(first, per_label=30)
        second.index.reconcile(force=True)
        retrainer = Retrainer(first.db, first.embedder, first.service.scorer, every_s=3600, after=10)
        assert retrainer.step() is True
        assert second.service.scorer is not None and second.service.scorer.refresh()  # the other instance
        assert first.service.scorer_status() == second.service.scorer_status()
        assert second.service.scorer_status()["scorer"] == "learned"
        res = second.service.handle(FallbackRequest("我想听周杰伦的稻香", "u", "pg", message_id="m"))
        assert res.action in ("answer", "pending_review", "handoff")
        logged = second.db.run(lambda s: s.scalar(select(Event.scorer)))
        assert logged in ("learned:v1", "vote")
    finally:
        first.close()
        second.close()


def test_answers_it_has_not_seen_and_broken_versions_fall_back(tmp_path: Path, usem3_embedder: Any) -> None:
    rt = _runtime(tmp_path, usem3_embedder)
    try:
        _store_shop(rt, per_label=40)
        train_from_store(rt.db, rt.embedder, in_child=False)
        slot = rt.service.scorer
        assert slot is not None and slot.refresh() and slot.current is not None
        # approved after the model was trained: unknown to it, so the vote decides for it
        new = rt.db.run(lambda s: answers_repo.create(
            s, question="直播间几点开播", text="每晚8点开播。", keys=["今晚几点直播", "直播什么时候开始"],
            actor="test", safe_to_autosend=True).id)
        rt.index.reconcile(force=True)
        rt.service.handle(FallbackRequest("今天晚上几点开直播", "u", "new-answer", message_id="m"))
        event = rt.db.run(lambda s: s.scalars(select(Event).where(Event.conversation_id.is_not(None))
                                              .order_by(Event.id.desc())).first())
        assert event is not None and event.scorer == "vote" and event.answer_id in (None, new)
        # a version that does not load is skipped: the one in force keeps serving
        rt.db.run(lambda s: scorers_repo.save(s, embedder=rt.embedder.model_id, keys=1, answers=1,
                                              max_key_id=0, report={}, blob=b"not a model"))
        assert slot.refresh() is False and slot.current.version == 1
        assert slot.refresh() is False  # and it is not retried on every poll
    finally:
        rt.close()


def test_the_retrainer_trains_after_enough_changes_and_swaps_under_load(
    tmp_path: Path, usem3_embedder: Any
) -> None:
    rt = _runtime(tmp_path, usem3_embedder)
    try:
        _store_shop(rt, per_label=25)
        slot = rt.service.scorer
        assert slot is not None
        retrainer = Retrainer(rt.db, rt.embedder, slot, every_s=3600, after=10)
        assert retrainer.step() is True and slot.current is not None and slot.current.version == 1
        assert retrainer.step() is False  # nothing changed since
        errors: list[BaseException] = []
        stop = threading.Event()
        queries = ["我想听周杰伦的歌", "明天北京天气怎么样", "帮我订一张去上海的机票", "讲个笑话"]

        def load() -> None:
            i = 0
            while not stop.is_set():
                try:
                    rt.service.handle(FallbackRequest(queries[i % 4], "u", f"load-{i}", message_id="m"))
                except BaseException as e:  # the test reports any failure
                    errors.append(e)
                i += 1

        threads = [threading.Thread(target=load) for _ in range(3)]
        for t in threads:
            t.start()
        try:
            rt.db.run(lambda s: answers_repo.create(
                s, question="直播间几点开播", text="每晚8点开播。",
                keys=[f"第{i}场直播几点开始" for i in range(12)], actor="test"))
            assert retrainer.step() is True  # 12 keys >= 10 changed: retrained and swapped in
            assert slot.current is not None and slot.current.version == 2
        finally:
            stop.set()
            for t in threads:
                t.join(30)
        assert not errors
        versions = rt.db.run(lambda s: set(s.scalars(select(Event.scorer))))
        assert versions <= {"vote", "learned:v1", "learned:v2"}
    finally:
        rt.close()


def test_a_small_shop_cannot_prove_its_target_and_says_so(tmp_path: Path, usem3_embedder: Any) -> None:
    settings = Settings(data_dir=tmp_path, seed_demo=True, generator={"backend": "none"},
                        gating={"retrain_in_server": False})
    rt = build_runtime(settings, embedder=usem3_embedder, generator=None)
    try:
        result = train_from_store(rt.db, rt.embedder, in_child=False)
        assert result.report["keys"] < 100
        assert rt.service.scorer is not None and rt.service.scorer.refresh()
        status = rt.service.scorer_status()
        assert status["scorer"] == "vote" and "cannot prove 0.99" in status["reason"]
        rows = coverage_table(result.report, 0.99)
        assert [r["target"] for r in rows] == [0.99, 0.97, 0.95]
        assert any("cannot be proven" in w for w in warnings_for(rows))
        # the vote keeps serving the exact repeats the demo has approved
        res = rt.service.handle(FallbackRequest("可以开发票吗", "u", "c", message_id="m"))
        assert res.action == "answer"
    finally:
        rt.close()


def test_scorer_cli_trains_and_reports(tmp_path: Path) -> None:
    from fallback import demo
    from fallback.store.db import Database

    db = Database.connect(f"sqlite:///{tmp_path / 'backstop.db'}")
    demo.seed_once(db)
    db.dispose()
    env = {"BACKSTOP_DATA_DIR": str(tmp_path), "BACKSTOP_GENERATOR__BACKEND": "none",
           "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-m", "backstop", "scorer", "train"], env=env, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["version"] == 1 and len(report["coverage"]) == 3
    assert "cannot be proven" in out.stderr
    status = subprocess.run([sys.executable, "-m", "backstop", "scorer", "status"], env=env,
                            capture_output=True, text=True, timeout=300)
    assert status.returncode == 0 and json.loads(status.stdout)["version"] == 1


# -- the pure rule ------------------------------------------------------------------------------

CAL = Calibration("x", (0.0,) * 5, (1.0,) * 5, (0.0,) * 5, 0.0, 0.9, 0.5, 0.8)
POLICY = Policy(answer_threshold=0.9, suggest_threshold=0.3, min_confidence=0.8)
RANKED = Ranked(answers=((7, 0.9),), features=Features(0.9, 0.1, 1.0, 1.0, 0.9, False))
ANSWER = AnswerCandidate(answer_id=7, text="好的", active=True, safe_to_autosend=False)
NOW = datetime(2026, 12, 4, tzinfo=UTC)


def test_a_verdict_replaces_the_votes_confidence_and_bar() -> None:
    # the vote alone: logistic of zeros = 0.5 -> below the 0.9 bar
    assert decide(RANKED, ANSWER, calibration=CAL, policy=POLICY, now=NOW).action == Action.PENDING_REVIEW
    sure = Verdict(7, 0.97, 0.95, 3)
    d = decide(RANKED, ANSWER, calibration=CAL, policy=POLICY, now=NOW, verdict=sure)
    assert d.action == Action.ANSWER and d.confidence == 0.97
    unsure = Verdict(7, 0.94, 0.95, 3)
    assert decide(RANKED, ANSWER, calibration=CAL, policy=POLICY, now=NOW, verdict=unsure).action == \
        Action.PENDING_REVIEW
    floor = Verdict(7, 0.75, 0.6, 3)  # a fitted threshold never goes below min_confidence
    assert decide(RANKED, ANSWER, calibration=CAL, policy=POLICY, now=NOW, verdict=floor).action == \
        Action.PENDING_REVIEW
    # the other rules still apply after a confident verdict
    risky = decide(RANKED, ANSWER, calibration=CAL, policy=POLICY, now=NOW, verdict=sure, risk_terms=["退款"])
    assert risky.action == Action.PENDING_REVIEW and risky.reason == "risk_topic"
    with pytest.raises(ValueError):
        decide(RANKED, ANSWER, calibration=CAL, policy=POLICY, now=NOW, verdict=Verdict(8, 0.99, 0.9, 1))


def test_slot_without_model_or_threshold_gives_no_verdict(tmp_path: Path) -> None:
    from fallback.store.db import Database

    db = Database.connect(f"sqlite:///{tmp_path / 'x.db'}")
    slot = ScorerSlot(db, "usem3", 0.99)
    assert slot.refresh() is False and slot.verdict("q", [[0.0]], [], 1) is None
    db.dispose()
