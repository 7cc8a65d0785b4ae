"""Review workflow over HTTP: login, list, approve with an edit (served at once), 409s, audit, roles."""

from __future__ import annotations

import threading

import httpx

from fallback.store import users as users_repo
from tests.fallback.conftest import call

QUERY = "你们直播间几点开播，有主播讲解吗"


def login(
    url: str, rt, username: str, password: str = "correct-horse-1", role: str = "reviewer"
) -> httpx.Client:  # type: ignore[no-untyped-def]
    rt.db.run(lambda s: users_repo.create(s, username, password, role))
    client = httpx.Client(base_url=url, timeout=30)
    r = client.post("/v1/auth/login", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    client.headers["X-CSRF-Token"] = r.json()["csrf"]
    return client


def test_approve_with_edit_is_served_at_once(start_server) -> None:  # type: ignore[no-untyped-def]
    rt, url = start_server()
    first = call(url, QUERY, message_id="m1").json()
    assert first["action"] != "answer" and first["candidate_id"]
    alice = login(url, rt, "alice")
    listed = alice.get("/v1/review/candidates").json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == first["candidate_id"]
    cand = alice.get(f"/v1/review/candidates/{first['candidate_id']}").json()
    assert cand["status"] == "pending" and cand["examples"][0]["count"] == 1
    edited = "您好，直播间每晚19:30开播，主播会讲解面料和尺码。"
    r = alice.post(
        f"/v1/review/candidates/{cand['id']}/approve", json={"version": cand["version"], "text": edited}
    )
    assert r.status_code == 200, r.text
    assert r.json()["served_in_ms"] < 1000
    again = call(url, QUERY, message_id="m2").json()
    assert again["action"] == "answer" and again["answer"] == edited
    para = call(url, "你们直播间几点开播呢？有主播讲解吗", message_id="m3").json()
    assert para["action"] == "answer" and para["answer"] == edited
    audit = alice.get("/v1/review/audit", params={"entity": "candidate"}).json()["items"]
    assert audit[0]["action"] == "approve_edited" and audit[0]["actor"] == "alice"
    assert audit[0]["before"]["status"] == "pending" and audit[0]["after"]["status"] == "approved"


def test_concurrent_approvals_one_wins_one_gets_409(start_server) -> None:  # type: ignore[no-untyped-def]
    rt, url = start_server()
    cid = call(url, QUERY, message_id="m1").json()["candidate_id"]
    alice, bob = login(url, rt, "alice"), login(url, rt, "bob")
    version = alice.get(f"/v1/review/candidates/{cid}").json()["version"]
    statuses: list[int] = []
    barrier = threading.Barrier(2)

    def approve(client: httpx.Client, text: str) -> None:
        barrier.wait()
        statuses.append(
            client.post(
                f"/v1/review/candidates/{cid}/approve", json={"version": version, "text": text}
            ).status_code
        )

    threads = [threading.Thread(target=approve, args=(c, t)) for c, t in ((alice, "答案A"), (bob, "答案B"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200, 409]
    answers = alice.get("/v1/review/answers", params={"q": "答案"}).json()["items"]
    assert len(answers) == 1


def test_reject_needs_reason_and_is_audited(start_server) -> None:  # type: ignore[no-untyped-def]
    rt, url = start_server()
    cid = call(url, "今天天气怎么样", message_id="m1").json()["candidate_id"]
    alice = login(url, rt, "alice")
    v = alice.get(f"/v1/review/candidates/{cid}").json()["version"]
    assert (
        alice.post(f"/v1/review/candidates/{cid}/reject", json={"version": v, "reason": ""}).status_code
        == 422
    )
    r = alice.post(f"/v1/review/candidates/{cid}/reject", json={"version": v, "reason": "与店铺无关"})
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    stale = alice.post(f"/v1/review/candidates/{cid}/reject", json={"version": v, "reason": "again"})
    assert stale.status_code == 409
    items = alice.get("/v1/review/audit", params={"entity": "candidate", "entity_id": cid}).json()["items"]
    assert [i["action"] for i in items] == ["reject"]


def test_roles_csrf_and_tokens(start_server) -> None:  # type: ignore[no-untyped-def]
    rt, url = start_server()
    alice = login(url, rt, "alice")
    assert alice.get("/v1/admin/users").status_code == 403
    root = login(url, rt, "root", role="admin")
    assert root.get("/v1/admin/users").status_code == 200
    cid = call(url, QUERY, message_id="m1").json()["candidate_id"]
    no_csrf = httpx.Client(base_url=url, cookies=alice.cookies)
    r = no_csrf.post(f"/v1/review/candidates/{cid}/reject", json={"version": 1, "reason": "x"})
    assert r.status_code == 403
    assert httpx.get(f"{url}/v1/review/candidates").status_code == 401
    token = rt.db.run(lambda s: users_repo.issue_token(s, "alice"))
    r = httpx.get(f"{url}/v1/review/candidates", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and r.json()["total"] == 1
    bad = httpx.post(f"{url}/v1/auth/login", json={"username": "alice", "password": "nope"})
    assert bad.status_code == 401


def test_answer_edit_retire_and_validity(start_server) -> None:  # type: ignore[no-untyped-def]
    rt, url = start_server()
    alice = login(url, rt, "alice")
    created = alice.post(
        "/v1/review/answers",
        json={
            "question": "双十一有什么活动",
            "text": "双十一全场满300减50。",
            "keys": ["双11优惠是什么"],
            "safe_to_autosend": True,
        },
    ).json()["answer"]
    assert call(url, "双十一有什么活动", message_id="a").json()["answer"] == "双十一全场满300减50。"
    r = alice.patch(
        f"/v1/review/answers/{created['id']}",
        json={"version": created["version"], "valid_until": "2020-01-01T00:00:00Z"},
    )
    assert r.status_code == 200
    expired = call(url, "双十一有什么活动", message_id="b").json()
    assert expired["action"] != "answer"
    v = r.json()["answer"]["version"]
    assert (
        alice.patch(f"/v1/review/answers/{created['id']}", json={"version": v - 1, "text": "x"}).status_code
        == 409
    )
    r = alice.patch(
        f"/v1/review/answers/{created['id']}",
        json={"version": v, "status": "retired", "clear_validity": True},
    )
    assert r.status_code == 200 and r.json()["answer"]["status"] == "retired"
    assert call(url, "双十一有什么活动", message_id="c").json()["action"] != "answer"


def test_approval_on_one_instance_is_served_by_another_within_a_second(start_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import time

    rt_a, url_a = start_server(data_dir=tmp_path / "a")
    overrides = {} if rt_a.settings.database_url else {"database_url": rt_a.settings.resolved_database_url}
    _rt_b, url_b = start_server(data_dir=tmp_path / "b", **overrides)  # same database, own index file
    cid = call(url_a, QUERY, message_id="m1").json()["candidate_id"]
    alice = login(url_a, rt_a, "alice")
    v = alice.get(f"/v1/review/candidates/{cid}").json()["version"]
    assert (
        alice.post(
            f"/v1/review/candidates/{cid}/approve", json={"version": v, "text": "每晚八点开播。"}
        ).status_code
        == 200
    )
    approved_at = time.perf_counter()
    got = None
    while time.perf_counter() - approved_at < 3:
        got = call(url_b, QUERY, conversation_id="other", message_id=f"b{time.perf_counter()}").json()
        if got["action"] == "answer":
            break
        time.sleep(0.05)
    assert got is not None and got["action"] == "answer" and got["answer"] == "每晚八点开播。"
    assert time.perf_counter() - approved_at < 1.5
