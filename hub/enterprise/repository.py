"""All SQL of the enterprise domain."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import InstrumentedAttribute

from hub.blacklist.repository import listed
from hub.enterprise.models import CreditGrade, Enterprise, EnterpriseStatus, Industry, Region
from hub.kit.pagination import Page, PageRequest
from hub.kit.repository import Repository
from hub.kit.sql import equal, one_of, within_region
from hub.kit.time import Instant


class EnterpriseSort(StrEnum):
    NEWEST = "NEWEST"
    OLDEST = "OLDEST"
    NAME = "NAME"


SORT_KEYS: dict[EnterpriseSort, tuple[tuple[InstrumentedAttribute[Any], ...], bool]] = {
    EnterpriseSort.NEWEST: ((Enterprise.established_on, Enterprise.id), True),
    EnterpriseSort.OLDEST: ((Enterprise.established_on, Enterprise.id), False),
    EnterpriseSort.NAME: ((Enterprise.name, Enterprise.id), False),
}


@dataclass(frozen=True, slots=True)
class EnterpriseFilter:
    region_code: str | None = None
    industry_code: str | None = None
    credit_grades: tuple[CreditGrade, ...] = ()
    status: EnterpriseStatus | None = None
    blacklisted: bool | None = None


def conditions(
    enterprise: Any, filter: EnterpriseFilter, instant: Instant
) -> list[ColumnElement[bool]]:
    """What ``filter`` means for the enterprises ``enterprise`` (the model or an alias's
    columns) at ``instant``; its values may be a compiled statement's parameters
    (``hub.kit.sql``), except ``blacklisted``, which decides the condition's form."""
    found = equal(enterprise, filter, "industry_code", "status")
    if filter.region_code is not None:
        found += within_region(enterprise.region_code, filter.region_code)
    if filter.credit_grades:
        found.append(one_of(enterprise.credit_grade, filter.credit_grades))
    if filter.blacklisted is not None:
        blacklisted = listed(enterprise, instant)
        found.append(blacklisted if filter.blacklisted else ~blacklisted)
    return found


class EnterpriseRepository(Repository):
    def _select(self, filter: EnterpriseFilter) -> Select[Enterprise]:
        return select(Enterprise).where(
            self.published(Enterprise), *conditions(Enterprise, filter, self.instant)
        )

    async def find(
        self, filter: EnterpriseFilter, sort: EnterpriseSort, request: PageRequest
    ) -> Page[Enterprise]:
        keys, descending = SORT_KEYS[sort]
        return await self.page(self._select(filter), keys, request, descending=descending)

    async def total(self, filter: EnterpriseFilter) -> int:
        return await self.count(self._select(filter))

    async def by_uscc(self, usccs: Collection[str]) -> dict[str, Enterprise]:
        rows = await self.session.scalars(
            select(Enterprise).where(Enterprise.uscc.in_(list(usccs)), self.published(Enterprise))
        )
        return {row.uscc: row for row in rows}

    async def by_ids(self, ids: Collection[int]) -> dict[int, Enterprise]:
        rows = await self.session.scalars(
            select(Enterprise).where(Enterprise.id.in_(list(ids)), self.published(Enterprise))
        )
        return {row.id: row for row in rows}

    async def regions(self, codes: Collection[str]) -> dict[str, Region]:
        rows = await self.session.scalars(select(Region).where(Region.code.in_(list(codes))))
        return {row.code: row for row in rows}

    async def industries(self, codes: Collection[str]) -> dict[str, Industry]:
        rows = await self.session.scalars(select(Industry).where(Industry.code.in_(list(codes))))
        return {row.code: row for row in rows}
