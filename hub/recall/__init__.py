"""Defective product recall notices."""
