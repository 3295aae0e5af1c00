"""All SQL of the recall domain."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, extract, func, select

from hub.auth.principal import ANONYMOUS
from hub.enterprise.models import Enterprise
from hub.kit.months import MonthCount, last_complete_month, month_of, month_start, monthly_series
from hub.kit.pagination import Page, PageRequest
from hub.kit.repository import Repository
from hub.kit.sql import between, equal, within_region
from hub.kit.suppression import SUPPRESSION_THRESHOLD
from hub.recall.models import Recall, RecallKind, RecallStatus


@dataclass(frozen=True, slots=True)
class RecallFilter:
    started_after: date | None = None
    started_before: date | None = None
    status: RecallStatus | None = None
    kind: RecallKind | None = None
    category: str | None = None
    region_code: str | None = None


def conditions(recall: Any, filter: RecallFilter) -> list[ColumnElement[bool]]:
    """What ``filter`` means for the recalls ``recall`` (the model or an alias's columns); its
    values may be a compiled statement's parameters (``hub.kit.sql``)."""
    found = [
        *equal(recall, filter, "status", "kind", "category"),
        *between(recall.started_on, filter.started_after, filter.started_before),
    ]
    if filter.region_code is not None:
        makers = select(Enterprise.id).where(
            *within_region(Enterprise.region_code, filter.region_code)
        )
        found.append(recall.enterprise_id.in_(makers))
    return found


class RecallRepository(Repository):
    KEYS = (Recall.started_on, Recall.id)

    def _select(self, filter: RecallFilter | None = None) -> Select[Recall]:
        stmt = select(Recall).where(self.published(Recall))
        return stmt if filter is None else stmt.where(*conditions(Recall, filter))

    async def find(self, filter: RecallFilter, request: PageRequest) -> Page[Recall]:
        return await self.page(self._select(filter), self.KEYS, request)

    async def total(self, filter: RecallFilter) -> int:
        return await self.count(self._select(filter))

    async def by_ids(self, ids: Collection[int]) -> dict[int, Recall]:
        rows = await self.session.scalars(self._select().where(Recall.id.in_(list(ids))))
        return {row.id: row for row in rows}

    async def by_enterprises(
        self, enterprise_ids: Collection[int], request: PageRequest
    ) -> dict[int, Page[Recall]]:
        return await self.pages_by_parent(
            Recall, self._select(), Recall.enterprise_id, enterprise_ids, self.KEYS, request
        )

    async def by_products(
        self, product_ids: Collection[int], request: PageRequest
    ) -> dict[int, Page[Recall]]:
        return await self.pages_by_parent(
            Recall, self._select(), Recall.product_id, product_ids, self.KEYS, request
        )

    async def counts_by_enterprise(self, enterprise_ids: Collection[int]) -> dict[int, int]:
        return await self.counts_by_parent(self._select(), Recall.enterprise_id, enterprise_ids)

    async def counts_by_product(self, product_ids: Collection[int]) -> dict[int, int]:
        return await self.counts_by_parent(self._select(), Recall.product_id, product_ids)

    async def counts_by_month(
        self, first: str | None, last: str | None, now: datetime
    ) -> list[MonthCount]:
        """Recalls by the month they started (YYYY-MM), from ``first`` to ``last``, in the
        months before the one under way at ``now`` (Asia/Shanghai).

        The same figures for every caller: the public's recalls, as the public list counts
        them. A month of fewer than ``SUPPRESSION_THRESHOLD`` recalls is withheld, with a
        complementary month, as in the public complaint statistics (``hub.kit.months``).
        """
        public = RecallRepository(self.session, ANONYMOUS)
        year = extract("year", Recall.started_on).label("year")
        month = extract("month", Recall.started_on).label("month")
        stmt = (
            public._select()
            .with_only_columns(year, month, func.count())
            .where(Recall.started_on < month_start(now))
            .group_by(year, month)
        )
        rows = (await self.session.execute(stmt)).all()
        counts = {month_of(int(y), int(m)): int(n) for y, m, n in rows}
        newest = last_complete_month(now)
        return monthly_series(
            counts,
            SUPPRESSION_THRESHOLD,
            first=first,
            last=newest if last is None else min(last, newest),
        )
