"""The console's pure parts and queries, without a browser: charts, strings, diffs, dashboard figures."""

from __future__ import annotations

import re
import string
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, text

from fallback.store import answers as answers_repo
from fallback.store import review as review_repo
from fallback.store.db import Database
from fallback.store.schema import Candidate, CandidateExample, Event
from fallback.web import charts, stats
from fallback.web.i18n import EN, ZH, translator
from fallback.web.library import diff, mining_runs
from fallback.web.render import DISPLAY_TZ, parse_input_dt, safe_next

TEMPLATES = Path(__file__).resolve().parents[2] / "fallback" / "web" / "templates"


def test_line_chart_leaves_gaps_and_escapes_labels() -> None:
    svg = charts.line_chart([("a", 0.5), ("b", None), ("<c>", 0.25), ("d", 1.0)], percent=True, label="x")
    assert svg.count("<polyline") == 1  # "a" stands alone; "<c>"-"d" is the one line
    assert "100%" in svg and "0%" in svg
    assert "<c>" not in svg and "&lt;c&gt;" in svg


@pytest.mark.parametrize(("value", "integer", "expected"), [
    (3, True, 4.0), (0, True, 4.0), (10, True, 20.0), (37, True, 40.0), (0.3, False, 0.4),
    (1234, True, 2000.0),
])
def test_count_axes_end_on_round_numbers(value: float, integer: bool, expected: float) -> None:
    assert charts.nice_max(value, integer=integer) == expected


def test_bar_chart_scales_to_the_largest_value() -> None:
    svg = str(charts.bar_chart([("自动回答", 30), ("转人工", 10), ("已拦截", 0)]))
    widths = [float(w) for w in re.findall(r'<rect [^>]*width="([0-9.]+)"', svg)]
    assert widths[0] == pytest.approx(3 * widths[1], rel=1e-3) and widths[2] == 0


def test_every_string_exists_in_both_languages_with_the_same_placeholders() -> None:
    assert set(ZH) == set(EN)
    fields = string.Formatter()
    for key in ZH:
        names = {f for _, f, _, _ in fields.parse(ZH[key]) if f}
        assert names == {f for _, f, _, _ in fields.parse(EN[key]) if f}, key
    used: set[str] = set()
    for path in TEMPLATES.glob("*.html"):
        used |= set(re.findall(r"\bt\('([\w-]+)'\s*[,)]", path.read_text(encoding="utf-8")))
    assert used and not used - set(ZH)
    assert translator("en")("asked_n", n=3) == "asked 3 times" and translator("xx")("approve") == "批准"


def test_audit_diff_shows_only_what_changed() -> None:
    before = {"id": 1, "status": "pending", "draft": "草稿", "version": 1, "safe_to_autosend": False}
    after = {"id": 1, "status": "approved", "draft": "草稿", "version": 2, "safe_to_autosend": True,
             "answer_id": 7}
    rows = {r["field"]: (r["before"], r["after"]) for r in diff(before, after)}
    assert rows == {"status": ("pending", "approved"), "safe_to_autosend": ("✗", "✓"), "answer_id": ("", "7")}


def test_redirects_stay_inside_the_console_and_dates_are_china_time() -> None:
    assert safe_next("/review/answers?q=x") == "/review/answers?q=x"
    for evil in ("https://evil.example/", "//evil.example/review", "/v1/admin/users", "/review\\@evil"):
        assert safe_next(evil) == "/review/queue"
    assert parse_input_dt("2025-11-11T00:00") == datetime(2025, 11, 10, 16, 0, tzinfo=UTC)
    assert parse_input_dt("") is None
    with pytest.raises(ValueError):
        parse_input_dt("tomorrow")


@pytest.fixture
def db(tmp_path: Path) -> Database:
    return Database.connect(f"sqlite:///{tmp_path / 'console.db'}")


def test_coverage_is_counted_per_china_day(db: Database) -> None:
    now = datetime(2025, 11, 11, 12, 0, tzinfo=DISPLAY_TZ)
    # 2025-11-10 17:30 UTC is already 11-11 in China
    times = [(datetime(2025, 11, 10, 17, 30, tzinfo=UTC), "answer"),
             (datetime(2025, 11, 11, 1, 0, tzinfo=UTC), "handoff"),
             (datetime(2025, 11, 10, 15, 0, tzinfo=UTC), "answer")]

    def write(s):  # type: ignore[no-untyped-def]
        for i, (at, action) in enumerate(times):
            s.add(Event(trace_id=f"t{i}", created_at=at, conversation_id=f"c{i}", user_id="u", query="q",
                        action=action, reason="r"))

    db.run(write)
    labels, start = stats.window(3, now)
    assert labels == ["2025-11-09", "2025-11-10", "2025-11-11"]
    got = db.run(lambda s: stats.coverage(s, labels, start))
    assert got == [("2025-11-09", None, 0), ("2025-11-10", 1.0, 1), ("2025-11-11", 0.5, 2)]


def test_queue_size_and_approval_latency_come_from_candidates_audit_and_events(db: Database) -> None:
    now = datetime.now(UTC)

    def write(s):  # type: ignore[no-untyped-def]
        for i in range(3):
            c = Candidate(status="pending", query=f"问题{i}", draft="答",
                          first_seen=now - timedelta(days=2, hours=i))
            c.examples = [CandidateExample(text=f"问题{i}")]
            s.add(c)
        s.flush()

    db.run(write)
    answer = db.run(lambda s: review_repo.approve(s, 1, expected_version=1, actor="alice").id)
    db.run(lambda s: s.add(Event(trace_id="served", created_at=datetime.now(UTC) + timedelta(seconds=90),
                                 conversation_id="c", user_id="u", query="问题0", action="answer",
                                 reason="matched", answer_id=answer)))
    labels, start = stats.window(4)
    sizes = db.run(lambda s: stats.queue_sizes(s, labels, start))
    assert [v for _, v in sizes][-1] == 2 and max(v or 0 for _, v in sizes) == 3
    [approval] = db.run(lambda s: stats.recent_approvals(s))
    assert approval.actor == "alice" and approval.answer_id == answer
    assert approval.served_after_s is not None and 85 < approval.served_after_s < 120
    assert approval.waited_s is not None and approval.waited_s > 2 * 86400 - 60
    assert db.run(answers_repo.count_active) == 1


def test_mining_runs_are_read_defensively(db: Database) -> None:
    assert mining_runs(db.engine) == []
    # an older, smaller shape than mining/store.py's: the page shows whatever columns there are
    table = Table("mining_runs", MetaData(), Column("id", Integer, primary_key=True),
                  Column("status", String(16)), Column("started_at", DateTime), Column("n_intents", Integer))
    with db.engine.begin() as conn:  # the full tables exist when mining.store was imported earlier
        conn.execute(text("DROP TABLE IF EXISTS mining_intents"))
        conn.execute(text("DROP TABLE IF EXISTS mining_runs"))
    table.create(db.engine)
    with db.engine.begin() as conn:
        conn.execute(table.insert(), [{"status": "succeeded", "started_at": datetime(2025, 1, 1),
                                       "n_intents": 12}])
    [run] = mining_runs(db.engine)
    assert run["status"] == "succeeded" and run["n_intents"] == 12 and "noise_share" not in run
