"""Input loading (event log window, text files, existing intents) and the mining section's validation."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from fallback.settings import load_settings
from fallback.store.answers import active_pairs
from fallback.store.base import Base
from fallback.store.events import unanswered_queries
from fallback.store.schema import Answer, Event
from mining.settings import MiningSettings
from mining.sources import (
    load_existing_intents,
    load_text_file,
    parse_span,
    resolve_window,
)

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def test_windows() -> None:
    assert parse_span("24h") == timedelta(hours=24) and parse_span("2w") == timedelta(weeks=2)
    assert resolve_window("7d", None, None, now=NOW) == (NOW - timedelta(days=7), NOW)
    start, end = resolve_window(None, "2026-11-01", "2026-11-02T06:00", now=NOW)
    assert (start, end) == (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 2, 6, tzinfo=UTC))
    assert resolve_window(None, None, None, now=NOW) == (NOW - timedelta(hours=24), NOW)
    for bad in [("1y", None, None), ("24h", "2026-11-01", None), (None, "2026-11-02", "2026-11-01")]:
        with pytest.raises(ValueError):
            resolve_window(*bad, now=NOW)


def test_event_queries_skip_auto_answers_and_other_windows() -> None:
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    rows = [
        ("退款多久到账", "pending_review", NOW - timedelta(hours=1)),
        ("转人工", "handoff", NOW - timedelta(hours=2)),
        ("违禁词", "blocked", NOW - timedelta(hours=3)),
        ("运费多少", "answer", NOW - timedelta(hours=1)),
        ("上周的问题", "handoff", NOW - timedelta(days=3)),
    ]
    with Session(engine) as session:
        for i, (query, action, at) in enumerate(rows):
            session.add(
                Event(
                    trace_id=f"t{i}",
                    created_at=at,
                    conversation_id="c",
                    message_id=f"m{i}",
                    user_id="u",
                    query=query,
                    action=action,
                    reason="test",
                )
            )
        session.commit()
        assert unanswered_queries(session, NOW - timedelta(hours=24), NOW) == [
            "退款多久到账",
            "转人工",
            "违禁词",
        ]


def test_active_answers_respect_status_and_validity() -> None:
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add_all(
            [
                Answer(question="退款多久到账", text="1-3个工作日原路退回。"),
                Answer(question="旧问题", text="旧答案", status="retired"),
                Answer(question="过期活动", text="已结束", valid_until=NOW - timedelta(days=1)),
            ]
        )
        session.commit()
        assert active_pairs(session, now=NOW) == [("退款多久到账", "1-3个工作日原路退回。")]


def test_text_files(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text('{"text": "退款多久"}\n{"query": "快递到哪"}\n\n', encoding="utf-8")
    (tmp_path / "b.csv").write_text("id,Query\n1,优惠券怎么用\n2,\n", encoding="utf-8")
    (tmp_path / "c.txt").write_text("尺码怎么选\n\n", encoding="utf-8")
    assert load_text_file(tmp_path / "a.jsonl") == ["退款多久", "快递到哪"]
    assert load_text_file(tmp_path / "b.csv") == ["优惠券怎么用"]
    assert load_text_file(tmp_path / "c.txt") == ["尺码怎么选"]


def test_existing_intents_from_json_and_csv(tmp_path: Path) -> None:
    (tmp_path / "i.json").write_text(
        json.dumps(
            [{"name": "退货", "examples": ["我要退货", "怎么退货"]}, {"intent_name": "x", "examples": []}]
        ),
        encoding="utf-8",
    )
    (tmp_path / "m.json").write_text(json.dumps({"退货": ["我要退货"]}), encoding="utf-8")
    (tmp_path / "i.csv").write_text(
        "intent,example\n退货,我要退货\n退货,怎么退货\n物流,快递到哪\n", encoding="utf-8"
    )
    assert load_existing_intents(tmp_path / "i.json")[0].examples == ("我要退货", "怎么退货")
    assert load_existing_intents(tmp_path / "m.json")[0].name == "退货"
    assert {i.name: len(i.examples) for i in load_existing_intents(tmp_path / "i.csv")} == {
        "退货": 2,
        "物流": 1,
    }


def test_settings_from_env_and_validation(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BACKSTOP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("BACKSTOP_MINING__MIN_CLUSTER_SIZE", "12")
    monkeypatch.setenv("BACKSTOP_MINING__EMBEDDER__BACKEND", "e5-small")
    monkeypatch.setenv("BACKSTOP_MINING__COZE__BASE_URL", "https://api.coze.com")
    monkeypatch.setenv("BACKSTOP_MINING__LOCK_PATH", "/run/mine.lock")
    root = load_settings()
    settings = root.mining
    assert settings.min_cluster_size == 12
    assert settings.embedder.backend == "e5-small"
    assert settings.coze.base_url == "https://api.coze.com"
    # one database and one data_dir for the whole tree: unset mining paths follow BACKSTOP_DATA_DIR
    assert root.resolved_database_url == f"sqlite:///{tmp_path / 'backstop.db'}"
    assert settings.out_dir == tmp_path / "mining"
    assert settings.cache_path == tmp_path / "mining" / "embeddings.sqlite"
    assert settings.lock_path == Path("/run/mine.lock")  # set explicitly: kept
    assert settings.embedder.cache_dir == tmp_path / "models"
    assert "database_url" not in MiningSettings.model_fields
    with pytest.raises(ValidationError):
        MiningSettings(database_url="sqlite://")  # type: ignore[call-arg]  # unknown keys are refused
    with pytest.raises(ValidationError):
        MiningSettings(overlap_new_jaccard=0.6, overlap_merge_jaccard=0.3)
    with pytest.raises(ValidationError):
        MiningSettings(coze={"token": "changeme"})
    with pytest.raises(ValidationError):
        MiningSettings(min_samples=0)


def test_every_setting_is_documented() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "mining.md").read_text(encoding="utf-8")
    missing = [name for name in MiningSettings.model_fields if f"`{name}`" not in doc]
    assert not missing, f"settings missing from docs/mining.md: {missing}"
