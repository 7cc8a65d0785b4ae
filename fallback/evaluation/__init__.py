"""Offline evaluation of the gate on labelled data (intent and pair files)."""
