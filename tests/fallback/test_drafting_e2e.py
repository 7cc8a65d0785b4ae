"""Issue 4 end to end over HTTP: an unknown query is drafted by a tiny GLM through the real
``transformers`` backend, approved with an edit, and then served for the query and a paraphrase."""

from __future__ import annotations

import time

import httpx

from models.factory import build_generator
from models.settings import GeneratorSettings
from tests.fallback.conftest import call
from tests.fallback.test_review_api import login
from tests.models.gen_tiny_glm import build_tiny_glm

QUERY = "你们的直播间几点开播"


def test_draft_approve_edit_serve(start_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    folder = build_tiny_glm(tmp_path / "glm")
    gen = build_generator(GeneratorSettings(backend="transformers", model=str(folder)))
    rt, url = start_server(generator=gen, drafting={"poll_interval_s": 0.1, "max_draft_chars": 2000})
    started = time.perf_counter()
    first = call(url, QUERY, message_id="m1").json()
    assert first["action"] != "answer" and time.perf_counter() - started < 5  # never waits for the draft
    alice = login(url, rt, "alice")
    deadline = time.time() + 90
    cand = alice.get(f"/v1/review/candidates/{first['candidate_id']}").json()
    while cand["draft_status"] == "queued" and time.time() < deadline:
        time.sleep(0.3)
        cand = alice.get(f"/v1/review/candidates/{first['candidate_id']}").json()
    assert cand["draft_status"] == "drafted", cand
    assert cand["generator"].startswith("transformers") and cand["draft_latency_ms"] > 0
    assert "grounding" in cand["scores"] and "issues" in cand["flags"]
    edited = "您好，直播间每晚八点开播。"
    r = alice.post(
        f"/v1/review/candidates/{cand['id']}/approve", json={"version": cand["version"], "text": edited}
    )
    assert r.status_code == 200, r.text
    assert call(url, QUERY, message_id="m2").json()["answer"] == edited
    assert call(url, "你们的直播间几点开播呀？", message_id="m3").json()["answer"] == edited
    audit = alice.get("/v1/review/audit", params={"entity": "candidate", "entity_id": cand["id"]}).json()
    assert [i["action"] for i in audit["items"]] == ["approve_edited"]
    assert isinstance(httpx.get(f"{url}/healthz").json(), dict)
