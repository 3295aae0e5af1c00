"""``hub import``: validated, idempotent loading of CSV and JSON Lines files."""
