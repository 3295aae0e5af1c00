"""Errors of authentication and authorization."""

from __future__ import annotations

from hub.errors import HubError


class UnauthenticatedError(HubError):
    """The request carries credentials that do not prove who it is: answered with 401."""

    code = "UNAUTHENTICATED"


class ForbiddenError(HubError):
    """The caller is known but may not do this (a missing scope): answered in GraphQL errors."""

    code = "FORBIDDEN"
