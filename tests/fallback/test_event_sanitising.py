"""Values PostgreSQL cannot store (NUL characters, NaN/Infinity/1e999, lone surrogates) are sanitised with
a reason in the event, never dropped: every call of these is in the log, on SQLite and on PostgreSQL."""

from __future__ import annotations

import math

import httpx
from sqlalchemy import select

from fallback.store.events import sanitise
from fallback.store.schema import Candidate, Event
from tests.fallback.conftest import TOKENS

HEADERS = {"X-Backstop-Token": TOKENS[0], "Content-Type": "application/json"}

# raw JSON bodies (NaN, Infinity and 1e999 are what a client's JSON encoder may send)
BODIES = {
    "nan": '{"query":"什么时候发货","user_id":"u1","conversation_id":"c1","message_id":"nan",'
           '"slots":{"price":NaN}}',
    "infinity": '{"query":"什么时候发货","user_id":"u1","conversation_id":"c1","message_id":"inf",'
                '"slots":{"price":-Infinity,"nested":{"list":[1,Infinity]}}}',
    "overflow": '{"query":"什么时候发货","user_id":"u1","conversation_id":"c1","message_id":"big",'
                '"slots":{"price":1e999}}',
    "nul_user": '{"query":"什么时候发货","user_id":"u\\u00001","conversation_id":"c1","message_id":"nu"}',
    "nul_query": '{"query":"你们直播间几点\\u0000开播，主播讲不讲面料","user_id":"u1",'
                 '"conversation_id":"c\\u00002","message_id":"nq",'
                 '"history":[{"role":"user","content":"在\\u0000吗"}]}',
    "nul_slot": '{"query":"什么时候发货","user_id":"u1","conversation_id":"c1","message_id":"ns",'
                '"slots":{"k\\u0000ey":"v\\u0000al","ok":"fine"}}',
    "surrogate": '{"query":"你们直播间几点开播，主播讲不讲版型","user_id":"u1","conversation_id":"c3",'
                 '"message_id":"sg","slots":{"note":"\\ud83d"}}',
}


def test_unstorable_values_are_sanitised_and_every_event_is_logged(start_server) -> None:  # type: ignore[no-untyped-def]
    # the fast path parses NaN and 1e999 itself; a lone surrogate it refuses goes on to the FastAPI route
    rt, url = start_server()
    responses = {}
    for name, body in BODIES.items():
        r = httpx.post(f"{url}/v1/fallback", content=body.encode(), headers=HEADERS, timeout=30)
        assert r.status_code == 200, (name, r.text)
        assert r.json()["reason"] != "internal_error", (name, r.json())
        responses[name] = r.json()
    with rt.db.session() as s:
        events = {e.trace_id: e for e in s.scalars(select(Event))}
        assert len(events) == len(BODIES)
        by_name = {name: events[r["trace_id"]] for name, r in responses.items()}
        for name, ev in by_name.items():
            blob = repr((ev.query, ev.user_id, ev.conversation_id, ev.slots, ev.client))
            assert "\x00" not in blob, name
            assert ev.client.get("sanitised"), (name, ev.client)
        assert by_name["nan"].slots["price"] == "NaN"
        assert by_name["infinity"].slots["price"] == "-Infinity"
        assert by_name["infinity"].slots["nested"]["list"] == [1, "Infinity"]
        assert by_name["overflow"].slots["price"] == "Infinity"
        assert "slots: non-finite number stored as text" in by_name["nan"].client["sanitised"]
        assert "user_id: NUL removed" in by_name["nul_user"].client["sanitised"]
        assert by_name["nul_query"].query.startswith("你们直播间几点开播")
        assert {"query: NUL removed", "conversation_id: NUL removed", "history: NUL removed"} <= set(
            by_name["nul_query"].client["sanitised"]
        )
        assert by_name["nul_slot"].slots == {"key": "val", "ok": "fine"}
        assert by_name["surrogate"].slots["note"] == "\ufffd"
        assert "slots: lone surrogate replaced" in by_name["surrogate"].client["sanitised"]
        cand = s.get(Candidate, responses["surrogate"]["candidate_id"])
        assert cand is not None and "\ud83d" not in repr(cand.context)


def test_a_clean_call_records_no_sanitising(start_server) -> None:  # type: ignore[no-untyped-def]
    rt, url = start_server()
    body = '{"query":"什么时候发货","user_id":"u1","conversation_id":"c1","slots":{"price":9.5}}'
    r = httpx.post(f"{url}/v1/fallback", content=body.encode(), headers=HEADERS, timeout=30)
    assert r.status_code == 200
    with rt.db.session() as s:
        ev = s.scalars(select(Event)).one()
        assert "sanitised" not in ev.client and ev.slots == {"price": 9.5}


def test_store_sanitises_what_reached_it_and_says_why() -> None:
    fields = {"query": "a\x00b", "user_id": "u", "slots": {"x": math.nan, "y\x00": ["\ud800", 1.0]},
              "client": {}, "confidence": 0.5}
    clean = sanitise(fields)
    assert clean["query"] == "ab" and clean["slots"] == {"x": "NaN", "y": ["\ufffd", 1.0]}
    assert clean["client"]["sanitised"] == [
        "query: NUL removed", "slots: NUL removed", "slots: lone surrogate replaced",
        "slots: non-finite number stored as text",
    ]
    assert fields["query"] == "a\x00b"  # the input is not modified
    untouched = {"query": "ok", "slots": {"x": 1.5}, "client": {"bot_id": "b"}}
    assert sanitise(untouched) == untouched
