"""The reviewer console in a real browser: a real Backstop server and headless Debian Chromium (Selenium).

Browser tests skip with a reason where ``/usr/bin/chromium`` (or Selenium) is missing, and fail under
``CI=true``: install them with ``bash scripts/browser.sh`` and ``pip install -e '.[test]'``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from fallback.runtime import Runtime, build_runtime
from fallback.store import users as users_repo
from tests.fallback.conftest import make_settings, serve

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM_FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
    "--window-size=1360,900", "--lang=zh-CN", "--force-device-scale-factor=1",
)
PASSWORD = "correct-horse-1"
# These tests are about the console, not the gate's calibration: an answer bar that every exact repeat of
# an approved question clears, whichever calibration the embedder has bundled.
GATING = {"answer_threshold": 0.5, "suggest_threshold": 0.05, "min_confidence": 0.5}


def _missing(reason: str, *, module: bool = False) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI runs the browser tests: bash scripts/browser.sh, pip install -e '.[test]'")
    pytest.skip(reason, allow_module_level=module)


def require_selenium() -> None:
    """Call at the top of a browser test module, before importing selenium."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        _missing("selenium is not installed (pip install -e '.[test]')", module=True)


@pytest.fixture
def console_server(default_embedder: Any, tmp_path: Path) -> Iterator[Callable[..., tuple[Runtime, str]]]:
    """``start(**settings overrides)`` -> (runtime, base URL): demo answers seeded, the console mounted."""
    stack: list[Any] = []

    def start(**overrides: Any) -> tuple[Runtime, str]:
        rt = build_runtime(make_settings(tmp_path, **overrides), embedder=default_embedder, generator=None)
        cm = serve(rt)
        url = cm.__enter__()
        stack.append((cm, rt))
        return rt, url

    yield start
    for cm, rt in reversed(stack):
        cm.__exit__(None, None, None)
        rt.close()


def add_user(rt: Runtime, username: str, role: str = "reviewer") -> str:
    rt.db.run(lambda s: users_repo.create(s, username, PASSWORD, role))
    return username


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Debian Chromium for the session (Selenium with the system chromedriver; no download)."""
    if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
        _missing(f"{CHROMIUM} or {CHROMEDRIVER} not found (install with: bash scripts/browser.sh)")
    require_selenium()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    profile = tempfile.mkdtemp(prefix="backstop-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # console errors, for assertions
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """The session's browser with no cookies left over from the previous test."""
    browser.delete_all_cookies()
    yield browser
    browser.delete_all_cookies()
