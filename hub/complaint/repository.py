"""All SQL of 12365 complaints, including the one table of counts the public may see."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, Select, String, func, select

from hub.auth.errors import ForbiddenError
from hub.auth.principal import Tier
from hub.auth.scopes import COMPLAINTS_READ
from hub.complaint.models import Complaint, ComplaintStatus
from hub.enterprise.models import Region
from hub.kit.pagination import Page, PageRequest
from hub.kit.repository import Repository
from hub.kit.sql import within_region
from hub.kit.suppression import SUPPRESSION_THRESHOLD, Cell, SuppressedTable
from hub.kit.time import SHANGHAI


class ComplaintDimension(StrEnum):
    REGION = "REGION"
    CATEGORY = "CATEGORY"
    MONTH = "MONTH"


TABLE_DIMENSIONS = (
    ComplaintDimension.MONTH,
    ComplaintDimension.REGION,
    ComplaintDimension.CATEGORY,
)
"""The coordinates of a cell of the public table, in order; it grows along the first."""


@dataclass(frozen=True, slots=True)
class ComplaintFilter:
    """Conditions on the records, for callers who may read them."""

    received_after: datetime | None = None
    received_before: datetime | None = None
    region_code: str | None = None
    product_category: str | None = None
    status: ComplaintStatus | None = None


@dataclass(frozen=True, slots=True)
class TableFilter:
    """Which cells of the public table to sum: whole months (YYYY-MM), a province, a category.

    Nothing finer exists: every public number is a sum of whole published cells.
    """

    first_month: str | None = None
    last_month: str | None = None
    province_code: str | None = None
    product_category: str | None = None

    def holds(self, cell: Cell) -> bool:
        month, province, category = cell
        return (
            (self.first_month is None or month >= self.first_month)
            and (self.last_month is None or month <= self.last_month)
            and (self.province_code is None or province == self.province_code)
            and (self.product_category is None or category == self.product_category)
        )


@dataclass(frozen=True, slots=True)
class ComplaintCount:
    """One group of the statistics; ``count`` is None when every cell of it is withheld."""

    region_code: str | None
    region_name: str | None
    category: str | None
    month: str | None
    count: int | None
    withheld_cells: int = 0


_PROVINCE = func.substr(Complaint.region_code, 1, 2, type_=String) + "0000"
"""The province of a complaint's division: the finest region anything is counted by."""


def current_month(now: datetime) -> str:
    """The month under way at ``now`` in Asia/Shanghai, YYYY-MM: the public table ends before it."""
    return f"{now.astimezone(SHANGHAI):%Y-%m}"


def _month_start(now: datetime) -> datetime:
    local = now.astimezone(SHANGHAI)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)


class ComplaintRepository(Repository):
    """Complaints are never published: only partners and internal callers reach the records,
    and the schema decides which fields of them; the public reaches only ``statistics``."""

    KEYS = (Complaint.received_at, Complaint.id)

    def _select(self, filter: ComplaintFilter | None = None) -> Select[Complaint]:
        stmt = select(Complaint)
        for condition in self._conditions(filter):
            stmt = stmt.where(condition)
        return stmt

    def _conditions(self, filter: ComplaintFilter | None) -> list[ColumnElement[bool]]:
        if filter is None:
            return []
        conditions: list[ColumnElement[bool]] = []
        if filter.received_after is not None:
            conditions.append(Complaint.received_at >= filter.received_after)
        if filter.received_before is not None:
            conditions.append(Complaint.received_at < filter.received_before)
        if filter.region_code is not None:
            conditions += within_region(Complaint.region_code, filter.region_code)
        if filter.product_category is not None:
            conditions.append(Complaint.product_category == filter.product_category)
        if filter.status is not None:
            conditions.append(Complaint.status == filter.status)
        return conditions

    async def find(self, filter: ComplaintFilter, request: PageRequest) -> Page[Complaint]:
        return await self.page(self._select(filter), self.KEYS, request)

    async def total(self, filter: ComplaintFilter) -> int:
        return await self.count(self._select(filter))

    async def by_ids(self, ids: Collection[int]) -> dict[int, Complaint]:
        rows = await self.session.scalars(self._select().where(Complaint.id.in_(list(ids))))
        return {row.id: row for row in rows}

    async def by_enterprises(
        self, enterprise_ids: Collection[int], request: PageRequest
    ) -> dict[int, Page[Complaint]]:
        return await self.pages_by_parent(
            Complaint, self._select(), Complaint.enterprise_id, enterprise_ids, self.KEYS, request
        )

    async def by_products(
        self, product_ids: Collection[int], request: PageRequest
    ) -> dict[int, Page[Complaint]]:
        return await self.pages_by_parent(
            Complaint, self._select(), Complaint.product_id, product_ids, self.KEYS, request
        )

    async def counts_by_enterprise(self, enterprise_ids: Collection[int]) -> dict[int, int]:
        return await self.counts_by_parent(self._select(), Complaint.enterprise_id, enterprise_ids)

    async def counts_by_product(self, product_ids: Collection[int]) -> dict[int, int]:
        return await self.counts_by_parent(self._select(), Complaint.product_id, product_ids)

    async def statistics(
        self, dimensions: Collection[ComplaintDimension], filter: TableFilter, now: datetime
    ) -> list[ComplaintCount]:
        """Sums of the published cells of ``published_table(now)`` that ``filter`` holds,
        grouped by ``dimensions`` (none: the grand total).

        The same for every caller: the filter picks whole cells after the table is suppressed,
        so no choice of filter or grouping changes which cells are withheld.
        """
        return await self.sums(await self.published_table(now), dimensions, filter)

    async def sums(
        self,
        table: SuppressedTable,
        dimensions: Collection[ComplaintDimension],
        filter: TableFilter,
    ) -> list[ComplaintCount]:
        """``statistics`` of a table read before (``published_table``)."""
        keep = [i for i, d in enumerate(TABLE_DIMENSIONS) if d in dimensions]
        totals = table.totals(keep, filter.holds)
        names = await self._region_names({t.key[1] for t in totals if t.key[1] is not None})
        return [
            ComplaintCount(
                region_code=t.key[1],
                region_name=names.get(t.key[1] or ""),
                category=t.key[2],
                month=t.key[0],
                count=t.count,
                withheld_cells=t.withheld,
            )
            for t in totals
        ]

    async def published_table(self, now: datetime) -> SuppressedTable:
        """The one table of complaints the public sees: month × province × product category.

        Only complete months (Asia/Shanghai) before the one under way at ``now``, counted as
        recorded when the month under way began: the table does not change from one day to the
        next, so asking twice isolates nobody, and a complaint recorded late for a past month
        waits for the next month's table. Cells of fewer than ``SUPPRESSION_THRESHOLD``
        complaints are withheld, with complementary cells, month after month
        (``hub.kit.suppression``).
        """
        start = _month_start(now)
        keys = [
            self._shanghai_month().label("month"),
            _PROVINCE.label("region"),
            Complaint.product_category.label("category"),
        ]
        stmt = (
            select(*keys, func.count())
            .where(Complaint.received_at < start, Complaint.created_at < start)
            .group_by(*keys)
        )
        rows = (await self.session.execute(stmt)).all()
        return _suppressed(tuple(sorted((m, p, c, int(n)) for m, p, c, n in rows)))

    async def counts(
        self, dimensions: Collection[ComplaintDimension], filter: ComplaintFilter
    ) -> list[ComplaintCount]:
        """Exact counts grouped by province, product category and/or month (Asia/Shanghai),
        under any condition on the records: for callers who may read the records themselves.
        """
        if self.principal.tier < Tier.PARTNER or not self.principal.has_scopes(
            frozenset({COMPLAINTS_READ})
        ):
            # The second line behind the schema: exact small counts are what the public
            # table withholds.
            raise ForbiddenError(f"exact complaint counts need the scope {COMPLAINTS_READ}")
        columns: dict[ComplaintDimension, Any] = {
            ComplaintDimension.REGION: _PROVINCE,
            ComplaintDimension.CATEGORY: Complaint.product_category,
            ComplaintDimension.MONTH: self._shanghai_month(),
        }
        chosen = [d for d in ComplaintDimension if d in dimensions]
        keys = [columns[d].label(d.value.lower()) for d in chosen]
        stmt = select(*keys, func.count().label("n")).select_from(Complaint)
        for condition in self._conditions(filter):
            stmt = stmt.where(condition)
        if keys:
            stmt = stmt.group_by(*keys).order_by(*keys)
        rows = [row for row in (await self.session.execute(stmt)).all() if row.n > 0]
        names: dict[str, str] = {}
        if ComplaintDimension.REGION in chosen:
            names = await self._region_names({row.region for row in rows})
        return [
            ComplaintCount(
                region_code=getattr(row, "region", None),
                region_name=names.get(getattr(row, "region", None) or ""),
                category=getattr(row, "category", None),
                month=getattr(row, "month", None),
                count=row.n,
            )
            for row in rows
        ]

    async def _region_names(self, codes: Collection[str]) -> dict[str, str]:
        if not codes:
            return {}
        found = await self.session.scalars(select(Region).where(Region.code.in_(list(codes))))
        return {region.code: region.name for region in found}

    def _shanghai_month(self) -> ColumnElement[str]:
        """YYYY-MM of the moment of receipt in Asia/Shanghai, in the dialect's own words."""
        if self.session.get_bind().dialect.name == "sqlite":
            return func.strftime("%Y-%m", Complaint.received_at, "+8 hours")
        return func.to_char(func.timezone("Asia/Shanghai", Complaint.received_at), "YYYY-MM")


@lru_cache(maxsize=4)
def _suppressed(rows: tuple[tuple[str, str, str, int], ...]) -> SuppressedTable:
    """The suppressed table of these counts, remembered: within a month the counts, and so the
    table, stay the same from one request to the next."""
    return SuppressedTable(
        {(month, province, category): n for month, province, category, n in rows},
        SUPPRESSION_THRESHOLD,
        grows_along=0,
    )
