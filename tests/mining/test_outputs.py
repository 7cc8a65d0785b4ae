"""The intent pack (JSON + CSV) and the HTML report."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from coze.intent_pack import PACK_CSV_COLUMNS, intent_pack, write_pack_csv, write_pack_json
from mining.domain import CandidateIntent, EntitySuggestion, MiningResult, Overlap, Utterance
from mining.report import render_report


def candidate(cluster_id: int = 0) -> CandidateIntent:
    return CandidateIntent(
        cluster_id=cluster_id,
        name="order.refund",
        description="用户咨询退款相关问题（关键词：退款、到账）",
        named_by="lexicon",
        keywords=["退款", "到账"],
        size=3,
        volume=5,
        examples=["退款多久到账", "退款<script>没到", "订单202611270001234退款"],
        entities=[EntitySuggestion("order_id", r"\d{12,18}", True, 0.6, "订单号")],
        slot_filling_prompt="为了尽快帮您处理，请提供订单号。",
        overlap=Overlap("conflicts_with", "order.return", 0.25, 0.86),
        display_name="退款进度查询",
    )


def result() -> MiningResult:
    utterances = [
        Utterance("退款多久到账", 3, (0, 1, 2)),
        Utterance("退款<script>没到", 1, (3,)),
        Utterance("订单202611270001234退款", 1, (4,)),
        Utterance("讲个笑话", 1, (5,)),
    ]
    return MiningResult(
        utterances=utterances,
        raw_labels=np.array([0, -1, 0, -1]),
        labels=np.array([0, 0, 0, -1]),
        intents=[candidate()],
        map_2d=np.array([[0, 0], [0.1, 0], [0, 0.1], [3, 3]], dtype=np.float32),
        timings={"embed": 0.1},
        params={"embedder": "fake@1/2"},
        embedder="fake@1/2",
    )


def test_intent_pack_has_the_coze_shape() -> None:
    (entry,) = intent_pack([candidate()])
    assert {"intent_name", "description", "examples", "entities", "slot_filling_prompt", "overlap"} <= set(
        entry
    )
    assert entry["intent_name"] == "order.refund"
    assert entry["display_name"] == "退款进度查询"  # what a person reads, beside the id
    assert entry["entities"] == [{"name": "order_id", "pattern": r"\d{12,18}", "required": True}]
    assert entry["overlap"]["label"] == "conflicts_with:order.return"
    json.dumps(entry)  # plain JSON types only


def test_pack_files(tmp_path: Path) -> None:
    pack = json.loads(write_pack_json([candidate()], tmp_path / "p.json").read_text(encoding="utf-8"))
    assert pack[0]["examples"][0] == "退款多久到账"
    write_pack_csv([candidate()], tmp_path / "p.csv")
    with (tmp_path / "p.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0]) == PACK_CSV_COLUMNS
    assert [r["example"] for r in rows] == candidate().examples
    assert rows[0]["entities"] == "order_id*" and rows[0]["overlap"] == "conflicts_with:order.return"
    assert rows[0]["display_name"] == "退款进度查询"


def test_report_is_self_contained_and_escapes_user_text() -> None:
    page = render_report(result(), meta={"run": 7})
    assert page.count("data:image/png;base64,") == 2
    assert "退款&lt;script&gt;没到" in page and "<script>" not in page
    assert "conflicts_with:order.return" in page
    assert "<b>退款进度查询</b><br><code>order.refund</code>" in page  # display name beside the id
    assert "noise before attachment</th><td>50.0%" in page
    assert "http://" not in page and "https://" not in page  # nothing fetched from elsewhere
