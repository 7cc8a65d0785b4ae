"""Backstop: the composition root (console script and version). Packages: models, fallback, mining."""

__version__ = "0.1.0"
