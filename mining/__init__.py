"""Nightly intent mining: cluster long-tail queries into candidate intents and export them to Coze."""
