"""Exports: the Coze intent pack (JSON/CSV, applied by a person) and approved Q&A to a Coze knowledge base."""
