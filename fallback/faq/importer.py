"""Importing an FAQ into the answer library and exporting it (the store and the embedder at the edge).

An import runs in one transaction: every new answer, the pending candidates it answers (closed as
approved into the new answer, their queries added as keys) and one audit entry naming the file,
what was created, skipped and closed. A dry run computes the same report and writes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from fallback.core.normalize import cache_key, normalize
from fallback.faq.rows import FaqRow, ImportPlan, plan_import
from fallback.retrieval.answer_index import AnswerIndex
from fallback.store import answers as answers_repo
from fallback.store import audit
from fallback.store.db import Database
from fallback.store.schema import Answer, AnswerKey, Candidate, DraftJob


def _existing(s: Session) -> dict[str, int]:
    rows = s.execute(
        select(AnswerKey.text, AnswerKey.answer_id).join(Answer, Answer.id == AnswerKey.answer_id)
        .where(Answer.status == "active")
    )
    return {cache_key(normalize(t)): int(a) for t, a in rows}


def near_duplicates(
    index: AnswerIndex, rows: Sequence[FaqRow], threshold: float
) -> dict[int, tuple[int, float]]:
    """Rows whose question is within ``threshold`` cosine of an existing key: line -> (answer, cosine)."""
    if not rows or len(index) == 0:
        return {}
    vectors = np.asarray(index.encode([normalize(r.question) for r in rows]), dtype=np.float32)
    out: dict[int, tuple[int, float]] = {}
    for row, matches in zip(rows, index.search_batch(vectors, 1), strict=True):
        if matches and matches[0].score >= threshold:
            out[row.line] = (matches[0].answer_id, float(matches[0].score))
    return out


def import_faq(
    db: Database, index: AnswerIndex, rows: Sequence[FaqRow], *, actor: str, source: str,
    near_threshold: float | None, dry_run: bool = False,
) -> dict[str, Any]:
    """Plan and (unless ``dry_run``) apply an import; returns the report."""
    started = time.perf_counter()
    existing = db.run(_existing)
    pool = [r for r in rows if not any(cache_key(normalize(k)) in existing for k in r.texts())]
    near = near_duplicates(index, pool, near_threshold) if near_threshold is not None else {}
    plan = plan_import(rows, existing, lambda t: cache_key(normalize(t)), near)
    report: dict[str, Any] = {"source": source, "dry_run": dry_run, "rows": len(rows), **plan.report()}
    if dry_run:
        report["would_close_candidates"] = len(db.run(lambda s: _answered_candidates(s, plan)))
    else:
        created, closed = db.run(lambda s: _apply(s, plan, actor, source, report), immediate=True)
        report["created_answer_ids"] = created
        report["closed_candidates"] = closed
        index.reconcile()  # servable in this process now; the others follow the version counter
    report["seconds"] = round(time.perf_counter() - started, 2)
    return report


def _answered_candidates(s: Session, plan: ImportPlan) -> list[tuple[Candidate, int]]:
    """Pending candidates whose question one of the planned rows answers: (candidate, row index)."""
    forms: dict[str, int] = {}
    for i, row in enumerate(plan.create):
        for k in row.texts():
            forms.setdefault(cache_key(normalize(k)), i)
    pending = s.scalars(
        select(Candidate).where(Candidate.status == "pending").options(selectinload(Candidate.examples))
    )
    out = []
    for c in pending:
        hit = forms.get(cache_key(normalize(c.query)))
        if hit is not None:
            out.append((c, hit))
    return out


def _apply(
    s: Session, plan: ImportPlan, actor: str, source: str, report: dict[str, Any]
) -> tuple[list[int], list[int]]:
    answers: list[Answer] = []
    for row in plan.create:
        answers.append(answers_repo.create(
            s, question=row.question, text=row.answer, keys=row.paraphrases, actor=actor,
            safe_to_autosend=row.safe_to_autosend, valid_from=row.valid_from, valid_until=row.valid_until,
            label=row.tags, audited=False,
        ))
    closed = []
    for cand, i in _answered_candidates(s, plan):
        answer = answers[i]
        have = {k.text for k in answer.keys}
        for text in [cand.query, *(e.text for e in cand.examples)]:
            if text not in have:
                have.add(text)
                answer.keys.append(AnswerKey(text=text, source="paraphrase"))
        cand.status, cand.answer_id = "approved", answer.id
        cand.version += 1
        closed.append(cand.id)
    if closed:
        s.execute(update(DraftJob).where(DraftJob.candidate_id.in_(closed), DraftJob.status == "queued")
                  .values(status="done", last_error="answered by an FAQ import"))
    s.flush()
    created = [a.id for a in answers]
    summary = {k: v for k, v in report.items() if k != "skipped_rows"}
    audit.record(s, actor, "import", "answers", None, None, {
        **summary, "created_answer_ids": created, "closed_candidates": closed,
        "skipped_rows": report["skipped_rows"][:200],
    })
    if created or closed:
        audit.bump_answers_version(s)
    return created, closed


def export_rows(db: Database, *, include_retired: bool = False) -> list[dict[str, Any]]:
    """Every answer as an FAQ row (question, answer, paraphrases, tags, validity, flags, id, status)."""
    def read(s: Session) -> list[dict[str, Any]]:
        q = select(Answer).options(selectinload(Answer.keys)).order_by(Answer.id)
        if not include_retired:
            q = q.where(Answer.status == "active")
        return [{
            "question": a.question, "answer": a.text,
            "paraphrases": [k.text for k in a.keys if k.text != a.question],
            "tags": a.label or "", "valid_from": a.valid_from, "valid_until": a.valid_until,
            "safe_to_autosend": a.safe_to_autosend, "id": a.id, "status": a.status,
            "hit_count": a.hit_count,
        } for a in s.scalars(q)]

    return db.run(read)
