"""Blacklist listings and removals (credit repair): append-only events, never edits."""
