"""``POST /v1/fallback``: the route Coze calls on the intent node's default branch."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response

from fallback.api.deps import RuntimeDep, ServiceAuth
from fallback.api.dispatch import Dispatcher, wait_for
from fallback.api.schemas import ErrorOut, FallbackIn, FallbackOut
from fallback.logs import new_trace_id
from fallback.runtime import Runtime
from fallback.service import FallbackRequest, FallbackResult
from fallback.store.events import SANITISED_SEPARATOR

log = logging.getLogger(__name__)
router = APIRouter(tags=["fallback"])

COZE_HEADERS = {
    "x-aiplugin-bot-id": "bot_id",
    "x-aiplugin-conversation-id": "conversation_id",
    "x-aiplugin-connector-identifier": "user_id",
}


def _reply(out: FallbackOut) -> Response:
    # serialised once by pydantic's Rust core; returning the model would make FastAPI validate it
    # again against response_model and encode it through jsonable_encoder (measured on the hot path)
    return Response(out.model_dump_json(), media_type="application/json")


@router.post(
    "/v1/fallback",
    response_model=FallbackOut,
    dependencies=[ServiceAuth],
    operation_id="fallback",
    summary="Answer a query the bot did not recognise",
    responses={401: {"model": ErrorOut}, 413: {"model": ErrorOut}, 422: {"model": ErrorOut}},
)
async def fallback(body: FallbackIn, request: Request, rt: RuntimeDep) -> Response:
    """Decide within the deadline: answer, pending_review, handoff or blocked (always HTTP 200)."""
    if len(body.query) > rt.settings.server.max_query_chars:
        raise HTTPException(422, f"query longer than {rt.settings.server.max_query_chars} characters")
    return _reply(await decide(request.app.state, rt, body, request.headers))


async def decide(state: Any, rt: Runtime, body: FallbackIn, headers: Mapping[str, str]) -> FallbackOut:
    """The webhook once the call is authorised and valid (shared with :mod:`fallback.api.fastpath`)."""
    limits = state.limits
    if not limits["user"].allow(body.user_id) or (body.bot_id and not limits["bot"].allow(body.bot_id)):
        state.metrics.decisions.labels("handoff", "rate_limited").inc()
        return _handoff(rt, "rate_limited")
    client = {v: headers[k] for k, v in COZE_HEADERS.items() if k in headers}
    if body.sanitised:  # the event log stores it as a list (fallback.store.events.sanitise)
        client["sanitised"] = SANITISED_SEPARATOR.join(body.sanitised)
    req = FallbackRequest(
        query=body.query, user_id=body.user_id, conversation_id=body.conversation_id,
        message_id=body.message_id, bot_id=body.bot_id,
        history=[t.model_dump() for t in body.history], slots=body.slots, locale=body.locale, client=client,
    )
    dispatcher: Dispatcher[FallbackRequest, FallbackResult] = state.dispatcher
    try:
        # at the deadline the bot gets a hand-off, and the call still runs and is logged
        result = await wait_for(dispatcher.submit(req), rt.settings.server.deadline_s)
        state.metrics.decisions.labels(result.action, result.reason).inc()
        return FallbackOut(**result.as_dict())
    except TimeoutError:
        reason = "deadline"
        log.warning("fallback.deadline conversation_id=%s", rt.service.pseudonym(body.conversation_id))
    except Exception:  # a valid call always gets a 200 and a hand-off, never a tool failure
        reason = "internal_error"
        log.exception("fallback.failed conversation_id=%s", rt.service.pseudonym(body.conversation_id))
    state.metrics.decisions.labels("handoff", reason).inc()
    return _handoff(rt, reason)


def _handoff(rt: Runtime, reason: str) -> FallbackOut:
    return FallbackOut(action="handoff", answer=rt.settings.gating.handoff_text, confidence=0.0,
                       answer_id=None, candidate_id=None, reason=reason, trace_id=new_trace_id())


@router.get("/v1/coze-plugin.json", include_in_schema=False)
def coze_plugin(request: Request, response: Response, rt: RuntimeDep) -> dict[str, object]:
    """The OpenAPI 3.0 spec to import into Coze as a plugin (see docs/coze.md)."""
    from coze.plugin_spec import coze_plugin_spec, server_problems

    base = rt.settings.server.public_url or str(request.base_url).rstrip("/")
    problems = server_problems(base)
    if problems:  # served anyway (a local test import), but said where it will be seen
        log.warning("coze_plugin.server_unreachable problems=%s", problems)
        response.headers["X-Backstop-Warning"] = "; ".join(problems)
    return coze_plugin_spec(base)
