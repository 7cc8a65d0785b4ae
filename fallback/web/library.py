"""The answer library, the audit history, user management (admins) and the mining-runs list."""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Query, Request, Response
from sqlalchemy import MetaData, Table, inspect, select
from sqlalchemy.orm import Session, selectinload

from fallback.api.auth import AdminDep, ReviewerDep
from fallback.api.deps import RuntimeDep
from fallback.api.review import key_text
from fallback.store import answers as answers_repo
from fallback.store import users as users_repo
from fallback.store.schema import Answer, AuditEntry, User
from fallback.web.i18n import translator
from fallback.web.render import PREFIX, WebRoute, lang_of, page, parse_input_dt, redirect, with_flash

router = APIRouter(route_class=WebRoute)

PAGE_SIZE = 50
AUDIT_PAGE_SIZE = 100
# Fields a diff leaves out: bookkeeping that would drown the real change (hits are not audited anyway).
DIFF_NOISE = {"id", "version", "updated_at", "hit_count"}


# answers -----------------------------------------------------------------------------------------
@router.get("/answers")
def answers_page(
    request: Request, rt: RuntimeDep, me: ReviewerDep, q: Annotated[str, Query(max_length=200)] = "",
    status: Literal["active", "retired", "all"] = "active",
    page_no: Annotated[int, Query(ge=1, alias="page")] = 1,
) -> Response:
    def read(s: Session) -> list[Answer]:
        stmt = select(Answer).options(selectinload(Answer.keys))
        if status != "all":
            stmt = stmt.where(Answer.status == status)
        if q.strip():
            like = f"%{q.strip()}%"
            stmt = stmt.where(Answer.question.like(like) | Answer.text.like(like))
        return list(s.scalars(stmt.order_by(Answer.hit_count.desc(), Answer.id)
                              .limit(PAGE_SIZE + 1).offset((page_no - 1) * PAGE_SIZE)))

    rows = rt.db.run(read)
    t = translator(lang_of(request))
    return page(request, "answers.html", me=me, title=t("nav_answers"), nav="answers",
                answers=rows[:PAGE_SIZE], more=len(rows) > PAGE_SIZE, q=q, status=status, page_no=page_no)


@router.get("/answers/{answer_id}")
def answer_page(answer_id: int, request: Request, rt: RuntimeDep, me: ReviewerDep) -> Response:
    def read(s: Session) -> dict[str, Any]:
        a = answers_repo.get(s, answer_id)
        history = list(s.scalars(select(AuditEntry).where(AuditEntry.entity == "answer",
                                                          AuditEntry.entity_id == answer_id)
                                 .order_by(AuditEntry.id.desc()).limit(20)))
        return {"a": a, "keys": list(a.keys), "history": [_audit_row(e) for e in history]}

    view = rt.db.run(read)
    t = translator(lang_of(request))
    return page(request, "answer.html", me=me, title=f"{t('answer')} #{answer_id}", nav="answers", **view)


@router.post("/answers/{answer_id}")
def edit_answer(
    answer_id: int, rt: RuntimeDep, me: ReviewerDep, version: Annotated[int, Form()],
    text: Annotated[str, Form(min_length=1, max_length=4000)],
    safe_to_autosend: Annotated[bool, Form()] = False,
    valid_from: Annotated[str, Form()] = "", valid_until: Annotated[str, Form()] = "",
    remove_keys: Annotated[list[str] | None, Form()] = None,
    add_keys: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """Save text, auto-send permission, validity window and keys (empty dates clear the window)."""
    started = time.perf_counter()
    added = [key_text(k) for k in add_keys.splitlines() if k.strip()]
    rt.db.run(lambda s: answers_repo.update_answer(
        s, answer_id, expected_version=version, actor=me.username, text=text.replace("\r\n", "\n").strip(),
        add_keys=added, remove_keys=remove_keys or [], safe_to_autosend=safe_to_autosend,
        valid_from=parse_input_dt(valid_from), valid_until=parse_input_dt(valid_until)))
    rt.index.reconcile()
    ms = round((time.perf_counter() - started) * 1000, 1)
    return redirect(with_flash(f"{PREFIX}/answers/{answer_id}", "saved", answer_id, ms))


@router.post("/answers/{answer_id}/status")
def set_answer_status(
    answer_id: int, rt: RuntimeDep, me: ReviewerDep, version: Annotated[int, Form()],
    status: Annotated[Literal["active", "retired"], Form()],
) -> Response:
    """Retire an answer (it stops being served at once) or bring it back."""
    rt.db.run(lambda s: answers_repo.update_answer(s, answer_id, expected_version=version, actor=me.username,
                                                   status=status))
    rt.index.reconcile()
    msg = "retired" if status == "retired" else "activated"
    return redirect(with_flash(f"{PREFIX}/answers/{answer_id}", msg, answer_id))


# audit -------------------------------------------------------------------------------------------
def diff(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The fields that changed between two snapshots, as ``{field, before, after}`` rows."""
    b, a = before or {}, after or {}
    rows = []
    for key in [*b.keys(), *(k for k in a if k not in b)]:
        if key in DIFF_NOISE or b.get(key) == a.get(key):
            continue
        rows.append({"field": key, "before": _short(b.get(key)), "after": _short(a.get(key)),
                     "added": key not in b, "removed": key not in a})
    return rows


def _short(value: Any, limit: int = 160) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, list):
        text = "、".join(str(v.get("text", v)) if isinstance(v, dict) else str(v) for v in value)
    else:
        text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _audit_row(e: AuditEntry) -> dict[str, Any]:
    return {"id": e.id, "at": e.at, "actor": e.actor, "action": e.action, "entity": e.entity,
            "entity_id": e.entity_id, "changes": diff(e.before, e.after)}


@router.get("/audit")
def audit_page(
    request: Request, rt: RuntimeDep, me: ReviewerDep,
    entity: Literal["", "candidate", "answer", "user"] = "", actor: Annotated[str, Query(max_length=64)] = "",
    action: Annotated[str, Query(max_length=32)] = "", page_no: Annotated[int, Query(ge=1, alias="page")] = 1,
) -> Response:
    def read(s: Session) -> dict[str, Any]:
        stmt = select(AuditEntry)
        if entity:
            stmt = stmt.where(AuditEntry.entity == entity)
        if actor.strip():
            stmt = stmt.where(AuditEntry.actor == actor.strip())
        if action:
            stmt = stmt.where(AuditEntry.action == action)
        rows = list(s.scalars(stmt.order_by(AuditEntry.id.desc()).limit(AUDIT_PAGE_SIZE + 1)
                              .offset((page_no - 1) * AUDIT_PAGE_SIZE)))
        actions = sorted(str(x) for x in s.scalars(select(AuditEntry.action).distinct()))
        return {"entries": [_audit_row(e) for e in rows[:AUDIT_PAGE_SIZE]],
                "more": len(rows) > AUDIT_PAGE_SIZE, "actions": actions}

    view = rt.db.run(read)
    t = translator(lang_of(request))
    return page(request, "audit.html", me=me, title=t("nav_audit"), nav="audit", entity=entity, actor=actor,
                action=action, page_no=page_no, **view)


# users (admins only) -----------------------------------------------------------------------------
def _users_page(request: Request, rt: Any, me: Any, *, error: str = "", status: int = 200,
                form: dict[str, str] | None = None) -> Response:
    users = rt.db.run(lambda s: [
        {"id": u.id, "username": u.username, "role": u.role, "active": u.active, "created_at": u.created_at}
        for u in s.scalars(select(User).order_by(User.id))
    ])
    t = translator(lang_of(request))
    return page(request, "users.html", me=me, status_code=status, title=t("nav_users"), nav="users",
                users=users, error=error, form=form or {"username": "", "role": "reviewer"})


@router.get("/users")
def users_page(request: Request, rt: RuntimeDep, me: AdminDep) -> Response:
    return _users_page(request, rt, me)


@router.post("/users")
def add_user(
    request: Request, rt: RuntimeDep, me: AdminDep, username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)], role: Annotated[Literal["reviewer", "admin"], Form()],
) -> Response:
    try:
        rt.db.run(lambda s: users_repo.create(s, username.strip(), password, role, actor=me.username))
    except ValueError as e:
        return _users_page(request, rt, me, error=str(e), status=400,
                           form={"username": username, "role": role})
    return redirect(with_flash(f"{PREFIX}/users", "user_added", username.strip()))


# mining runs -------------------------------------------------------------------------------------
MINING_COLUMNS = ("id", "started_at", "finished_at", "status", "source", "n_intents", "noise_share",
                  "embedder", "error")


def mining_runs(engine: Any, limit: int = 50) -> list[dict[str, Any]]:
    """Recent rows of ``mining_runs``, read by reflection: the miner owns that table and it may be absent."""
    if not inspect(engine).has_table("mining_runs"):
        return []
    table = Table("mining_runs", MetaData(), autoload_with=engine)
    cols = [table.c[name] for name in MINING_COLUMNS if name in table.c]
    order = table.c["id"].desc() if "id" in table.c else None
    with engine.connect() as conn:
        stmt = select(*cols).limit(limit)
        if order is not None:
            stmt = stmt.order_by(order)
        return [dict(row._mapping) for row in conn.execute(stmt)]


@router.get("/mining")
def mining_page(request: Request, rt: RuntimeDep, me: ReviewerDep) -> Response:
    t = translator(lang_of(request))
    return page(request, "mining.html", me=me, title=t("nav_mining"), nav="mining",
                runs=mining_runs(rt.db.engine))
