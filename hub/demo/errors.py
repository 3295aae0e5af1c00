"""Errors of the demo seed."""

from __future__ import annotations

from typing import ClassVar

from hub.errors import HubError


class DatabaseNotEmptyError(HubError):
    """The seed writes explicit ids, so it only fills a database that holds no demo rows."""

    code: ClassVar[str] = "DATABASE_NOT_EMPTY"


class UnsupportedDatabaseError(HubError):
    code: ClassVar[str] = "UNSUPPORTED_DATABASE"
