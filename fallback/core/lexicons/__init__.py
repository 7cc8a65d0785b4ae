"""Bundled lexicon data files (one term per line); loaded by :mod:`fallback.core.safety`."""
