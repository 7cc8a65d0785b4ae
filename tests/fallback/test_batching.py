"""Webhook calls run in batches: one thread takes what is queued; each call keeps its own outcome."""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from fallback.api.dispatch import Dispatcher
from fallback.runtime import build_runtime
from fallback.service import FallbackRequest, FallbackResult
from fallback.store.schema import Candidate, Event
from tests.fallback.conftest import TOKENS, hold_write_lock, make_settings


class Gate:
    """A ``handle_many`` that records its batches and can be held shut."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.open = threading.Event()
        self.open.set()
        self.entered = threading.Event()

    def __call__(self, reqs: list[str]) -> list[str | Exception]:
        self.entered.set()
        self.open.wait(10)
        self.batches.append(list(reqs))
        if "bug" in reqs:
            raise RuntimeError("batch path bug")
        return [ValueError(r) if r.startswith("bad") else r.upper() for r in reqs]


def test_calls_queued_while_the_thread_is_busy_run_as_one_batch() -> None:
    gate = Gate()
    d: Dispatcher[str, str] = Dispatcher(gate, max_batch=3).start()
    try:
        gate.open.clear()
        first = d.submit("a")
        assert gate.entered.wait(5)  # the thread is inside the first batch
        later = [d.submit(x) for x in ("b", "bad-c", "d", "e")]
        gate.open.set()
        assert first.result(5) == "A"
        assert [f.exception(5) is None for f in later] == [True, False, True, True]
        assert later[0].result() == "B" and later[2].result() == "D" and later[3].result() == "E"
        assert str(later[1].exception()) == "bad-c"  # its own error, the others unaffected
        assert gate.batches == [["a"], ["b", "bad-c", "d"], ["e"]]  # max_batch bounds a batch
    finally:
        d.stop()


def test_a_failing_batch_fails_only_its_calls_and_the_thread_goes_on() -> None:
    gate = Gate()
    d: Dispatcher[str, str] = Dispatcher(gate).start()
    try:
        with pytest.raises(RuntimeError, match="batch path bug"):
            d.submit("bug").result(5)
        assert d.submit("ok").result(5) == "OK"
    finally:
        d.stop()


def test_under_load_a_batch_lingers_for_more_calls_and_a_lone_call_does_not_wait() -> None:
    batches: list[list[str]] = []

    def slow(reqs: list[str]) -> list[str | Exception]:  # 20 ms a batch, whatever its size
        time.sleep(0.02)
        batches.append(list(reqs))
        return [r.upper() for r in reqs]

    d: Dispatcher[str, str] = Dispatcher(slow, max_batch=32, linger_s=0.5).start()
    try:
        for x in "abc":  # sparse calls: each runs at once, alone
            started = time.monotonic()
            assert d.submit(x).result(5) == x.upper()
            assert time.monotonic() - started < 0.3
            time.sleep(0.3)
        assert batches == [["a"], ["b"], ["c"]]
        batches.clear()
        steady = []
        for i in range(50):  # a call every 10 ms: without lingering, batches of two or three
            steady.append(d.submit(f"s{i}"))
            time.sleep(0.01)
        assert [f.result(5) for f in steady] == [f"S{i}" for i in range(50)]
        assert len(batches) <= 12 and max(map(len, batches)) >= 10, [len(b) for b in batches]
        full = [d.submit(f"f{i}") for i in range(32)]  # still loaded: a full batch does not wait
        started = time.monotonic()
        assert [f.result(5) for f in full] == [f"F{i}" for i in range(32)]
        assert time.monotonic() - started < 0.3
        time.sleep(1.0)  # the load is gone: a lone call runs at once again
        started = time.monotonic()
        assert d.submit("k").result(5) == "K"
        assert time.monotonic() - started < 0.3
    finally:
        d.stop()


def test_stop_runs_what_is_queued_then_refuses_new_calls() -> None:
    gate = Gate()
    d: Dispatcher[str, str] = Dispatcher(gate, threads=2).start()
    gate.open.clear()
    queued = [d.submit(x) for x in "abc"]
    assert gate.entered.wait(5)
    gate.open.set()
    d.stop()
    assert [f.result(0) for f in queued] == ["A", "B", "C"]
    with pytest.raises(RuntimeError, match="stopped"):
        d.submit("late")
    cancelled: Future[str] = Future()
    assert cancelled.cancel()  # a call its caller cancelled before it ran is skipped, not run
    d2: Dispatcher[str, str] = Dispatcher(gate)
    d2._run([("x", cancelled, 0.0)])
    assert gate.batches[-1] != ["x"]


@pytest.fixture
def runtime(default_embedder: Any, tmp_path: Path) -> Any:
    rt = build_runtime(make_settings(tmp_path), embedder=default_embedder, generator=None)
    yield rt
    rt.close()


def _req(query: str, msg: str, conv: str = "c-1") -> FallbackRequest:
    return FallbackRequest(query=query, user_id="u-1", conversation_id=conv, message_id=msg)


def test_a_batch_decides_as_calls_one_by_one(runtime: Any, tmp_path: Path, default_embedder: Any) -> None:
    queries = ["怎么开发票", "你们的直播间几点开播", "我要退款，钱什么时候到账", "怎么开发票",
               "直播间几点开播呀", "可以开发票吗？"]
    batch = runtime.service.handle_many([_req(q, f"m{i}") for i, q in enumerate(queries)])
    alone_rt = build_runtime(make_settings(tmp_path / "alone"), embedder=default_embedder, generator=None)
    try:
        alone = [alone_rt.service.handle(_req(q, f"m{i}")) for i, q in enumerate(queries)]
    finally:
        alone_rt.close()
    assert all(isinstance(r, FallbackResult) for r in batch)
    def gist(rs: list[Any]) -> list[tuple[str, str, int | None]]:
        return [(r.action, r.reason, r.answer_id) for r in rs]

    assert gist(batch) == gist(alone)
    assert [r.confidence for r in batch] == pytest.approx([r.confidence for r in alone], abs=1e-4)
    # both asks of the live stream joined one candidate, within the batch's own transaction
    assert batch[1].candidate_id is not None and batch[4].candidate_id == batch[1].candidate_id
    with runtime.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Event)) == len(queries)
        assert s.get(Candidate, batch[1].candidate_id).occurrences == 2


def test_a_retry_inside_the_same_batch_is_answered_from_the_first(runtime: Any) -> None:
    ask = _req("你们的直播间几点开播", "m1")
    out = runtime.service.handle_many([ask, ask])
    first, retry = out
    assert isinstance(first, FallbackResult) and isinstance(retry, FallbackResult)
    assert retry.replayed and retry.trace_id == first.trace_id and retry.candidate_id == first.candidate_id
    with runtime.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Event)) == 1


def test_a_batch_groups_past_a_candidate_another_worker_closed(runtime: Any) -> None:
    first = runtime.service.handle(_req("你们的直播间几点开播", "m0"))
    closed = first.candidate_id
    assert closed is not None
    with runtime.db.session() as s:  # rejected elsewhere: this grouper still holds it
        s.get(Candidate, closed).status = "rejected"
    out = runtime.service.handle_many([_req("直播间几点开播", "m1"), _req("直播间几点开播呀", "m2")])
    assert all(isinstance(r, FallbackResult) for r in out)
    # the first call met the closed candidate, dropped it and opened a new one; the second call of the
    # same batch, whose one index search also found the closed one, joined the new one
    fresh = out[0].candidate_id
    assert fresh is not None and fresh != closed and out[1].candidate_id == fresh
    assert closed not in runtime.service.grouper._index.ids()
    with runtime.db.session() as s:
        assert s.get(Candidate, fresh).occurrences == 2


def test_one_failing_call_does_not_fail_its_batch(runtime: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    encode = runtime.service.embedder.encode

    def picky(texts: list[str], **kw: Any) -> Any:
        if any("坏" in t for t in texts):
            raise RuntimeError("model failed on this text")
        return encode(texts, **kw)

    monkeypatch.setattr(runtime.service.embedder, "encode", picky)
    asks = [_req("怎么开发票", "m1"), _req("坏掉的问题", "m2"), _req("退货地址在哪", "m3")]
    out = runtime.service.handle_many(asks)
    assert isinstance(out[0], FallbackResult) and out[0].action == "answer"
    assert isinstance(out[1], RuntimeError)
    assert isinstance(out[2], FallbackResult)
    with runtime.db.session() as s:
        assert s.scalars(select(Event.message_id).order_by(Event.id)).all() == ["m1", "m3"]


def test_concurrent_http_calls_are_all_answered_and_logged(start_server) -> None:  # type: ignore[no-untyped-def]
    rt, url = start_server()
    results: list[dict[str, Any]] = []
    lock = threading.Lock()

    def send(i: int) -> None:
        query = ["怎么开发票", "你们几点发货", f"第{i}个新问题：面料起球吗"][i % 3]
        body = {"query": query, "user_id": f"u{i}", "conversation_id": f"c{i}", "message_id": "m"}
        r = httpx.post(f"{url}/v1/fallback", json=body, headers={"X-Backstop-Token": TOKENS[0]}, timeout=30)
        with lock:
            results.append(r.json())

    threads = [threading.Thread(target=send, args=(i,)) for i in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(results) == 24 and all(r["reason"] != "internal_error" for r in results)
    with rt.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Event)) == 24
    assert {r["trace_id"] for r in results} == set(
        rt.db.run(lambda s: s.scalars(select(Event.trace_id)).all())
    )


def test_the_deadline_hands_off_in_time_and_the_call_is_still_logged(  # type: ignore[no-untyped-def]
    start_server, database_url
) -> None:
    import time

    rt, url = start_server(server={"deadline_s": 1.0})
    auth = {"X-Backstop-Token": TOKENS[0]}
    late = {"query": "怎么开发票", "user_id": "u", "conversation_id": "c", "message_id": "late"}
    unlock = hold_write_lock(rt, database_url)
    try:
        started = time.perf_counter()
        r = httpx.post(f"{url}/v1/fallback", headers=auth, json=late, timeout=30)
        waited = time.perf_counter() - started
    finally:
        unlock()
    assert r.status_code == 200 and r.json()["action"] == "handoff" and r.json()["reason"] == "deadline"
    assert 0.9 <= waited < 3.0
    logged = None
    until = time.monotonic() + 20
    while logged is None and time.monotonic() < until:  # the call went on once the lock was gone
        logged = rt.db.run(lambda s: s.scalars(select(Event).where(Event.message_id == "late")).first())
        time.sleep(0.05)
    assert logged is not None and logged.action == "answer"
    again = httpx.post(f"{url}/v1/fallback", headers=auth, json=late, timeout=30)
    assert again.json()["trace_id"] == logged.trace_id  # a retry gets what was logged


def test_the_batch_settings_reach_the_dispatcher(runtime: Any) -> None:
    from fastapi.testclient import TestClient

    from fallback.api.app import create_app
    from fallback.settings import ServerSettings

    server = ServerSettings(webhook_batch=3, webhook_threads=2, webhook_linger_ms=7)
    settings = runtime.settings.model_copy(update={"server": server})
    app = create_app(settings, runtime=runtime)
    with TestClient(app):
        dispatcher = app.state.dispatcher
        assert dispatcher.max_batch == 3 and len(dispatcher._threads) == 2
        assert dispatcher.linger_s == pytest.approx(0.007)
        assert all(t.is_alive() for t in dispatcher._threads)
    assert not any(t.is_alive() for t in dispatcher._threads)  # stopped with the app
