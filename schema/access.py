"""The one way to declare a GraphQL field: with its description and the tier that may see it.

Every field of every type goes through ``field``; the tier schemas keep only the fields their
tier may see (``schema.build``), so a hidden field is absent from introspection, validation
messages and suggestions alike. A test fails for any field declared without it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, TypeVar

import strawberry
from strawberry.types.enum import StrawberryEnumDefinition
from strawberry.types.field import StrawberryField

from hub.auth.principal import Tier

ACCESS = "hub.access"
E = TypeVar("E", bound=Enum)


@dataclass(frozen=True, slots=True)
class Access:
    """Who may see a field: callers of ``tier`` or above, holding all of ``scopes``."""

    tier: Tier = Tier.PUBLIC
    scopes: frozenset[str] = frozenset()


def field(
    resolver: Callable[..., Any] | None = None,
    *,
    description: str,
    tier: Tier = Tier.PUBLIC,
    scopes: Iterable[str] = (),
    name: str | None = None,
    deprecation_reason: str | None = None,
    default: Any = dataclasses.MISSING,
) -> Any:
    """A Strawberry field that carries its access declaration; usable bare or as a decorator."""
    access = Access(tier=tier, scopes=frozenset(scopes))
    made = strawberry.field(
        description=description,
        name=name,
        deprecation_reason=deprecation_reason,
        metadata={ACCESS: access},
        default=default,
    )
    return made(resolver) if resolver is not None else made


def access_of(definition: StrawberryField) -> Access | None:
    value = definition.metadata.get(ACCESS) if definition.metadata else None
    return value if isinstance(value, Access) else None


def argument(description: str) -> Any:
    return strawberry.argument(description=description)


def enum(cls: type[E], *, name: str, description: str, values: Mapping[E, str]) -> type[E]:
    """Expose a domain enum as is, so resolvers pass domain values through unconverted.

    Every member must be described: enum values are English, their descriptions give the
    Chinese term (DESIGN.md).
    """
    missing = set(cls) - set(values)
    if missing:
        raise TypeError(f"enum {name}: undescribed values {sorted(m.name for m in missing)}")
    decorated = strawberry.enum(cls, name=name, description=description)
    definition: StrawberryEnumDefinition = decorated.__strawberry_definition__  # type: ignore[attr-defined]
    for value in definition.values:
        value.description = values[cls[value.name]]
    return decorated


def input_field(*, description: str, default: Any = None, tier: Tier = Tier.PUBLIC) -> Any:
    """A field of an input type: optional unless a default says otherwise."""
    return field(description=description, default=default, tier=tier)


F = TypeVar("F", bound=Callable[..., Any])


def resolver(
    *,
    description: str,
    tier: Tier = Tier.PUBLIC,
    scopes: Iterable[str] = (),
    name: str | None = None,
    deprecation_reason: str | None = None,
) -> Callable[[F], F]:
    """``field`` as a decorator of a resolver method, typed so the method keeps its signature."""

    def wrap(function: F) -> F:
        made = field(
            function,
            description=description,
            tier=tier,
            scopes=scopes,
            name=name,
            deprecation_reason=deprecation_reason,
        )
        return made  # type: ignore[no-any-return]

    return wrap
