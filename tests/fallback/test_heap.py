"""The serving process keeps its startup heap out of the collector's full passes (fallback/api/heap.py)."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from fallback.api.app import create_app
from fallback.api.heap import frozen_heap
from fallback.runtime import build_runtime
from fallback.settings import ServerSettings
from models.errors import EmbeddingFailed
from tests.fallback.conftest import TOKENS, make_settings


class _Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cyclic collector frees it


def test_what_lives_at_startup_is_frozen_and_handed_back_at_shutdown() -> None:
    node = _Node()
    gone = weakref.ref(node)
    with frozen_heap():
        assert gc.get_freeze_count() > 0
        del node
        gc.collect()
        assert gone() is not None  # frozen: full passes no longer visit it
        fresh = _Node()
        fresh_gone = weakref.ref(fresh)
        del fresh
        gc.collect()
        assert fresh_gone() is None  # what serving creates is still collected
    assert gc.get_freeze_count() == 0
    gc.collect()
    assert gone() is None  # unfrozen at the end: the cycle is garbage again


def test_switched_off_nothing_is_frozen() -> None:
    with frozen_heap(enabled=False):
        assert gc.get_freeze_count() == 0


@pytest.mark.parametrize("freeze", [True, False])
def test_the_app_freezes_its_heap_while_it_serves(
    freeze: bool, default_embedder: Any, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, server=ServerSettings(freeze_heap=freeze))
    rt = build_runtime(settings, embedder=default_embedder, generator=None)
    try:
        app = create_app(settings, runtime=rt)
        with TestClient(app) as client:
            assert (gc.get_freeze_count() > 0) is freeze
            r = client.post("/v1/fallback", headers={"Authorization": f"Bearer {TOKENS[0]}"},
                            json={"query": "怎么开发票", "user_id": "u", "conversation_id": "c",
                                  "message_id": "m"})
            assert r.status_code == 200 and r.json()["action"] == "answer"
            gc.collect()
            exposed = client.get("/metrics").text
            assert 'backstop_gc_pause_seconds_count{generation="2"}' in exposed
            count = next(float(line.rsplit(" ", 1)[1]) for line in exposed.splitlines()
                         if line.startswith('backstop_gc_pause_seconds_count{generation="2"}'))
            assert count >= 1
        assert gc.get_freeze_count() == 0
    finally:
        rt.close()


class _Outage:
    """Wraps an embedder; while ``down``, every call fails (a remote embedder that is not up yet)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.down = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def encode(self, texts: Any, **kw: Any) -> Any:
        if self.down:
            raise EmbeddingFailed("embedding server unreachable")
        return self.inner.encode(texts, **kw)


def test_a_failed_warm_up_is_logged_and_the_app_serves_once_the_embedder_is_back(
    default_embedder: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    embedder = _Outage(default_embedder)
    settings = make_settings(tmp_path)
    rt = build_runtime(settings, embedder=embedder, generator=None)
    try:
        embedder.down = True
        with TestClient(create_app(settings, runtime=rt)) as client:
            assert "app.warm_up_failed" in caplog.text
            embedder.down = False
            r = client.post("/v1/fallback", headers={"Authorization": f"Bearer {TOKENS[0]}"},
                            json={"query": "怎么开发票", "user_id": "u", "conversation_id": "c",
                                  "message_id": "m"})
            assert r.status_code == 200 and r.json()["action"] == "answer"
    finally:
        rt.close()
