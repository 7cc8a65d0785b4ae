"""The console over plain HTTP (runs without a browser): cookies, CSRF, redirects, headers, error pages."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import select

from fallback.store import answers as answers_repo
from fallback.store import review as review_repo
from fallback.store.schema import Answer
from tests.fallback.conftest import call
from tests.web.conftest import GATING, PASSWORD, add_user


def login(url: str, username: str, next_url: str = "") -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=30)
    form = client.get("/review/login")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert token, form.text
    r = client.post("/review/login", data={"username": username, "password": PASSWORD, "csrf": token.group(1),
                                           "next": next_url})
    assert r.status_code == 303, r.text
    return client


def csrf_of(client: httpx.Client, path: str = "/review/queue") -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', client.get(path).text)
    assert match
    return match.group(1)


def test_sessions_csrf_and_redirects(console_server) -> None:  # type: ignore[no-untyped-def]
    rt, url = console_server()
    add_user(rt, "alice")
    anonymous = httpx.get(f"{url}/review/answers?q=发票", timeout=30)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/review/login?next=/review/answers")

    page = httpx.get(f"{url}/review/login", timeout=30)
    for header in ("content-security-policy", "x-frame-options", "x-content-type-options"):
        assert header in page.headers
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"
    # a login form posted from elsewhere (no double-submit cookie) is refused
    forged = httpx.post(f"{url}/review/login", data={"username": "alice", "password": PASSWORD, "csrf": "x"})
    assert forged.status_code == 403 and "text/html" in forged.headers["content-type"]

    client = httpx.Client(base_url=url, timeout=30)
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/review/login").text).group(1)  # type: ignore[union-attr]
    r = client.post("/review/login", data={"username": "alice", "password": PASSWORD, "csrf": token,
                                           "next": "https://evil.example/"})
    assert r.status_code == 303 and r.headers["location"] == "/review/queue"
    cookie = next(v for k, v in r.headers.multi_items() if k == "set-cookie" and "backstop_session" in v)
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie  # http here

    cid = call(url, "今天天气怎么样", message_id="m1").json()["candidate_id"]
    no_token = client.post(f"/review/candidates/{cid}/reject", data={"version": 1, "reason": "无关"})
    assert no_token.status_code == 403 and "表单已过期" in no_token.text
    ok = client.post(f"/review/candidates/{cid}/reject",
                     data={"version": 1, "reason": "无关", "csrf": csrf_of(client), "next": "/review/queue"})
    assert ok.status_code == 303 and ok.headers["location"].endswith(f"msg=rejected&id={cid}")
    stale = client.post(f"/review/candidates/{cid}/reject",
                        data={"version": 1, "reason": "再拒", "csrf": csrf_of(client)})
    assert stale.status_code == 409 and 'id="stale"' in stale.text

    client.post("/review/logout", data={"csrf": csrf_of(client)})
    assert client.get("/review/queue").status_code == 303


def test_error_pages_and_roles(console_server) -> None:  # type: ignore[no-untyped-def]
    rt, url = console_server()
    add_user(rt, "alice")
    add_user(rt, "root", role="admin")
    alice = login(url, "alice")
    missing = alice.get("/review/candidates/999")
    assert missing.status_code == 404 and "找不到" in missing.text
    cid = call(url, "你们店的老板是谁", message_id="m1").json()["candidate_id"]
    empty = alice.post(f"/review/candidates/{cid}/approve", data={"version": 1, "mode": "draft",
                                                                 "csrf": csrf_of(alice)})
    assert empty.status_code == 400 and "nothing to approve" in empty.text  # no draft yet: nothing to approve
    assert alice.get("/review/users").status_code == 403
    refused = alice.post("/review/users", data={"username": "eve", "password": "eve-password-1",
                                                "role": "admin", "csrf": csrf_of(alice)})
    assert refused.status_code == 403 and "eve" not in login(url, "root").get("/review/users").text
    # "same question": the wordings become keys of an existing answer instead of a new answer
    asked = "运费到底要多少钱"
    merge_cid = call(url, asked, message_id="m2").json()["candidate_id"]
    freight = rt.db.run(lambda s: answers_repo.snapshot(
        s.scalars(select(Answer).where(Answer.question == "运费怎么算")).one()))
    page = alice.get(f"/review/candidates/{merge_cid}").text
    assert f'data-merge="{freight["id"]}"' in page
    r = alice.post(f"/review/candidates/{merge_cid}/approve", data={
        "version": 1, "pick": "1", "paraphrases": rt.db.run(lambda s: review_repo.get(s, merge_cid).query),
        "into": f"{freight['id']}:{freight['version']}", "text": "", "csrf": csrf_of(alice)})
    assert r.status_code == 303, r.text
    merged = rt.db.run(lambda s: answers_repo.snapshot(answers_repo.get(s, freight["id"])))
    assert len(merged["keys"]) == len(freight["keys"]) + 1 and merged["text"] == freight["text"]
    assert rt.db.run(lambda s: review_repo.get(s, merge_cid).answer_id) == freight["id"]
    # the JSON API keeps its JSON errors
    api = httpx.get(f"{url}/v1/review/candidates", timeout=30)
    assert api.status_code == 401 and api.json() == {"error": "login required"}
    assert alice.get("/review/static/console.css").headers["content-type"].startswith("text/css")
    assert alice.get("/review/static/..%2Fconsole.py").status_code == 404


def test_answer_edits_validity_and_retirement_take_effect_at_once(console_server) -> None:  # type: ignore[no-untyped-def]
    rt, url = console_server(gating=GATING)
    add_user(rt, "alice")
    alice = login(url, "alice")
    invoice = rt.db.run(lambda s: answers_repo.snapshot(
        s.scalars(select(Answer).where(Answer.question == "怎么开发票")).one()))
    assert call(url, "怎么开发票", message_id="m1").json()["action"] == "answer"
    listing = alice.get("/review/answers", params={"q": "发票"})
    assert f"/review/answers/{invoice['id']}" in listing.text and "命中次数" in listing.text

    new_text = "您好，确认收货后可在订单详情申请电子发票，1-3个工作日发到邮箱。"
    r = alice.post(f"/review/answers/{invoice['id']}", data={
        "version": invoice["version"], "text": new_text, "safe_to_autosend": "true",
        "valid_until": "2099-12-31T23:59", "add_keys": "能开专票吗\n", "remove_keys": "可以开发票吗",
        "csrf": csrf_of(alice)})
    assert r.status_code == 303 and "msg=saved" in r.headers["location"]
    served = call(url, "怎么开发票", message_id="m2").json()
    assert served["action"] == "answer" and served["answer"] == new_text
    saved = rt.db.run(lambda s: answers_repo.snapshot(answers_repo.get(s, invoice["id"])))
    assert saved["valid_until"] == "2099-12-31T15:59:00+00:00"  # entered as China time
    assert "能开专票吗" in saved["keys"] and "可以开发票吗" not in saved["keys"]

    page = alice.get(f"/review/answers/{invoice['id']}")
    assert 'value="2099-12-31T23:59"' in page.text  # shown back in China time
    r = alice.post(f"/review/answers/{invoice['id']}/status", data={
        "version": saved["version"], "status": "retired", "csrf": csrf_of(alice)})
    assert r.status_code == 303
    assert call(url, "怎么开发票", message_id="m3").json()["action"] != "answer"
    audit = alice.get("/review/audit", params={"entity": "answer", "actor": "alice"}).text
    assert "下线" in audit and "修改" in audit and new_text in audit
