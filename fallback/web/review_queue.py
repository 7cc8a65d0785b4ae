"""The review queue and the candidate page: list, open, approve (as drafted or edited), reject."""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from fallback.api.auth import Reviewer, ReviewerDep
from fallback.api.deps import RuntimeDep
from fallback.api.review import key_text
from fallback.runtime import Runtime
from fallback.store import review as review_repo
from fallback.store.answers import StaleVersion
from fallback.store.schema import Answer, Candidate
from fallback.web.i18n import translator
from fallback.web.render import (
    PREFIX,
    WebRoute,
    lang_of,
    page,
    parse_input_dt,
    redirect,
    safe_next,
    with_flash,
)

router = APIRouter(route_class=WebRoute)

PAGE_SIZE = 50


def risk_labels(c: Candidate) -> list[str]:
    """What makes a candidate risky, for badges: risk/injection terms of the query, draft-check issues."""
    terms = [str(x) for x in (c.context or {}).get("risk_terms", [])]
    if c.risk and not terms:
        terms = ["risk"]
    return terms


def draft_issues(c: Candidate) -> list[str]:
    issues = (c.flags or {}).get("issues", [])
    return [str(i) for i in issues] if isinstance(issues, list) else []


@router.get("/queue")
def queue_page(
    request: Request, rt: RuntimeDep, me: ReviewerDep,
    status: Literal["pending", "approved", "rejected", "all"] = "pending",
    risk: Literal["", "yes", "no"] = "", q: Annotated[str, Query(max_length=200)] = "",
    min_count: Annotated[int, Query(ge=1, le=100000)] = 1,
    sort: Literal["frequency", "age", "recent"] = "frequency",
    page_no: Annotated[int, Query(ge=1, alias="page")] = 1,
) -> Response:
    f = review_repo.CandidateFilter(
        status=None if status == "all" else status, risk={"yes": True, "no": False}.get(risk),
        q=q.strip() or None, min_count=min_count, sort=sort, limit=PAGE_SIZE,
        offset=(page_no - 1) * PAGE_SIZE,
    )

    def read(s: Session) -> dict[str, Any]:
        total, rows = review_repo.list_candidates(s, f)
        items = [{
            "id": c.id, "version": c.version, "query": c.query, "occurrences": c.occurrences,
            "examples": len(c.examples), "status": c.status, "risk": risk_labels(c),
            "issues": draft_issues(c),
            "draft": c.draft, "draft_status": c.draft_status, "first_seen": c.first_seen,
            "last_seen": c.last_seen, "assignee": c.assignee,
        } for c in rows]
        return {"total": total, "items": items, "counts": review_repo.counts(s)}

    data = rt.db.run(read)
    filters = {"status": status, "risk": risk, "q": q, "min_count": min_count, "sort": sort}
    pages = max(1, -(-data["total"] // PAGE_SIZE))

    def link(**change: Any) -> str:
        params = {**filters, "page": page_no, **change}
        return f"{PREFIX}/queue?" + urlencode({k: v for k, v in params.items() if v not in ("", None)})

    t = translator(lang_of(request))
    return page(request, "queue.html", me=me, title=t("nav_queue"), nav="queue", filters=filters, link=link,
                page_no=page_no, pages=pages, **data)


def _reference_rows(s: Session, refs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """References with their answer's question and text (filled in here when the worker has not yet)."""
    ids = [int(r["answer_id"]) for r in refs if r.get("answer_id") is not None]
    answers = {a.id: a for a in s.scalars(select(Answer).where(Answer.id.in_(ids)))} if ids else {}
    out = []
    for r in refs:
        a = answers.get(int(r.get("answer_id") or 0))
        out.append({
            "answer_id": r.get("answer_id"), "score": float(r.get("score") or 0.0),
            "question": r.get("question") or (a.question if a else ""),
            "text": r.get("text") or (a.text if a else ""),
            "status": a.status if a else "missing", "version": a.version if a else None,
        })
    return out


def _candidate_view(s: Session, candidate_id: int) -> dict[str, Any]:
    c = review_repo.get(s, candidate_id)
    flags = c.flags or {}
    return {
        "c": c, "examples": list(c.examples), "references": _reference_rows(s, list(c.references or [])),
        "risk": risk_labels(c), "issues": draft_issues(c),
        "term_flags": {k: [str(x) for x in flags.get(k, [])] for k in ("banned_terms", "risk_terms",
                                                                      "unsupported_numbers")
                       if isinstance(flags.get(k), list) and flags.get(k)},
        "scores": dict(c.scores or {}), "history": list((c.context or {}).get("history", []))[-6:],
    }


def _candidate_page(request: Request, rt: Runtime, me: Reviewer, candidate_id: int, *, status: int = 200,
                    stale: str = "", kept: dict[str, Any] | None = None) -> Response:
    view = rt.db.run(lambda s: _candidate_view(s, candidate_id))
    t = translator(lang_of(request))
    return page(request, "candidate.html", me=me, status_code=status,
                title=f"{t('candidate')} #{candidate_id}",
                nav="queue", stale=stale, kept=kept or {},
                back=safe_next(request.query_params.get("back")), **view)


@router.get("/candidates/{candidate_id}")
def candidate_page(candidate_id: int, request: Request, rt: RuntimeDep, me: ReviewerDep) -> Response:
    return _candidate_page(request, rt, me, candidate_id)


def _clean_text(text: str | None) -> str | None:
    # browsers submit textarea line breaks as CRLF; the draft is stored with LF
    return text.replace("\r\n", "\n").strip() if text is not None else None


@router.post("/candidates/{candidate_id}/approve")
def approve(
    candidate_id: int, request: Request, rt: RuntimeDep, me: ReviewerDep,
    version: Annotated[int, Form()],
    mode: Annotated[Literal["draft", "edited"], Form()] = "draft",
    text: Annotated[str | None, Form(max_length=4000)] = None,
    question: Annotated[str, Form(max_length=500)] = "",
    paraphrases: Annotated[list[str] | None, Form()] = None,
    pick: Annotated[str, Form()] = "",
    safe_to_autosend: Annotated[bool, Form()] = False,
    valid_from: Annotated[str, Form()] = "", valid_until: Annotated[str, Form()] = "",
    into: Annotated[str, Form(pattern=r"^(\d+:\d+)?$")] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    """Approve as drafted (``mode=draft``) or with the edited text; served as soon as this returns.

    ``into`` = ``answer_id:version`` attaches the checked wordings to that existing answer instead (the
    question is already answered; its text is kept).
    """
    started = time.perf_counter()
    into_answer = tuple(int(x) for x in into.split(":")) if into else None
    edited = _clean_text(text) if mode == "edited" and into_answer is None else None
    # with ``pick`` the form showed the example checkboxes: an empty selection means "no paraphrases"
    keys = (paraphrases or []) if pick else None
    window_from, window_until = parse_input_dt(valid_from), parse_input_dt(valid_until)

    def tx(s: Session) -> int:
        a = review_repo.approve(
            s, candidate_id, expected_version=version, actor=me.username, text=edited,
            question=key_text(question) if question.strip() else None, paraphrases=keys,
            safe_to_autosend=safe_to_autosend, valid_from=window_from, valid_until=window_until,
            into_answer=(into_answer[0], into_answer[1]) if into_answer else None,
        )
        return a.id

    try:
        rt.db.run(tx)
    except StaleVersion as e:
        kept = {"text": edited if edited is not None else text, "question": question}
        return _candidate_page(request, rt, me, candidate_id, status=409, stale=str(e), kept=kept)
    rt.service.grouper.discard([candidate_id])
    rt.index.reconcile()  # servable now, as the JSON API does
    served_ms = round((time.perf_counter() - started) * 1000, 1)
    return redirect(with_flash(safe_next(next), "approved", candidate_id, served_ms))


@router.post("/candidates/{candidate_id}/reject")
def reject(
    candidate_id: int, request: Request, rt: RuntimeDep, me: ReviewerDep,
    version: Annotated[int, Form()], reason: Annotated[str, Form(max_length=500)] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    if not reason.strip():
        raise ValueError("a rejection needs a reason")
    try:
        rt.db.run(lambda s: review_repo.reject(s, candidate_id, expected_version=version, actor=me.username,
                                               reason=reason))
    except StaleVersion as e:
        return _candidate_page(request, rt, me, candidate_id, status=409, stale=str(e))
    rt.service.grouper.discard([candidate_id])
    return redirect(with_flash(safe_next(next), "rejected", candidate_id))
