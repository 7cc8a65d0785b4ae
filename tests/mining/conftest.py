"""Shared fixtures of the mining tests: real components, built once per session where they are costly."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from models.embedders.usem3 import Usem3Embedder

DATASETS = Path(__file__).resolve().parents[2].parent / "shared" / "datasets"


def require_datasets() -> Path:
    """The shared datasets folder; skip without it, except in CI where its absence is a failure."""
    if DATASETS.is_dir():
        return DATASETS
    if os.environ.get("CI") == "true":
        pytest.fail(f"shared datasets missing at {DATASETS} (CI must have ../shared beside the repo)")
    pytest.skip(f"shared datasets not found at {DATASETS}")


@pytest.fixture(scope="session")
def usem3() -> Usem3Embedder:
    """The real USE-multilingual embedder, loaded once (about half a second, then ~25-1000 texts/s)."""
    return Usem3Embedder()
