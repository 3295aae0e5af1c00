"""The one way to declare a GraphQL field: with its description and the tier that may see it.

Every field of every type goes through ``field``; the tier schemas keep only the fields their
tier may see (``schema.build``), so a hidden field is absent from introspection, validation
messages and suggestions alike. A test fails for any field declared without it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, TypeVar

import strawberry
from strawberry.extensions import FieldExtension
from strawberry.types import Info
from strawberry.types.enum import StrawberryEnumDefinition
from strawberry.types.field import StrawberryField

from hub.auth.errors import ForbiddenError
from hub.auth.principal import Tier

ACCESS = "hub.access"
E = TypeVar("E", bound=Enum)


@dataclass(frozen=True, slots=True)
class Access:
    """Who may see a field: callers of ``tier`` or above, holding all of ``scopes``."""

    tier: Tier = Tier.PUBLIC
    scopes: frozenset[str] = frozenset()


PUBLIC = Access()


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
        description=_documented(description, access),
        name=name,
        deprecation_reason=deprecation_reason,
        metadata={ACCESS: access},
        default=default,
        extensions=[RequireScopes(access.scopes)] if access.scopes else [],
    )
    return made(resolver) if resolver is not None else made


class RequireScopes(FieldExtension):
    """The second line behind the tier schemas: a field that needs scopes checks them.

    The partner schema has the field for every partner; only those holding the scopes get
    a value, the others a FORBIDDEN error and null.
    """

    def __init__(self, scopes: frozenset[str]) -> None:
        super().__init__()
        self.scopes = scopes

    def _check(self, info: Info) -> None:
        principal = info.context.principal
        if not principal.has_scopes(self.scopes):
            missing = ", ".join(sorted(self.scopes - principal.scopes))
            raise ForbiddenError(
                f"this field needs the scope {missing}", scopes=sorted(self.scopes)
            )

    def resolve(self, next_: Callable[..., Any], source: Any, info: Info, **kwargs: Any) -> Any:
        self._check(info)
        return next_(source, info, **kwargs)

    async def resolve_async(
        self, next_: Callable[..., Awaitable[Any]], source: Any, info: Info, **kwargs: Any
    ) -> Any:
        self._check(info)
        return await next_(source, info, **kwargs)


def _documented(description: str, access: Access) -> str:
    """The description, plus who may read the field when not everyone may."""
    if access.tier is Tier.PUBLIC and not access.scopes:
        return description
    needs = [f"tier {access.tier.label}"] + [f"scope {s}" for s in sorted(access.scopes)]
    return f"{description} Requires {', '.join(needs)}."


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
