"""Entity forms of the Node types: the same type with ``@key`` and a reference resolver.

The composed graph's classes carry no federation directive, so the subgraph schemas use a
subclass of each: it adds the key and ``resolve_reference`` and inherits every field, so
nothing is declared twice. References load through the request's DataLoaders, so the
``_entities`` of a hundred representations costs one statement per type, not a hundred, and
they obey the same row rules and type access as ``enterprise(uscc:)`` and ``node(id:)``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import strawberry
from strawberry.types.base import get_object_definition

from schema.context import Context, Info
from schema.credit import loaders as credit_loaders
from schema.federation.plan import ID_KEY, key_of
from schema.node import resolve_node

#: How an entity is found from its key: (context, type name, key value) -> object or None.
Lookup = Callable[[Context, str, str], Awaitable[Any]]


def graphql_name(value: Any) -> str | None:
    definition = get_object_definition(value)
    return definition.name if definition else None


async def _by_id(context: Context, type_name: str, id: str) -> Any:
    """The object of a global ID, if it is one of ``type_name`` that the caller may see."""
    found = await resolve_node(context, id, "representations")
    return found if graphql_name(found) == type_name else None


async def _by_uscc(context: Context, _: str, uscc: str) -> Any:
    from schema.enterprise import Enterprise

    row = await context.loader(credit_loaders.enterprise_by_uscc).load(uscc)
    return Enterprise.from_row(row) if row else None


LOOKUPS: dict[str, Lookup] = {ID_KEY: _by_id, "uscc": _by_uscc}

_FORMS: dict[type, type] = {}


def entity(cls: type) -> type:
    """The entity form of the Strawberry type ``cls``, keyed per ``plan.key_of``; made once."""
    if cls in _FORMS:
        return _FORMS[cls]
    definition = get_object_definition(cls, strict=True)
    name = definition.name
    key = key_of(name)
    lookup = LOOKUPS.get(key)
    if lookup is None:
        raise LookupError(f"{name} is keyed by {key!r}, which has no lookup in LOOKUPS")

    async def resolve_reference(_: type, /, info: Info, **representation: str) -> Any:
        return await lookup(info.context, name, representation[key])

    def is_type_of(_: type, /, value: Any, _info: Any) -> bool:
        # Resolvers return the composed graph's objects; what counts is the GraphQL type.
        return graphql_name(value) == name

    namespace: dict[str, Any] = {
        "__module__": __name__,
        "__doc__": cls.__doc__,
        "resolve_reference": classmethod(resolve_reference),
        "is_type_of": classmethod(is_type_of),
    }
    subclass = type(cls.__name__, (cls,), namespace)
    form: type = strawberry.federation.type(
        subclass, name=name, description=definition.description, keys=[key]
    )
    _FORMS[cls] = form
    return form
