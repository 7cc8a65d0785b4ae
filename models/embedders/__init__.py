"""Embedder implementations; build them with ``models.factory.build_embedder``."""
