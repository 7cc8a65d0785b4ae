"""Every main page of the console renders in Chromium without script or CSP errors, on realistic data.

The same run writes the screenshots used by docs/console.md: set ``BACKSTOP_SCREENSHOTS=docs/screenshots``
(relative to the repository) to refresh them; otherwise they go to the test's temporary directory.
"""

from __future__ import annotations

import os
import struct
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from fallback.store import answers as answers_repo
from fallback.store import events as events_repo
from fallback.store.schema import Candidate
from tests.web.conftest import REPO, add_user, require_selenium
from tests.web.test_console_e2e import ask, flash, log_in, press

require_selenium()

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402

pytestmark = pytest.mark.browser

# (question, times asked, wordings that group with it)
ASKED = [
    ("你们直播间几点开播", 6, ["直播间几点开播啊", "你们直播间几点开播呢"]),
    ("衣服洗了会缩水吗", 4, ["洗了会不会缩水"]),
    ("我要投诉，退款三天了还没到账", 3, ["退款怎么还没到账"]),
    ("羽绒服充绒量是多少", 3, []),
    ("可以用京东快递发货吗", 2, []),
    ("下单送不送赠品", 2, []),
    ("今天天气怎么样", 1, []),
]
# What the drafting worker would have written (the tests run without a language model):
# question -> (draft, flags, grounding score)
DRAFTS: dict[str, tuple[str, dict[str, Any], float]] = {
    "你们直播间几点开播": (
        "您好，直播间每晚19:30开播，主播会讲解面料、尺码和搭配，开播前可以先关注店铺哦。",
        {"unsupported_numbers": ["19:30"], "issues": ["unsupported_numbers"]}, 0.62),
    "衣服洗了会缩水吗": (
        "您好，我们的棉质衣物都经过预缩处理，按洗标说明冷水手洗或轻柔机洗，基本不会缩水。",
        {"issues": []}, 0.71),
    "我要投诉，退款三天了还没到账": (
        "非常抱歉让您久等了。退款审核通过后会在1-3个工作日内原路退回，我马上为您催促处理。",
        {"risk_terms": ["退款"], "issues": ["risk_terms"]}, 0.83),
    "羽绒服充绒量是多少": (
        "您好，这款羽绒服的充绒量请以商品详情页的规格参数为准，不同尺码略有差异。",
        {"issues": []}, 0.55),
}
SHOTS = ("login", "queue", "candidate", "answers", "audit", "dashboard")


def seed(rt: Any, url: str) -> dict[str, int]:
    """Questions asked through the webhook, drafts, ages, and two weeks of earlier traffic."""
    ids: dict[str, int] = {}
    n = 0
    for question, times, wordings in ASKED:
        for i in range(times):
            n += 1
            text = ([question, *wordings])[i % (1 + len(wordings))]
            ids.setdefault(question, ask(url, text, f"seed-{n}")["candidate_id"])
    now = datetime.now(UTC)

    def write(s: Any) -> None:
        for k, (question, cid) in enumerate(ids.items()):
            values: dict[str, Any] = {"first_seen": now - timedelta(hours=3 + 7 * k)}
            if question in DRAFTS:
                draft, flags, grounding = DRAFTS[question]
                values |= {"draft": draft, "draft_status": "drafted", "flags": flags,
                           "scores": {"grounding": grounding, "chars": float(len(draft))},
                           "generator": "qwen2.5-7b-instruct", "draft_latency_ms": 1840.0}
            s.execute(update(Candidate).where(Candidate.id == cid).values(**values))
    rt.db.run(write)

    def history(tx: Any) -> None:
        # two weeks of earlier webhook calls, the automated share growing as answers are approved
        for day in range(15):
            calls, share = (40 + (day * 7) % 23) // (3 if day == 0 else 1), 0.78 - day * 0.018
            for j in range(calls):
                action = "answer" if j < calls * share else ("pending_review" if j % 3 else "handoff")
                answer_id = 1 + (j * j) % 10 if action == "answer" else None  # the demo answers, unevenly
                if answer_id:
                    answers_repo.add_hits(tx, {answer_id: 1})
                at = now - timedelta(days=day, minutes=j * (1 if day == 0 else 7))
                events_repo.insert_event(
                    tx, trace_id=f"demo-{day}-{j}", created_at=at, conversation_id=f"demo-{day}-{j}",
                    user_id="demo", query="（演示数据）", action=action, reason="demo",
                    confidence=0.9 if answer_id else 0.4, answer_id=answer_id)

    rt.db.run_tx(history)
    return ids


def press_in(element: Any, key: str) -> None:
    """A key press wherever the focus is (the dialog focuses its confirm button)."""
    element.parent.switch_to.active_element.send_keys(key)


def page_errors(driver: Any) -> list[str]:
    """Console errors since the last call: script errors and CSP refusals."""
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def shoot(driver: WebDriver, out: Path, name: str) -> Path:
    """A full-page PNG: the window is made tall enough for the page (its frame takes ~150 px)."""
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1360, min(max(900, int(height) + 160), 1700))
    path = out / f"{name}.png"
    driver.save_screenshot(str(path))
    driver.set_window_size(1360, 900)
    return path


def test_main_pages_render_cleanly(console_server, page: WebDriver, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    target = os.environ.get("BACKSTOP_SCREENSHOTS")
    out = (REPO / target) if target else tmp_path
    out.mkdir(parents=True, exist_ok=True)
    rt, url = console_server()
    ids = seed(rt, url)
    add_user(rt, "王芳")

    page.get(f"{url}/review/login")
    shoot(page, out, "login")
    log_in(page, url, "王芳")
    # a few decisions, so the audit page and the dashboard have something to show
    for question, mode in (("衣服洗了会缩水吗", "approve-draft"), ("羽绒服充绒量是多少", "approve-edited")):
        page.get(f"{url}/review/candidates/{ids[question]}")
        if mode == "approve-edited":
            page.find_element(By.ID, "answer-text").send_keys("充绒量约200克（M码）。")
        page.find_element(By.ID, mode).click()
        flash(page)
    page.get(f"{url}/review/candidates/{ids['今天天气怎么样']}")
    page.find_element(By.ID, "reject-reason").send_keys("与店铺无关")
    page.find_element(By.ID, "reject-submit").click()
    flash(page)
    ask(url, "衣服洗了会缩水吗", "after-approve")
    page_errors(page)

    pages = {
        "queue": "/review/queue", "candidate": f"/review/candidates/{ids['我要投诉，退款三天了还没到账']}",
        "answers": "/review/answers", "audit": "/review/audit", "dashboard": "/review/dashboard",
        "mining": "/review/mining", "answer": "/review/answers/1",
    }
    for name, path in pages.items():
        page.get(url + path)
        assert page.find_elements(By.CSS_SELECTOR, ".topbar .mainnav a.active"), name
        assert not page_errors(page), name
        if name in SHOTS:
            shoot(page, out, name)
        if name == "candidate":
            assert page.find_element(By.ID, "safe-to-autosend").is_displayed()
            assert "风险: 退款" in page.find_element(By.CSS_SELECTOR, ".page-head .meta").text
        if name == "dashboard":
            assert len(page.find_elements(By.CSS_SELECTOR, "svg.chart")) == 4
    # the quick approval from the queue: a opens the confirmation, Enter approves the draft as written
    page.get(f"{url}/review/queue")
    press(page, "a")
    dialog = page.find_element(By.ID, "approve-dialog")
    assert dialog.is_displayed() and "直播间" in dialog.text
    press_in(dialog, Keys.ENTER)
    assert f"#{ids['你们直播间几点开播']}" in flash(page)
    for name in SHOTS:
        png = (out / f"{name}.png").read_bytes()
        width, height = struct.unpack(">II", png[16:24])
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and width == 1360 and height >= 600, name
