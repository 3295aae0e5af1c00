"""Root fields of the credit subgraph: enterprises and the blacklist."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated

import strawberry

from hub.blacklist.models import ListType as ListTypeEnum
from hub.blacklist.repository import BlacklistFilter, BlacklistRepository
from hub.enterprise.models import CreditGrade as CreditGradeEnum
from hub.enterprise.models import EnterpriseStatus as EnterpriseStatusEnum
from hub.enterprise.repository import EnterpriseFilter, EnterpriseRepository, EnterpriseSort
from hub.kit.codes import parse_region_code, parse_uscc
from schema.access import argument, enum, input_field, resolver
from schema.context import Info
from schema.credit import loaders
from schema.credit.types import BlacklistEntry
from schema.pagination import After, Connection, First, connection, request

if TYPE_CHECKING:
    from schema.enterprise import Enterprise

EnterpriseRef = Annotated["Enterprise", strawberry.lazy("schema.enterprise")]

EnterpriseOrder = enum(
    EnterpriseSort,
    name="EnterpriseOrder",
    description="Orders of an enterprise list.",
    values={
        EnterpriseSort.NEWEST: "Most recently established first (default)",
        EnterpriseSort.OLDEST: "Earliest established first",
        EnterpriseSort.NAME: "By name, in code-point order",
    },
)


@strawberry.input(description="Which enterprises to list; all conditions must hold.")
class EnterpriseFilterInput:
    region_code: str | None = input_field(
        description="GB/T 2260 code; a province (440000) or city (440300) includes its parts."
    )
    industry_code: str | None = input_field(description="GB/T 4754 industry code, e.g. C14.")
    credit_grade: CreditGradeEnum | None = input_field(description="Current credit grade.")
    credit_grades: list[CreditGradeEnum] | None = input_field(
        description="Any of these current credit grades."
    )
    status: EnterpriseStatusEnum | None = input_field(description="Registration status.")
    blacklisted: bool | None = input_field(
        description="True: only enterprises with a listing in force; false: only those without."
    )


@strawberry.input(description="Which blacklist entries to list; all conditions must hold.")
class BlacklistFilterInput:
    region_code: str | None = input_field(
        description="GB/T 2260 code of the registration; a province includes its parts."
    )
    list_type: ListTypeEnum | None = input_field(description="Which list.")
    listed_after: date | None = input_field(description="Listed on or after this date.")
    listed_before: date | None = input_field(description="Listed on or before this date.")
    uscc: str | None = input_field(description="Only entries of the enterprise with this USCC.")


def _region(value: str | None, argument: str) -> str | None:
    return None if value is None else parse_region_code(value, argument)


@strawberry.type
class CreditQuery:
    @resolver(description="An enterprise by its Unified Social Credit Code; null if not on record.")
    async def enterprise(
        self,
        info: Info,
        uscc: Annotated[str, argument("Unified Social Credit Code, 18 characters.")],
    ) -> EnterpriseRef | None:
        from schema.enterprise import Enterprise

        row = await info.context.loader(loaders.enterprise_by_uscc).load(parse_uscc(uscc))
        return Enterprise.from_row(row) if row else None

    @resolver(description="Enterprises matching a filter.")
    async def enterprises(
        self,
        info: Info,
        filter: Annotated[EnterpriseFilterInput | None, argument("Conditions on the list.")] = None,
        order: Annotated[EnterpriseSort, argument("Order of the list.")] = EnterpriseSort.NEWEST,
        first: First = 20,
        after: After = None,
    ) -> Connection[EnterpriseRef]:
        from schema.enterprise import Enterprise

        given = filter or EnterpriseFilterInput()
        grades = tuple(given.credit_grades or ())
        if given.credit_grade is not None:
            grades = (*grades, given.credit_grade) if grades else (given.credit_grade,)
        domain_filter = EnterpriseFilter(
            region_code=_region(given.region_code, "filter.regionCode"),
            industry_code=given.industry_code,
            credit_grades=grades,
            status=given.status,
            blacklisted=given.blacklisted,
        )
        repository = EnterpriseRepository(info.context.session, info.context.principal)
        page = await repository.find(domain_filter, order, request(first, after, 2))
        return connection(page, Enterprise.from_row, lambda: repository.total(domain_filter))

    @resolver(
        description="Blacklist entries, newest listing first. Below the internal tier only "
        "entries in force (published, within the publicity period, not removed) are listed."
    )
    async def blacklist(
        self,
        info: Info,
        filter: Annotated[BlacklistFilterInput | None, argument("Conditions on the list.")] = None,
        first: First = 20,
        after: After = None,
    ) -> Connection[BlacklistEntry]:
        given = filter or BlacklistFilterInput()
        enterprise_id: int | None = None
        if given.uscc is not None:
            row = await info.context.loader(loaders.enterprise_by_uscc).load(
                parse_uscc(given.uscc, "filter.uscc")
            )
            enterprise_id = row.id if row else 0
        domain_filter = BlacklistFilter(
            region_code=_region(given.region_code, "filter.regionCode"),
            list_type=given.list_type,
            listed_after=given.listed_after,
            listed_before=given.listed_before,
            enterprise_id=enterprise_id,
        )
        repository = BlacklistRepository(info.context.session, info.context.principal)
        page = await repository.find(domain_filter, request(first, after, 2))
        return connection(page, BlacklistEntry.from_row, lambda: repository.total(domain_filter))
