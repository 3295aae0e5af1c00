"""Storing Python enums as portable strings (no native PostgreSQL ENUM types to migrate)."""

from __future__ import annotations

from enum import Enum

from sqlalchemy import Enum as SAEnum


def enum_column(enum: type[Enum]) -> SAEnum:
    """A VARCHAR column holding the member name, checked by the ORM on write."""
    return SAEnum(
        enum, native_enum=False, length=24, validate_strings=True, create_constraint=False
    )
