"""A lock file that keeps two mining runs from overlapping (pid + start time; stale locks are taken over)."""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path
from types import TracebackType

from models.errors import BackstopError


class MiningLocked(BackstopError):
    """Another mining run holds the lock."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


class RunLock:
    """An exclusive lock file holding ``{"pid", "host", "started_at"}``.

    A lock is stale, and is taken over, when it is older than ``stale_after_s`` or was written on this
    host by a process that no longer exists (a run killed with SIGKILL leaves its file behind).

    Args:
        path: The lock file.
        stale_after_s: Age beyond which any lock is considered abandoned.
    """

    def __init__(self, path: Path, *, stale_after_s: float = 6 * 3600) -> None:
        self.path = path
        self.stale_after_s = stale_after_s
        self._held = False

    def holder(self) -> dict[str, object] | None:
        """The current lock's content, or ``None`` when unlocked (or unreadable)."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            return None
        return data if isinstance(data, dict) else None

    def _stale(self, holder: dict[str, object] | None) -> bool:
        if holder is None:
            return True
        started = holder.get("started_at")
        if not isinstance(started, int | float) or time.time() - started > self.stale_after_s:
            return True
        pid = holder.get("pid")
        return holder.get("host") == socket.gethostname() and isinstance(pid, int) and not _alive(pid)

    def acquire(self) -> None:
        """Take the lock or raise :class:`MiningLocked` naming its holder."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = self.holder()
                if not self._stale(holder):
                    raise MiningLocked(f"another mining run holds {self.path}: {holder}") from None
                self.path.unlink(missing_ok=True)
                continue
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                holder = {"pid": os.getpid(), "host": socket.gethostname(), "started_at": time.time()}
                json.dump(holder, handle)
            self._held = True
            return
        raise MiningLocked(f"could not take {self.path}: another run took it over first")

    def release(self) -> None:
        """Remove the lock file if this object holds it."""
        if self._held:
            holder = self.holder()
            if holder is not None and holder.get("pid") == os.getpid():
                self.path.unlink(missing_ok=True)
            self._held = False

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.release()
