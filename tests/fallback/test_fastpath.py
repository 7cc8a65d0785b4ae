"""The webhook's fast path answers like the FastAPI route and leaves every error to it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx

from fallback.api.body import read_body, replay
from tests.fallback.conftest import TOKENS, call


def _metric(url: str, name: str) -> float:
    for line in httpx.get(f"{url}/metrics").text.splitlines():
        if line.startswith(name):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_served_calls_match_the_documented_response_and_are_timed(start_server) -> None:  # type: ignore[no-untyped-def]
    _rt, url = start_server()
    count = 'backstop_request_seconds_count{route="/v1/fallback",status="200"}'
    before = _metric(url, count)
    headers = {"Authorization": f"Bearer {TOKENS[1]}", "Content-Type": "application/json; charset=utf-8"}
    ask = {"query": "怎么开发票", "user_id": "u", "conversation_id": "c"}
    r = httpx.post(f"{url}/v1/fallback", json=ask, headers=headers)
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    assert int(r.headers["content-length"]) == len(r.content)
    body = r.json()
    assert set(body) == {"action", "answer", "confidence", "answer_id", "candidate_id", "reason", "trace_id"}
    assert body["action"] == "answer"
    assert _metric(url, count) == before + 1


def test_errors_keep_the_frameworks_shape(start_server) -> None:  # type: ignore[no-untyped-def]
    _rt, url = start_server(server={"max_body_bytes": 2048})
    ok = {"query": "怎么开发票", "user_id": "u", "conversation_id": "c"}
    wrong = httpx.post(f"{url}/v1/fallback", json=ok, headers={"X-Backstop-Token": "nope"})
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"
    assert wrong.json()["error"]
    as_text = httpx.post(f"{url}/v1/fallback", content=b"query=hi", headers={
        "X-Backstop-Token": TOKENS[0], "Content-Type": "text/plain"})
    assert as_text.status_code == 422 and as_text.json()["error"]

    def chunks() -> Iterator[bytes]:  # streamed, no Content-Length: the limit is found while reading
        yield b'{"query": "'
        for _ in range(10):
            yield b"a" * 500
        yield b'", "user_id": "u", "conversation_id": "c"}'

    streamed = httpx.post(f"{url}/v1/fallback", content=chunks(), headers={
        "X-Backstop-Token": TOKENS[0], "Content-Type": "application/json"})
    assert streamed.status_code == 413 and streamed.json()["error"]
    assert call(url, "怎么开发票").status_code == 200  # still serving


def test_a_body_read_in_part_is_replayed_whole_to_the_app() -> None:
    async def scenario() -> list[dict[str, Any]]:
        queue = [{"type": "http.request", "body": b"ab", "more_body": True},
                 {"type": "http.request", "body": b"cd", "more_body": True},
                 {"type": "http.request", "body": b"ef", "more_body": False}]

        async def receive() -> dict[str, Any]:
            return queue.pop(0)

        body = await read_body(receive, limit=3)  # over the limit after "abcd"
        assert (body.data, body.complete, body.over_limit, body.gone) == (b"abcd", False, True, None)
        replayed = replay(body, receive)
        return [await replayed(), await replayed()]

    first, rest = asyncio.run(scenario())
    assert first == {"type": "http.request", "body": b"abcd", "more_body": True}
    assert rest == {"type": "http.request", "body": b"ef", "more_body": False}


def test_a_body_over_the_limit_in_one_message_is_over_the_limit() -> None:
    async def scenario() -> Any:
        async def receive() -> dict[str, Any]:  # the whole body in one message, as a fast client sends it
            return {"type": "http.request", "body": b"x" * 10, "more_body": False}

        return await read_body(receive, limit=4)

    body = asyncio.run(scenario())
    assert body.complete and body.over_limit and not body.usable


def test_a_client_gone_mid_body_is_passed_on() -> None:
    async def scenario() -> list[dict[str, Any]]:
        queue = [{"type": "http.request", "body": b"{", "more_body": True}, {"type": "http.disconnect"}]

        async def receive() -> dict[str, Any]:
            return queue.pop(0)

        body = await read_body(receive, limit=100)
        assert not body.usable and not body.over_limit
        replayed = replay(body, receive)
        return [await replayed(), await replayed()]

    first, gone = asyncio.run(scenario())
    assert first["body"] == b"{" and first["more_body"] is True and gone == {"type": "http.disconnect"}
