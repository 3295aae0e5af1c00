"""What a router must know about a field: who may ask for it, and what asking costs.

The subgraphs enforce every access rule themselves (a router may not); the authorization
directives let a router that understands them refuse early: a field above the public tier
needs an authenticated caller (``@authenticated``), a field with scopes needs all of them
(``@requiresScopes(scopes: [["a", "b"]])``: the inner list is a conjunction).

The cost directives (IBM's GraphQL cost directives, in Federation since v2.9) publish the
cost rule of ``schema.limits``, so that a router can hold a whole client document to the
limits the single process holds it to: each subgraph checks only its part. Routers count an
object 1 and a scalar or enum 0, so every leaf field carries ``@cost(weight: 1)``; each list
carries the ``@listSize`` of ``schema.limits.list_size``. What the directives cannot say: the
hub counts a connection's ``pageInfo`` and ``totalCount`` once per item, a router once.
"""

from __future__ import annotations

from graphql import GraphQLField, GraphQLNamedType, get_named_type, is_leaf_type
from strawberry import UNSET
from strawberry.federation.schema_directives import (
    Authenticated,
    Cost,
    ListSize,
    RequiresScopes,
)

from hub.auth.principal import Tier
from schema.access import Access
from schema.limits import list_size


def authorization(access: Access) -> list[object]:
    """The authorization directives of a field declared with ``access``."""
    directives: list[object] = []
    if access.tier > Tier.PUBLIC:
        directives.append(Authenticated())
    if access.scopes:
        directives.append(RequiresScopes(scopes=[sorted(access.scopes)]))
    return directives


def cost(field: GraphQLField, parent: GraphQLNamedType) -> list[object]:
    """The cost directives of ``field`` of ``parent``, an object type (composition refuses
    them on interface fields)."""
    directives: list[object] = []
    if is_leaf_type(get_named_type(field.type)):
        directives.append(Cost(weight=1))
    size = list_size(field, parent)
    if size is not None:
        # UNSET, not None: Strawberry prints null for None, which routers read as a value.
        directives.append(
            ListSize(
                assumed_size=size.assumed,
                slicing_arguments=[size.slicing] if size.slicing else UNSET,
                sized_fields=list(size.sized) or UNSET,
                # The slicing argument has a default: a query may leave it out.
                require_one_slicing_argument=False if size.slicing else UNSET,
            )
        )
    return directives
