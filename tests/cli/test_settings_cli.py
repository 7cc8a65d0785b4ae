"""Every command reads the one settings tree: BACKSTOP_DATA_DIR is honoured, and a bad setting ends any
command in one line naming the variable, exit status 2, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from backstop.cli import build_app
from fallback.store.db import Database
from fallback.store.schema import User

ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}

COMMANDS = [
    ["serve"],
    ["worker"],
    ["mine", "--since", "24h"],
    ["export", "kb"],
    ["users", "add", "bob"],
    ["models", "check"],
    ["calibrate", "--data", "x.jsonl"],
    ["eval", "gating", "--data", "x.jsonl"],
    ["eval", "mining", "--data", "x.jsonl"],
    ["purge"],
    ["db", "current"],
]


def one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No BACKSTOP_* variable but the ones a test sets; the data dir under ``tmp_path``."""
    for key in list(os.environ):
        if key.upper().startswith("BACKSTOP_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("BACKSTOP_DATA_DIR", str(tmp_path))
    return tmp_path


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_a_typo_in_a_nested_variable_ends_every_command_in_one_line(
    args: list[str], clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BACKSTOP_GATING__ANSWER_TRESHOLD", "0.9")
    result = CliRunner().invoke(build_app(), args)
    assert result.exit_code == 2
    line = one_error_line(result.stderr)
    assert line == (
        "error: BACKSTOP_GATING__ANSWER_TRESHOLD is not a setting "
        "(did you mean BACKSTOP_GATING__ANSWER_THRESHOLD?)"
    )


def test_the_console_script_refuses_a_typo_and_a_bad_value_in_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in ENV.items() if not k.upper().startswith("BACKSTOP_")}
    env |= {"BACKSTOP_DATA_DIR": str(tmp_path), "BACKSTOP_MINING_SEED": "3"}
    out = subprocess.run([sys.executable, "-m", "backstop", "mine", "--since", "24h"],
                         capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 2
    assert one_error_line(out.stderr) == (
        "error: BACKSTOP_MINING_SEED is not a setting (did you mean BACKSTOP_MINING__SEED? sections nest "
        "with __)"
    )
    del env["BACKSTOP_MINING_SEED"]
    env["BACKSTOP_GATING__ANSWER_THRESHOLD"] = "1.5"
    out = subprocess.run([sys.executable, "-m", "backstop", "db", "current"],
                         capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 2
    assert one_error_line(out.stderr) == (
        "error: BACKSTOP_GATING__ANSWER_THRESHOLD: Input should be less than or equal to 1"
    )


def test_a_missing_config_file_is_refused(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = clean_env / "backstop.toml"
    monkeypatch.setenv("BACKSTOP_CONFIG", str(missing))
    result = CliRunner().invoke(build_app(), ["db", "current"])
    assert result.exit_code == 2
    assert one_error_line(result.stderr) == (
        f"error: BACKSTOP_CONFIG={missing}: no such file (expected the path of a TOML file)"
    )
    missing.write_text("[gating]\nanswer_treshold = 0.9\n", encoding="utf-8")  # an unknown key in the file
    result = CliRunner().invoke(build_app(), ["db", "current"])
    assert result.exit_code == 2
    line = one_error_line(result.stderr)
    assert line.startswith(f"error: {missing}: [gating] answer_treshold: not a setting")


def test_users_add_writes_to_the_data_dirs_database(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACKSTOP_NEW_USER_PASSWORD", "long-enough-password")
    refused = CliRunner().invoke(build_app(), ["users", "add", "alice"])
    assert refused.exit_code == 2  # no database there: no new, empty one made on the side
    assert f"no database at {clean_env.resolve() / 'backstop.db'}" in refused.stderr.replace("\n", "")
    assert not (clean_env / "backstop.db").exists()

    url = f"sqlite:///{clean_env / 'backstop.db'}"
    Database.connect(url).dispose()  # the service's database, as `backstop serve` leaves it
    monkeypatch.chdir(clean_env.parent)  # run from elsewhere: BACKSTOP_DATA_DIR decides
    result = CliRunner().invoke(build_app(), ["users", "add", "alice", "--role", "admin"])
    assert result.exit_code == 0, result.output
    assert f"created admin alice in {url}" in result.stdout
    db = Database.connect(url, create=False)
    try:
        assert db.run(lambda s: list(s.scalars(select(User.username)))) == ["alice"]
    finally:
        db.dispose()
    assert not (clean_env.parent / "var").exists()
