"""Measuring tools: not part of the hub, not run by CI (a smoke version of each is)."""
