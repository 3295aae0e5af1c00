"""Errors the hub raises on purpose, each with a stable code the API passes on to callers."""

from __future__ import annotations

from typing import Any, ClassVar


class HubError(Exception):
    """Base of every expected error; ``code`` becomes ``extensions.code`` in GraphQL."""

    code: ClassVar[str] = "INTERNAL"

    def __init__(self, message: str, **extensions: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extensions = extensions


class BadUserInputError(HubError):
    """An argument or an imported field is invalid; names which one and why."""

    code = "BAD_USER_INPUT"

    def __init__(self, argument: str, reason: str) -> None:
        super().__init__(
            f"Invalid value for '{argument}': {reason}", argument=argument, reason=reason
        )
        self.argument = argument
        self.reason = reason


class NotFoundError(HubError):
    code = "NOT_FOUND"
