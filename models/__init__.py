"""Embedding and generator backends shared by the fallback service and the mining job."""
