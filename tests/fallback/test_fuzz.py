"""Schemathesis fuzzes the served OpenAPI spec: no operation may answer with a 5xx."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fallback.store import users as users_repo
from tests.fallback.conftest import TOKENS


def _schemathesis() -> str:
    exe = Path(sys.executable).with_name("schemathesis")
    if exe.exists():
        return str(exe)
    found = shutil.which("schemathesis")
    if found is None:
        pytest.fail("schemathesis is a test dependency (pyproject [test] extra) but is not installed")
    return found


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_fuzzing_the_openapi_spec_finds_no_5xx(start_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    rt, url = start_server(server={"user_rate_per_s": 0})
    token = rt.db.run(
        lambda s: (
            users_repo.create(s, "fuzz", "fuzz-password-1", "admin"),
            users_repo.issue_token(s, "fuzz"),
        )[1]
    )
    common = [
        _schemathesis(),
        "run",
        f"{url}/openapi.json",
        "--checks",
        "not_a_server_error",
        "--max-examples",
        "25",
        "--request-timeout",
        "10",
        "--phases",
        "examples,coverage,fuzzing",
        "--suppress-health-check",
        "all",
    ]
    hook = subprocess.run(
        [*common, "-H", f"X-Backstop-Token: {TOKENS[0]}", "--include-path-regex", "^/v1/fallback"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert hook.returncode == 0, hook.stdout[-4000:]
    review = subprocess.run(
        [*common, "-H", f"Authorization: Bearer {token}", "--include-path-regex", "^/v1/(review|admin)"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert review.returncode == 0, review.stdout[-4000:]
