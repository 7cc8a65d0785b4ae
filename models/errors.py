"""Errors raised by model backends; adapters translate third-party errors into these."""

from __future__ import annotations


class BackstopError(Exception):
    """Root of every error Backstop raises on purpose."""


class ModelUnavailable(BackstopError):
    """A backend cannot be built or loaded (missing package, missing weights, bad path)."""


class EmbeddingFailed(BackstopError):
    """An embedder failed while encoding."""


class GenerationFailed(BackstopError):
    """A generator failed, timed out or returned nothing usable."""

