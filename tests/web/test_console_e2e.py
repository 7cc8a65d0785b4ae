"""The reviewer console end to end in headless Chromium: log in, approve with an edit (answered at once by
the webhook), reject, stale-version message, audit history, CSRF and roles, language switch."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.web.conftest import GATING, PASSWORD, add_user, require_selenium

require_selenium()

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from fallback.store import review as review_repo  # noqa: E402
from tests.fallback.conftest import TOKENS  # noqa: E402

pytestmark = pytest.mark.browser

LIVE = "你们直播间几点开播，有主播讲解吗"
LIVE_2 = "你们直播间几点开播呢"
OFF_TOPIC = "今天天气怎么样"
EDITED = "您好，直播间每晚19:30开播，主播会现场讲解面料和尺码。"


def ask(url: str, query: str, message_id: str) -> dict[str, Any]:
    body = {"query": query, "user_id": "u-1", "conversation_id": "c-1", "message_id": message_id}
    r = httpx.post(f"{url}/v1/fallback", json=body, headers={"X-Backstop-Token": TOKENS[0]}, timeout=30)
    assert r.status_code == 200, r.text
    return dict(r.json())


def wait(driver: WebDriver, timeout: float = 10) -> WebDriverWait:  # type: ignore[type-arg]
    return WebDriverWait(driver, timeout)


def log_in(driver: WebDriver, url: str, username: str, start: str = "/review/queue") -> None:
    driver.get(url + start)
    wait(driver).until(ec.url_contains("/review/login"))
    driver.find_element(By.ID, "username").send_keys(username)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.ID, "login-submit").click()
    wait(driver).until(ec.presence_of_element_located((By.ID, "logout")))
    assert driver.current_url.startswith(url + start)


def log_out(driver: WebDriver) -> None:
    driver.find_element(By.ID, "logout").click()
    wait(driver).until(ec.url_contains("/review/login"))


def row_ids(driver: WebDriver) -> list[int]:
    rows = driver.find_elements(By.CSS_SELECTOR, "#queue tbody tr")
    return [int(r.get_attribute("data-id") or 0) for r in rows]


def press(driver: WebDriver, key: str) -> None:
    driver.find_element(By.TAG_NAME, "body").send_keys(key)


def flash(driver: WebDriver) -> str:
    return str(wait(driver).until(ec.visibility_of_element_located((By.ID, "flash"))).text)


def test_review_flow_in_the_browser(console_server, page: WebDriver) -> None:  # type: ignore[no-untyped-def]
    rt, url = console_server(gating=GATING)
    live = ask(url, LIVE, "m1")
    assert live["action"] != "answer" and live["candidate_id"]
    assert ask(url, LIVE_2, "m2")["candidate_id"] == live["candidate_id"]  # grouped: asked twice
    off = ask(url, OFF_TOPIC, "m3")["candidate_id"]
    add_user(rt, "alice")
    add_user(rt, "root", role="admin")

    # the queue asks for a login first, then shows both questions, most asked first
    log_in(page, url, "alice")
    assert page.find_element(By.ID, "count-pending").text.split()[-1] == "2"
    assert row_ids(page) == [live["candidate_id"], off]
    rows = page.find_elements(By.CSS_SELECTOR, "#queue tbody tr")

    # keyboard: j/k move the selection, Enter opens it
    press(page, "j")
    assert "selected" in (rows[1].get_attribute("class") or "")
    press(page, "k")
    press(page, Keys.ENTER)
    wait(page).until(ec.url_contains(f"/review/candidates/{live['candidate_id']}"))
    examples = page.find_elements(By.CSS_SELECTOR, "#examples input[name=paraphrases]")
    assert len(examples) == 2 and all(e.is_selected() for e in examples)

    # edit the answer and approve: the webhook answers with it at once
    text = page.find_element(By.ID, "answer-text")
    text.clear()
    text.send_keys(EDITED)
    page.find_element(By.ID, "approve-edited").click()
    assert f"#{live['candidate_id']}" in flash(page)
    for i, query in enumerate((LIVE, LIVE_2)):
        served = ask(url, query, f"after-{i}")
        assert served["action"] == "answer" and served["answer"] == EDITED

    # reject the other from the queue: r opens the reason dialog, Enter submits it
    assert row_ids(page) == [off]
    press(page, "r")
    dialog_reason = (By.CSS_SELECTOR, "#reject-dialog input[name=reason]")
    reason = wait(page).until(ec.visibility_of_element_located(dialog_reason))
    reason.send_keys("与店铺无关", Keys.ENTER)
    assert f"#{off}" in flash(page)
    assert page.find_elements(By.ID, "queue-empty")

    # a form posted without the session's CSRF token is refused
    session = {c["name"]: c["value"] for c in page.get_cookies()}
    forged = httpx.post(f"{url}/review/candidates/{off}/reject", data={"version": 1, "reason": "x"},
                        cookies=session, timeout=30)
    assert forged.status_code == 403

    # a stale version gets a clear message (and keeps the reviewer's text), not a crash
    stale = ask(url, "你们店的老板是谁", "m4")["candidate_id"]
    page.get(f"{url}/review/candidates/{stale}")
    rt.db.run(lambda s: review_repo.reject(s, stale, expected_version=1, actor="bob", reason="重复"))
    page.find_element(By.ID, "answer-text").send_keys("我写了一半的答案")
    page.find_element(By.ID, "approve-edited").click()
    banner = wait(page).until(ec.visibility_of_element_located((By.ID, "stale")))
    assert "已被更新" in banner.text
    assert page.find_element(By.ID, "answer-text").get_attribute("value") == "我写了一半的答案"
    assert page.find_element(By.ID, "cand-status").text == "已拒绝"

    # both decisions are in the audit history, with who did it and what changed
    page.get(f"{url}/review/audit?entity=candidate")
    approved = page.find_element(By.CSS_SELECTOR, f"#audit tr[data-entity-id='{live['candidate_id']}']")
    assert approved.get_attribute("data-action") == "approve_edited" and "alice" in approved.text
    assert "已批准" in approved.text
    rejected = page.find_element(By.CSS_SELECTOR, f"#audit tr[data-entity-id='{off}']")
    assert rejected.get_attribute("data-action") == "reject" and "与店铺无关" in rejected.text
    page.get(f"{url}/review/audit?entity=answer&action=create&actor=alice")
    assert EDITED in page.find_element(By.ID, "audit").text

    # reviewers are refused on the admin page; admins can add users there
    page.get(f"{url}/review/users")
    assert "仅管理员" in page.find_element(By.ID, "error").text
    assert not page.find_elements(By.CSS_SELECTOR, ".mainnav a[href$='/users']")
    log_out(page)
    log_in(page, url, "root", start="/review/users")
    form = page.find_element(By.ID, "add-user")
    form.find_element(By.NAME, "username").send_keys("carol")
    form.find_element(By.NAME, "password").send_keys("carol-password-1")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    assert "carol" in flash(page) and "carol" in page.find_element(By.ID, "users").text

    # the language switch is remembered
    page.find_element(By.CSS_SELECTOR, "a[hreflang=en]").click()
    wait(page).until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, ".mainnav"), "Queue"))
    page.get(f"{url}/review/dashboard")
    assert "Automated coverage" in page.page_source


def test_wrong_password_and_logout(console_server, page: WebDriver) -> None:  # type: ignore[no-untyped-def]
    rt, url = console_server()
    add_user(rt, "alice")
    page.get(f"{url}/review/login")
    page.find_element(By.ID, "username").send_keys("alice")
    page.find_element(By.ID, "password").send_keys("not-the-password")
    page.find_element(By.ID, "login-submit").click()
    # the form posts and the server answers with a new page: wait for it, not for the click
    error = wait(page).until(ec.presence_of_element_located((By.ID, "login-error")))
    assert "用户名或密码错误" in error.text
    log_in(page, url, "alice")
    cookie = next(c for c in page.get_cookies() if c["name"] == "backstop_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    log_out(page)
    page.get(f"{url}/review/answers")
    assert "/review/login" in page.current_url
