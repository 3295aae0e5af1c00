"""One schema per tier, built from the access declarations of every field."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Annotated, Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.field import StrawberryField

from hub.auth.principal import Tier
from hub.limits import Limits, TierLimits
from schema.access import access_of, argument, resolver
from schema.complaints.queries import ComplaintsQuery
from schema.context import Info
from schema.credit.queries import CreditQuery
from schema.documents import DocumentParsing, DocumentValidation
from schema.enterprise import Enterprise
from schema.errors import InputRules, publish_errors
from schema.licensing.queries import LicensingQuery
from schema.limits import QueryLimits
from schema.node import MAX_NODES, Node, resolve_node
from schema.production import hide_suggestions, production_extensions
from schema.quality.queries import QualityQuery
from schema.recalls.queries import RecallsQuery
from schema.scalars import SCALARS
from schema.search.extension import SearchBackendReport
from schema.search.queries import SearchQuery
from schema.session import OperationSession
from schema.statistics.queries import StatisticsQuery
from schema.warnings.queries import WarningsQuery
from schema.warnings.types import ConsumerWarning


@strawberry.type(description="The Quality Credit Hub: national product-quality credit data.")
class Query(
    StatisticsQuery,
    SearchQuery,
    ComplaintsQuery,
    WarningsQuery,
    RecallsQuery,
    QualityQuery,
    LicensingQuery,
    CreditQuery,
):
    @resolver(description="Any object by its global ID; null if it does not exist or is hidden.")
    async def node(
        self, info: Info, id: Annotated[strawberry.ID, argument("A global ID.")]
    ) -> Node | None:
        return await resolve_node(info.context, id)  # type: ignore[no-any-return]

    @resolver(description=f"Objects by global IDs, in the order given (at most {MAX_NODES}).")
    async def nodes(
        self, info: Info, ids: Annotated[list[strawberry.ID], argument("Global IDs.")]
    ) -> list[Node | None]:
        from hub.errors import BadUserInputError

        if len(ids) > MAX_NODES:
            raise BadUserInputError("ids", f"at most {MAX_NODES} IDs per request")
        return [await resolve_node(info.context, value, "ids") for value in ids]


class TierSchema(strawberry.Schema):
    """A schema holding only the fields that ``tier`` may see.

    Hidden fields are removed before the GraphQL schema is built, so introspection,
    validation messages and "did you mean" suggestions cannot mention them.
    """

    def __init__(self, tier: Tier, *, production: bool = False, **kwargs: Any) -> None:
        self.tier = tier
        self.production = production
        kwargs.setdefault("scalar_overrides", SCALARS)
        super().__init__(**kwargs)

    def get_fields(self, type_definition: StrawberryObjectDefinition) -> list[StrawberryField]:
        kept = []
        for definition in type_definition.fields:
            access = access_of(definition)
            if access is None:
                # Only Strawberry's own and federation fields come here undeclared.
                kept.append(definition)
            elif access.tier <= self.tier:
                kept.append(definition)
        return kept

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        publish_errors(errors)
        if self.production:
            hide_suggestions(errors)


def extensions() -> list[Callable[[], SchemaExtension]]:
    """The extensions of every schema the hub serves: the tier schemas and the subgraphs."""
    return [
        InputRules,
        DocumentParsing,
        DocumentValidation,
        OperationSession,
        SearchBackendReport,
    ]


@cache
def build_schema(
    tier: Tier, *, production: bool = False, limits: TierLimits | None = None
) -> TierSchema:
    """The schema of ``tier``; by default the development one, with the tier's default limits."""
    tier_limits = limits if limits is not None else Limits().of(tier)
    return TierSchema(
        tier,
        production=production,
        query=Query,
        types=[Enterprise, ConsumerWarning],
        extensions=[
            *extensions(),
            *production_extensions(tier, production),
            # Last: its validation step replaces what DocumentValidation found.
            lambda: QueryLimits(tier_limits),
        ],
    )
