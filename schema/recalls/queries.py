"""Root fields of the recalls subgraph."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry

from hub.kit.codes import parse_region_code
from hub.recall.models import RecallKind as RecallKindEnum
from hub.recall.models import RecallStatus as RecallStatusEnum
from hub.recall.repository import RecallFilter, RecallRepository
from schema.access import argument, input_field, resolver
from schema.context import Info
from schema.pagination import After, Connection, First, connection, request
from schema.recalls.types import Recall


@strawberry.input(description="Which recalls to list; all conditions must hold.")
class RecallFilterInput:
    started_after: date | None = input_field(description="Started on or after this date.")
    started_before: date | None = input_field(description="Started on or before this date.")
    status: RecallStatusEnum | None = input_field(description="Progress of the recall.")
    kind: RecallKindEnum | None = input_field(description="Voluntary or ordered.")
    category: str | None = input_field(description="Product category, e.g. 电动自行车.")
    region_code: str | None = input_field(
        description="GB/T 2260 code of the producer's registration; a province includes its parts."
    )


@strawberry.type
class RecallsQuery:
    @resolver(description="Recall notices, newest first.")
    async def recalls(
        self,
        info: Info,
        filter: Annotated[RecallFilterInput | None, argument("Conditions on the list.")] = None,
        first: First = 20,
        after: After = None,
    ) -> Connection[Recall]:
        given = filter or RecallFilterInput()
        domain_filter = RecallFilter(
            started_after=given.started_after,
            started_before=given.started_before,
            status=given.status,
            kind=given.kind,
            category=given.category,
            region_code=None
            if given.region_code is None
            else parse_region_code(given.region_code, "filter.regionCode"),
        )
        repository = RecallRepository(info.context.session, info.context.principal)
        page = await repository.find(domain_filter, request(first, after, 2))
        return connection(page, Recall.from_row, lambda: repository.total(domain_filter))
