"""``/v1/review/...`` and ``/v1/auth/...``: the reviewer API (the console uses the same store calls)."""

from __future__ import annotations

import time
from datetime import datetime
from functools import partial
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi import Path as PathParam
from pydantic import BaseModel, Field
from sqlalchemy import select

from fallback.api.auth import AdminDep, ReviewerDep, end_session, start_session
from fallback.api.deps import RuntimeDep
from fallback.core.masking import mask
from fallback.core.normalize import normalize
from fallback.runtime import Runtime
from fallback.store import answers as answers_repo
from fallback.store import review as review_repo
from fallback.store import users as users_repo
from fallback.store.answers import StaleVersion
from fallback.store.schema import Answer, AuditEntry, User

router = APIRouter(tags=["review"])

MAX_INT = 2_147_483_647  # ids and versions are 32-bit in the database: bigger ones are 422, not 500
Version = Annotated[int, Field(ge=0, le=MAX_INT)]
CandidateId = Annotated[int, PathParam(ge=1, le=MAX_INT)]
AnswerId = Annotated[int, PathParam(ge=1, le=MAX_INT)]


def key_text(text: str) -> str:
    """Keys are stored the way queries arrive: normalised and masked."""
    return mask(normalize(text)).text


class LoginIn(BaseModel):
    username: str = Field(..., min_length=1, max_length=64)
    password: str = Field(..., min_length=1, max_length=256)


class ApproveIn(BaseModel):
    version: Version
    text: str | None = Field(None, max_length=4000, description="Edited answer; default: the draft.")
    question: str | None = Field(None, max_length=500, description="Canonical question; default: the query.")
    paraphrases: list[str] | None = Field(
        None, description="Grouped queries to key the answer by (default all)."
    )
    safe_to_autosend: bool = Field(False, description="Allow auto-answering risk-topic queries with it.")
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    label: str | None = Field(None, max_length=128, description="The intent this answer serves, if known.")
    answer_id: int | None = Field(
        None, ge=1, le=MAX_INT, description="Attach the queries to this existing answer instead."
    )
    answer_version: int | None = Field(
        None, ge=0, le=MAX_INT, description="The existing answer's version (with answer_id)."
    )


class RejectIn(BaseModel):
    version: Version
    reason: str = Field(..., min_length=1, max_length=500)


class AssignIn(BaseModel):
    version: Version
    assignee: str | None = Field(None, max_length=64)


class BulkItem(BaseModel):
    id: Annotated[int, Field(ge=1, le=MAX_INT)]
    version: Version


class BulkIn(BaseModel):
    action: Literal["approve", "reject"]
    items: list[BulkItem] = Field(..., min_length=1, max_length=200)
    reason: str | None = None


class AnswerCreate(BaseModel):
    question: str = Field(..., min_length=1, max_length=500)
    text: str = Field(..., min_length=1, max_length=4000)
    keys: list[str] = Field(default_factory=list)
    safe_to_autosend: bool = False
    valid_from: datetime | None = None
    valid_until: datetime | None = None


class AnswerPatch(BaseModel):
    version: Version
    text: str | None = Field(None, min_length=1, max_length=4000)
    add_keys: list[str] = Field(default_factory=list)
    remove_keys: list[str] = Field(default_factory=list)
    safe_to_autosend: bool | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    clear_validity: bool = False
    status: Literal["active", "retired"] | None = None


class UserCreate(BaseModel):
    username: str = Field(..., min_length=1, max_length=64)
    password: str = Field(..., min_length=8, max_length=256)
    role: Literal["reviewer", "admin"] = "reviewer"


def _after_answers_changed(rt: Runtime, started: float) -> float:
    """Make the change servable now (this process); other processes follow via the version counter."""
    rt.index.reconcile()
    return round((time.perf_counter() - started) * 1000, 1)


# auth --------------------------------------------------------------------------------------------
@router.post("/v1/auth/login")
def login(body: LoginIn, request: Request, response: Response, rt: RuntimeDep) -> dict[str, Any]:
    user = rt.db.run(lambda s: users_repo.authenticate(s, body.username, body.password))
    if user is None:
        raise HTTPException(401, "wrong username or password")
    csrf = start_session(rt, response, user.id, secure=request.url.scheme == "https")
    return {"username": user.username, "role": user.role, "csrf": csrf}


@router.post("/v1/auth/logout")
def logout(response: Response, _r: ReviewerDep) -> dict[str, bool]:
    end_session(response)
    return {"ok": True}


@router.get("/v1/auth/me")
def me(r: ReviewerDep) -> dict[str, Any]:
    return {"username": r.username, "role": r.role, "csrf": r.csrf}


# candidates --------------------------------------------------------------------------------------
@router.get("/v1/review/candidates")
def list_candidates(
    rt: RuntimeDep,
    _r: ReviewerDep,
    status: str | None = Query("pending"),
    risk: bool | None = None,
    q: str | None = Query(None, max_length=200),
    min_count: int = Query(1, ge=1, le=MAX_INT),
    sort: Literal["frequency", "age", "recent"] = "frequency",
    assignee: str | None = None,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=MAX_INT),
) -> dict[str, Any]:
    f = review_repo.CandidateFilter(
        status=status or None,
        risk=risk,
        q=q,
        min_count=min_count,
        sort=sort,
        assignee=assignee,
        limit=limit,
        offset=offset,
    )

    def read(s: Any) -> dict[str, Any]:
        total, rows = review_repo.list_candidates(s, f)
        return {
            "total": total,
            "items": [review_repo.snapshot(c) for c in rows],
            "counts": review_repo.counts(s),
        }

    return rt.db.run(read)


@router.get("/v1/review/candidates/{candidate_id}")
def get_candidate(candidate_id: CandidateId, rt: RuntimeDep, _r: ReviewerDep) -> dict[str, Any]:
    return rt.db.run(lambda s: review_repo.snapshot(review_repo.get(s, candidate_id)))


@router.post("/v1/review/candidates/{candidate_id}/approve")
def approve(candidate_id: CandidateId, body: ApproveIn, rt: RuntimeDep, r: ReviewerDep) -> dict[str, Any]:
    started = time.perf_counter()

    def tx(s: Any) -> dict[str, Any]:
        a = review_repo.approve(
            s,
            candidate_id,
            expected_version=body.version,
            actor=r.username,
            text=body.text,
            question=key_text(body.question) if body.question else None,
            paraphrases=body.paraphrases,
            safe_to_autosend=body.safe_to_autosend,
            valid_from=body.valid_from,
            valid_until=body.valid_until,
            label=body.label,
            into_answer=(body.answer_id, body.answer_version or 0) if body.answer_id is not None else None,
        )
        return answers_repo.snapshot(a)

    answer = rt.db.run(tx)
    rt.service.grouper.discard([candidate_id])
    return {"answer": answer, "served_in_ms": _after_answers_changed(rt, started)}


@router.post("/v1/review/candidates/{candidate_id}/reject")
def reject(candidate_id: CandidateId, body: RejectIn, rt: RuntimeDep, r: ReviewerDep) -> dict[str, Any]:
    c = rt.db.run(
        lambda s: review_repo.snapshot(
            review_repo.reject(
                s, candidate_id, expected_version=body.version, actor=r.username, reason=body.reason
            )
        )
    )
    rt.service.grouper.discard([candidate_id])
    return c


@router.post("/v1/review/candidates/{candidate_id}/assign")
def assign(candidate_id: CandidateId, body: AssignIn, rt: RuntimeDep, r: ReviewerDep) -> dict[str, Any]:
    return rt.db.run(
        lambda s: review_repo.snapshot(
            review_repo.assign(
                s, candidate_id, expected_version=body.version, actor=r.username, assignee=body.assignee
            )
        )
    )


def _bulk_approve(s: Any, *, item: BulkItem, actor: str) -> None:
    review_repo.approve(s, item.id, expected_version=item.version, actor=actor)


def _bulk_reject(s: Any, *, item: BulkItem, actor: str, reason: str) -> None:
    review_repo.reject(s, item.id, expected_version=item.version, actor=actor, reason=reason)


@router.post("/v1/review/candidates/bulk")
def bulk(body: BulkIn, rt: RuntimeDep, r: ReviewerDep) -> dict[str, Any]:
    """Each item in its own transaction: one stale item does not undo the others."""
    if body.action == "reject" and not (body.reason or "").strip():
        raise HTTPException(422, "bulk reject needs a reason")
    started = time.perf_counter()
    done, failed = [], []
    for item in body.items:
        try:
            if body.action == "approve":
                rt.db.run(partial(_bulk_approve, item=item, actor=r.username))
            else:
                rt.db.run(partial(_bulk_reject, item=item, actor=r.username, reason=body.reason or ""))
            done.append(item.id)
        except (StaleVersion, ValueError, answers_repo.NotFound) as e:
            failed.append({"id": item.id, "error": str(e)})
    rt.service.grouper.discard(done)
    return {"done": done, "failed": failed, "served_in_ms": _after_answers_changed(rt, started)}


# answers -----------------------------------------------------------------------------------------
@router.get("/v1/review/answers")
def list_answers(
    rt: RuntimeDep,
    _r: ReviewerDep,
    q: str | None = Query(None, max_length=200),
    status: Literal["active", "retired"] | None = None,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=MAX_INT),
) -> dict[str, Any]:
    def read(s: Any) -> dict[str, Any]:
        from sqlalchemy.orm import selectinload

        stmt = select(Answer).options(selectinload(Answer.keys))
        if status:
            stmt = stmt.where(Answer.status == status)
        if q:
            stmt = stmt.where(Answer.question.like(f"%{q}%") | Answer.text.like(f"%{q}%"))
        rows = s.scalars(stmt.order_by(Answer.hit_count.desc(), Answer.id).limit(limit).offset(offset)).all()
        return {"items": [answers_repo.snapshot(a) for a in rows]}

    return rt.db.run(read)


@router.post("/v1/review/answers", status_code=201)
def create_answer(body: AnswerCreate, rt: RuntimeDep, r: ReviewerDep) -> dict[str, Any]:
    started = time.perf_counter()
    a = rt.db.run(
        lambda s: answers_repo.snapshot(
            answers_repo.create(
                s,
                question=key_text(body.question),
                text=body.text,
                keys=[key_text(k) for k in body.keys],
                actor=r.username,
                safe_to_autosend=body.safe_to_autosend,
                valid_from=body.valid_from,
                valid_until=body.valid_until,
            )
        )
    )
    return {"answer": a, "served_in_ms": _after_answers_changed(rt, started)}


@router.get("/v1/review/answers/{answer_id}")
def get_answer(answer_id: AnswerId, rt: RuntimeDep, _r: ReviewerDep) -> dict[str, Any]:
    return rt.db.run(lambda s: answers_repo.snapshot(answers_repo.get(s, answer_id)))


@router.patch("/v1/review/answers/{answer_id}")
def patch_answer(answer_id: AnswerId, body: AnswerPatch, rt: RuntimeDep, r: ReviewerDep) -> dict[str, Any]:
    started = time.perf_counter()
    validity: dict[str, Any] = {}
    if body.clear_validity:
        validity = {"valid_from": None, "valid_until": None}
    else:
        if body.valid_from is not None:
            validity["valid_from"] = body.valid_from
        if body.valid_until is not None:
            validity["valid_until"] = body.valid_until
    a = rt.db.run(
        lambda s: answers_repo.snapshot(
            answers_repo.update_answer(
                s,
                answer_id,
                expected_version=body.version,
                actor=r.username,
                text=body.text,
                add_keys=[key_text(k) for k in body.add_keys],
                remove_keys=body.remove_keys,
                safe_to_autosend=body.safe_to_autosend,
                status=body.status,
                **validity,
            )
        )
    )
    return {"answer": a, "served_in_ms": _after_answers_changed(rt, started)}


# audit & users -----------------------------------------------------------------------------------
@router.get("/v1/review/audit")
def audit_log(
    rt: RuntimeDep,
    _r: ReviewerDep,
    entity: str | None = None,
    entity_id: int | None = Query(None, ge=0, le=MAX_INT),
    actor: str | None = None,
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=MAX_INT),
) -> dict[str, Any]:
    def read(s: Any) -> dict[str, Any]:
        stmt = select(AuditEntry)
        if entity:
            stmt = stmt.where(AuditEntry.entity == entity)
        if entity_id is not None:
            stmt = stmt.where(AuditEntry.entity_id == entity_id)
        if actor:
            stmt = stmt.where(AuditEntry.actor == actor)
        rows = s.scalars(stmt.order_by(AuditEntry.id.desc()).limit(limit).offset(offset)).all()
        return {
            "items": [
                {
                    "id": e.id,
                    "at": e.at.isoformat(),
                    "actor": e.actor,
                    "action": e.action,
                    "entity": e.entity,
                    "entity_id": e.entity_id,
                    "before": e.before,
                    "after": e.after,
                }
                for e in rows
            ]
        }

    return rt.db.run(read)


@router.get("/v1/admin/users")
def list_users(rt: RuntimeDep, _a: AdminDep) -> dict[str, Any]:
    rows = rt.db.run(lambda s: [(u.id, u.username, u.role, u.active) for u in s.scalars(select(User))])
    return {"items": [{"id": i, "username": n, "role": ro, "active": ac} for i, n, ro, ac in rows]}


@router.post("/v1/admin/users", status_code=201)
def add_user(body: UserCreate, rt: RuntimeDep, a: AdminDep) -> dict[str, Any]:
    u = rt.db.run(lambda s: users_repo.create(s, body.username, body.password, body.role, actor=a.username))
    return {"id": u.id, "username": u.username, "role": u.role}
