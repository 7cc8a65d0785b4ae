"""uvicorn factory target: ``uvicorn fallback.api.main:app --factory`` (settings from the environment)."""

from __future__ import annotations

from fastapi import FastAPI


def app() -> FastAPI:
    """Build the app from environment settings (each uvicorn worker calls this once)."""
    import logging

    from fallback.api.app import create_app
    from fallback.settings import load_settings

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    return create_app(load_settings())
