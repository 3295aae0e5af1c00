"""What production mode changes in a tier's schema: what a stranger can learn of the schema.

- The public schema refuses introspection (``__schema``, ``__type``); ``__typename`` still
  works, since clients need it to tell the types of a union apart. Partner and internal
  callers keep introspection: they are known, and their code generators need it.
- No error suggests names ("Did you mean 'name'?"), in any tier and any phase: validation,
  variable coercion and execution. Suggestions would rebuild the schema for anyone who probes
  with near-miss names, introspection or not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from graphql import GraphQLError
from strawberry.extensions import DisableIntrospection, SchemaExtension

from hub.auth.principal import Tier

# graphql-core appends every suggestion to the end of its message with did_you_mean():
# " Did you mean 'a', 'b', or 'c'?", " Did you mean the enum value 'A'?". Names never contain
# a question mark, so the suggestion ends at the first one.
_SUGGESTION = re.compile(r" Did you mean [^?]*\?")


def production_extensions(tier: Tier, production: bool) -> list[type[SchemaExtension]]:
    """The extensions production mode adds to the schema of ``tier``."""
    if production and tier is Tier.PUBLIC:
        return [DisableIntrospection]
    return []


def hide_suggestions(errors: Iterable[GraphQLError]) -> None:
    """Remove "Did you mean ...?" from the messages of ``errors``, in place."""
    for error in errors:
        error.message = _SUGGESTION.sub("", error.message)
