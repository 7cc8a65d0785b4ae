"""Bulk FAQ import and export (``backstop answers import|export``)."""
