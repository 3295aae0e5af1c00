"""Root fields of complaints."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from hub.auth.principal import Tier
from hub.complaint.models import ComplaintStatus as ComplaintStatusEnum
from hub.complaint.repository import ComplaintDimension, ComplaintFilter, ComplaintRepository
from hub.errors import BadUserInputError
from hub.kit.codes import parse_region_code
from schema.access import argument, input_field, resolver
from schema.complaints.types import COMPLAINTS_SCOPE, Complaint, ComplaintCount
from schema.context import Info
from schema.credit.types import Region
from schema.pagination import After, Connection, First, connection, request


@strawberry.input(description="Which complaints to count or list; all conditions must hold.")
class ComplaintFilterInput:
    received_after: datetime | None = input_field(description="Received at or after this time.")
    received_before: datetime | None = input_field(description="Received before this time.")
    region_code: str | None = input_field(
        description="GB/T 2260 code where the complaint was made; a province includes its parts."
    )
    product_category: str | None = input_field(description="Product category, exactly.")
    status: ComplaintStatusEnum | None = input_field(
        description="Handling status.", tier=Tier.PARTNER
    )


def _filter(given: ComplaintFilterInput | None) -> ComplaintFilter:
    given = given or ComplaintFilterInput()
    return ComplaintFilter(
        received_after=given.received_after,
        received_before=given.received_before,
        region_code=None
        if given.region_code is None
        else parse_region_code(given.region_code, "filter.regionCode"),
        product_category=given.product_category,
        status=given.status,
    )


@strawberry.type
class ComplaintsQuery:
    @resolver(
        description="12365 complaints, newest first: de-identified for partners.",
        tier=Tier.PARTNER,
        scopes=[COMPLAINTS_SCOPE],
    )
    async def complaints(
        self,
        info: Info,
        filter: Annotated[ComplaintFilterInput | None, argument("Conditions on the list.")] = None,
        first: First = 20,
        after: After = None,
    ) -> Connection[Complaint]:
        domain_filter = _filter(filter)
        repository = ComplaintRepository(info.context.session, info.context.principal)
        page = await repository.find(domain_filter, request(first, after, 2))
        return connection(page, Complaint.from_row, lambda: repository.total(domain_filter))

    @resolver(
        description="Counts of 12365 complaints grouped by province, product category and/or "
        "month; groups of fewer than 10 complaints are suppressed."
    )
    async def complaint_statistics(
        self,
        info: Info,
        group_by: Annotated[
            list[ComplaintDimension], argument("One to three dimensions to group by.")
        ],
        filter: Annotated[ComplaintFilterInput | None, argument("Which complaints count.")] = None,
    ) -> list[ComplaintCount]:
        if not group_by:
            raise BadUserInputError("groupBy", "name at least one dimension")
        repository = ComplaintRepository(info.context.session, info.context.principal)
        cells = await repository.statistics(set(group_by), _filter(filter))
        return [
            ComplaintCount(
                region=Region(code=c.region_code, name=c.region_name or "")
                if c.region_code
                else None,
                category=c.category,
                month=c.month,
                count=c.count,
                suppressed=c.count is None,
            )
            for c in cells
        ]
