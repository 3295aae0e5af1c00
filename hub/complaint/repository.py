"""All SQL of 12365 complaints, including the suppressed statistics the public may see."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, String, func, select

from hub.complaint.models import Complaint, ComplaintStatus
from hub.enterprise.models import Region
from hub.kit.codes import region_range
from hub.kit.pagination import Page, PageRequest
from hub.kit.repository import Repository

#: Below this, a count could point at a person; it is published as suppressed, not as a number.
SUPPRESSION_THRESHOLD = 10


class ComplaintDimension(StrEnum):
    REGION = "REGION"
    CATEGORY = "CATEGORY"
    MONTH = "MONTH"


@dataclass(frozen=True, slots=True)
class ComplaintFilter:
    received_after: datetime | None = None
    received_before: datetime | None = None
    region_code: str | None = None
    product_category: str | None = None
    status: ComplaintStatus | None = None


@dataclass(frozen=True, slots=True)
class ComplaintCount:
    """One cell of the statistics; ``count`` is None when suppressed."""

    region_code: str | None
    region_name: str | None
    category: str | None
    month: str | None
    count: int | None


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
            low, high = region_range(filter.region_code)
            conditions += [Complaint.region_code >= low, Complaint.region_code < high]
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
        self, dimensions: Collection[ComplaintDimension], filter: ComplaintFilter
    ) -> list[ComplaintCount]:
        """Counts grouped by province, product category and/or month (Asia/Shanghai).

        A cell under ``SUPPRESSION_THRESHOLD`` is returned without its count.
        """
        columns: dict[ComplaintDimension, Any] = {
            ComplaintDimension.REGION: func.substr(Complaint.region_code, 1, 2, type_=String)
            + "0000",
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
        rows = (await self.session.execute(stmt)).all()
        names: dict[str, str] = {}
        if ComplaintDimension.REGION in chosen:
            codes = {row.region for row in rows}
            found = await self.session.scalars(select(Region).where(Region.code.in_(codes)))
            names = {region.code: region.name for region in found}
        return [
            ComplaintCount(
                region_code=getattr(row, "region", None),
                region_name=names.get(getattr(row, "region", None) or ""),
                category=getattr(row, "category", None),
                month=getattr(row, "month", None),
                count=row.n if row.n >= SUPPRESSION_THRESHOLD else None,
            )
            for row in rows
        ]

    def _shanghai_month(self) -> ColumnElement[str]:
        """YYYY-MM of the moment of receipt in Asia/Shanghai, in the dialect's own words."""
        if self.session.get_bind().dialect.name == "sqlite":
            return func.strftime("%Y-%m", Complaint.received_at, "+8 hours")
        return func.to_char(func.timezone("Asia/Shanghai", Complaint.received_at), "YYYY-MM")
