"""The HTTP layer (FastAPI). Build it with ``fallback.api.app.create_app(settings)``."""
