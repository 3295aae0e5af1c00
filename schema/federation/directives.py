"""What a router must know about a field, from its access declaration.

The subgraphs enforce every access rule themselves (a router may not); the directives let a
router that understands them refuse early: a field above the public tier needs an
authenticated caller (``@authenticated``), a field with scopes needs all of them
(``@requiresScopes(scopes: [["a", "b"]])``: the inner list is a conjunction).
"""

from __future__ import annotations

from strawberry.federation.schema_directives import Authenticated, RequiresScopes

from hub.auth.principal import Tier
from schema.access import Access


def authorization(access: Access) -> list[object]:
    """The authorization directives of a field declared with ``access``."""
    directives: list[object] = []
    if access.tier > Tier.PUBLIC:
        directives.append(Authenticated())
    if access.scopes:
        directives.append(RequiresScopes(scopes=[sorted(access.scopes)]))
    return directives
