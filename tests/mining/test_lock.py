"""The run lock: exclusive, released on exit, taken over when stale."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mining.lock import MiningLocked, RunLock


def test_second_lock_is_refused_until_the_first_is_released(tmp_path: Path) -> None:
    path = tmp_path / "mine.lock"
    with RunLock(path):
        holder = json.loads(path.read_text())
        assert holder["pid"] == os.getpid()
        with pytest.raises(MiningLocked, match="another mining run"):
            RunLock(path).acquire()
    assert not path.exists()
    with RunLock(path):
        pass


def test_lock_of_a_dead_process_is_taken_over(tmp_path: Path) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    path = tmp_path / "mine.lock"
    path.write_text(
        json.dumps({"pid": int(dead.stdout), "host": socket.gethostname(), "started_at": time.time()})
    )
    with RunLock(path):
        assert json.loads(path.read_text())["pid"] == os.getpid()


def test_old_lock_is_stale_even_if_its_process_lives(tmp_path: Path) -> None:
    path = tmp_path / "mine.lock"
    path.write_text(json.dumps({"pid": os.getppid(), "host": "elsewhere", "started_at": time.time() - 7200}))
    with pytest.raises(MiningLocked):
        RunLock(path, stale_after_s=3 * 3600).acquire()
    with RunLock(path, stale_after_s=3600):
        pass


def test_release_leaves_a_lock_taken_over_by_someone_else(tmp_path: Path) -> None:
    path = tmp_path / "mine.lock"
    lock = RunLock(path)
    lock.acquire()
    path.write_text(json.dumps({"pid": 1, "host": "other", "started_at": time.time()}))
    lock.release()
    assert path.exists()
