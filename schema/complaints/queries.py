"""Root fields of complaints."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

import strawberry

from hub.auth.principal import ANONYMOUS, Tier
from hub.complaint.models import ComplaintStatus as ComplaintStatusEnum
from hub.complaint.repository import ComplaintCount as CountRow
from hub.complaint.repository import (
    ComplaintDimension,
    ComplaintFilter,
    ComplaintRepository,
    TableFilter,
    current_month,
)
from hub.db import HubSession
from hub.errors import BadUserInputError
from hub.kit.codes import parse_region_code
from hub.kit.suppression import SuppressedTable
from hub.kit.time import utcnow
from schema.access import argument, input_field, resolver
from schema.complaints.types import COMPLAINTS_SCOPE, Complaint, ComplaintCount
from schema.context import Info
from schema.credit.types import Region
from schema.figures import kept
from schema.pagination import After, Connection, First, connection, request

_MONTH = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")

GroupBy = Annotated[
    list[ComplaintDimension] | None,
    argument("Dimensions to group by, none to three; none or null: the grand total."),
]


@strawberry.input(
    description="Which complaints to list or count exactly; all conditions must hold."
)
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


@strawberry.input(
    description="Which cells of the published table of complaints to count: whole past months, "
    "a province, a product category; all conditions must hold."
)
class ComplaintStatisticsFilterInput:
    from_month: str | None = input_field(
        description="First month counted, YYYY-MM (Asia/Shanghai), before the current month."
    )
    to_month: str | None = input_field(
        description="Last month counted, YYYY-MM (Asia/Shanghai), before the current month: a "
        "month is published once it is over."
    )
    region_code: str | None = input_field(
        description="GB/T 2260 code of a province, e.g. 440000; cities are not published."
    )
    product_category: str | None = input_field(description="Product category, exactly.")


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


def _table_filter(given: ComplaintStatisticsFilterInput | None, now: datetime) -> TableFilter:
    given = given or ComplaintStatisticsFilterInput()
    current = current_month(now)
    first = _past_month(given.from_month, "filter.fromMonth", current)
    last = _past_month(given.to_month, "filter.toMonth", current)
    if first is not None and last is not None and first > last:
        raise BadUserInputError("filter.fromMonth", f"{first} is after filter.toMonth ({last})")
    province = None
    if given.region_code is not None:
        province = parse_region_code(given.region_code, "filter.regionCode")
        if not province.endswith("0000"):
            raise BadUserInputError(
                "filter.regionCode",
                "complaint statistics are published by province only: give a province code "
                "such as 440000",
            )
    return TableFilter(first, last, province, given.product_category)


def _past_month(value: str | None, argument: str, current: str) -> str | None:
    if value is None:
        return None
    month = value.strip()
    if not _MONTH.fullmatch(month):
        raise BadUserInputError(argument, "a month is written YYYY-MM, e.g. 2025-04")
    if month >= current:
        raise BadUserInputError(
            argument,
            f"only months before the current one ({current}, Asia/Shanghai) are published: "
            "a month's counts are published once it is over",
        )
    return month


async def _published_table(session: HubSession, now: datetime) -> SuppressedTable:
    """The month's table the public sees: the same for every caller (read by ``kept``)."""
    return await ComplaintRepository(session, ANONYMOUS).published_table(now)


def _counts(rows: list[CountRow]) -> list[ComplaintCount]:
    return [
        ComplaintCount(
            region=Region(code=c.region_code, name=c.region_name or "") if c.region_code else None,
            category=c.category,
            month=c.month,
            count=c.count,
            suppressed=c.withheld_cells > 0,
            withheld_cells=c.withheld_cells,
        )
        for c in rows
    ]


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
        description="Counts of 12365 complaints from the one published table: month × province "
        "× product category, complete months before the current one (Asia/Shanghai), as "
        "recorded when the current month began; the same table all month, for every caller. "
        "A cell of fewer than 10 complaints is withheld, and so are the complementary cells "
        "that keep it from being worked out from a row's or a column's total. Any other "
        "grouping is the sum of the published cells it covers. Groups without complaints are "
        "left out."
    )
    async def complaint_statistics(
        self,
        info: Info,
        group_by: GroupBy = None,
        filter: Annotated[
            ComplaintStatisticsFilterInput | None, argument("Which cells of the table count.")
        ] = None,
    ) -> list[ComplaintCount]:
        now = utcnow()
        table = await kept(info, now, _published_table)
        repository = ComplaintRepository(info.context.session, info.context.principal)
        rows = await repository.sums(table, set(group_by or ()), _table_filter(filter, now))
        return _counts(rows)

    @resolver(
        description="Exact counts of 12365 complaints grouped by province, product category "
        "and/or month (Asia/Shanghai), under any condition of the list, the current month "
        "included: nothing is withheld from callers who may read the records themselves. "
        "Groups without complaints are left out.",
        tier=Tier.PARTNER,
        scopes=[COMPLAINTS_SCOPE],
    )
    async def complaint_counts(
        self,
        info: Info,
        group_by: GroupBy = None,
        filter: Annotated[ComplaintFilterInput | None, argument("Which complaints count.")] = None,
    ) -> list[ComplaintCount]:
        repository = ComplaintRepository(info.context.session, info.context.principal)
        return _counts(await repository.counts(set(group_by or ()), _filter(filter)))
