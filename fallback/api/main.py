"""uvicorn factory target: ``uvicorn fallback.api.main:app --factory`` (settings from the environment)."""

from __future__ import annotations

from fastapi import FastAPI


def app() -> FastAPI:
    """Build the app from environment settings (each uvicorn worker calls this once)."""
    from fallback.api.app import create_app
    from fallback.logs import configure
    from fallback.settings import load_settings

    settings = load_settings()
    configure(settings.log_level, json_format=settings.log_json)
    return create_app(settings)
