"""What production mode changes in a tier's schema: what a stranger can learn of the schema.

- The public schema refuses whole-schema introspection (``__schema``): a dump of every type at
  once, what scanners and schema-recovery tools start from. ``__type(name:)`` still answers,
  since it tells one named type of the public schema, which is published anyway
  (``/api/public.graphql``, ``schema/public.graphql``), and the GraphQL-over-HTTP audit needs
  it; ``__typename`` works, since clients need it to tell the types of a union apart. Partner
  and internal callers keep all introspection: they are known, and their code generators need
  it.
- No error suggests names ("Did you mean 'name'?"), in any tier and any phase: validation,
  variable coercion and execution. Suggestions would rebuild the schema for anyone who probes
  with near-miss names, introspection or not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from graphql import FieldNode, GraphQLError, ValidationRule
from strawberry.extensions import AddValidationRules, SchemaExtension

from hub.auth.principal import Tier

# graphql-core appends every suggestion to the end of its message with did_you_mean():
# " Did you mean 'a', 'b', or 'c'?", " Did you mean the enum value 'A'?". Names never contain
# a question mark, so the suggestion ends at the first one.
_SUGGESTION = re.compile(r" Did you mean [^?]*\?")


class NoSchemaIntrospection(ValidationRule):
    """Refuses ``__schema`` wherever it is asked, with one error per use."""

    def enter_field(self, node: FieldNode, *_: Any) -> None:
        if node.name.value == "__schema":
            self.report_error(
                GraphQLError(
                    "Introspection of the whole schema is disabled for the public; the public "
                    "schema is published at /api/public.graphql.",
                    node,
                )
            )


class PublicIntrospection(AddValidationRules):
    def __init__(self) -> None:
        super().__init__([NoSchemaIntrospection])


def production_extensions(tier: Tier, production: bool) -> list[type[SchemaExtension]]:
    """The extensions production mode adds to the schema of ``tier``."""
    if production and tier is Tier.PUBLIC:
        return [PublicIntrospection]
    return []


def hide_suggestions(errors: Iterable[GraphQLError]) -> None:
    """Remove "Did you mean ...?" from the messages of ``errors``, in place."""
    for error in errors:
        error.message = _SUGGESTION.sub("", error.message)
