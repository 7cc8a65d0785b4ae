"""Retrieval adapters: FAISS indexes, the approved-answer index, candidate grouping."""
