"""The Relay ``Node`` interface: opaque global IDs and ``node(id:)`` for every type."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable
from typing import Any

import strawberry

from hub.errors import BadUserInputError
from schema.access import PUBLIC, Access, resolver
from schema.context import Context

Fetch = Callable[[Context, int], Awaitable[Any]]
_FETCHERS: dict[str, tuple[Fetch, Access]] = {}


def encode_id(type_name: str, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode().rstrip("=")


def decode_id(value: str, argument: str = "id") -> tuple[str, int]:
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        type_name, _, pk = raw.partition(":")
        if type_name not in _FETCHERS or not pk.isdigit():
            raise ValueError(raw)
        return type_name, int(pk)
    except (ValueError, UnicodeError, binascii.Error):
        raise BadUserInputError(argument, "not an ID issued by this API") from None


@strawberry.interface(
    description="An object with a global ID; any of them can be fetched with `node(id:)`."
)
class Node:
    pk: strawberry.Private[int]

    @resolver(description="Opaque global ID, stable across requests.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(encode_id(self.__strawberry_definition__.name, self.pk))  # type: ignore[attr-defined]


def fetches(type_name: str, access: Access = PUBLIC) -> Callable[[Fetch], Fetch]:
    """Register how ``node(id:)`` loads objects of ``type_name`` (through its DataLoader).

    ``access`` is who may fetch such objects at all: the same rule as the fields that lead to
    them, so a global ID is no way around a tier or a scope.
    """

    def register(fetch: Fetch) -> Fetch:
        _FETCHERS[type_name] = (fetch, access)
        return fetch

    return register


def fetchable() -> dict[str, Access]:
    """Every type ``node(id:)`` fetches, and who may fetch it (``fetches``)."""
    return {type_name: access for type_name, (_, access) in _FETCHERS.items()}


MAX_NODES = 100
"""How many global IDs ``nodes(ids:)`` takes at once."""


async def resolve_node(context: Context, value: str, argument: str = "id") -> Any:
    type_name, pk = decode_id(value, argument)
    fetch, access = _FETCHERS[type_name]
    principal = context.principal
    if principal.tier < access.tier or not principal.has_scopes(access.scopes):
        return None
    return await fetch(context, pk)
