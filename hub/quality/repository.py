"""All SQL of the product quality archive: products, spot checks and their failed items."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, String, func, select

from hub.auth.principal import ANONYMOUS
from hub.kit.months import month_start
from hub.kit.pagination import Page, PageRequest
from hub.kit.repository import Repository
from hub.kit.sql import between, equal, value_of, within_region
from hub.kit.suppression import SUPPRESSION_THRESHOLD, SuppressedTable
from hub.quality.models import CheckLevel, CheckResult, FailedItem, Product, SpotCheck


@dataclass(frozen=True, slots=True)
class ProductFilter:
    category: str | None = None
    brand: str | None = None


@dataclass(frozen=True, slots=True)
class SpotCheckFilter:
    result: CheckResult | None = None
    level: CheckLevel | None = None
    region_code: str | None = None
    sampled_after: date | None = None
    sampled_before: date | None = None
    category: str | None = None


class RateGrouping(StrEnum):
    """What spot-check failure rates are grouped by."""

    PROVINCE = "PROVINCE"
    CATEGORY = "CATEGORY"


@dataclass(frozen=True, slots=True)
class FailureRate:
    """The published spot checks of one province or product category, and how many failed.

    ``checks`` and ``failed`` are None when withheld; ``withheld_cells`` counts the group's
    withheld cells (passed, failed), never the checks in them.
    """

    key: str
    checks: int | None
    failed: int | None
    withheld_cells: int

    @property
    def rate(self) -> float | None:
        """``failed / checks``, None unless both are published."""
        if self.checks is None or self.failed is None or self.checks == 0:
            return None
        return self.failed / self.checks


def product_conditions(product: Any, filter: ProductFilter) -> list[ColumnElement[bool]]:
    """What ``filter`` means for the products ``product`` (the model or an alias's columns);
    its values may be a compiled statement's parameters (``hub.kit.sql``)."""
    return equal(product, filter, "category", "brand")


def spot_check_conditions(check: Any, filter: SpotCheckFilter) -> list[ColumnElement[bool]]:
    """What ``filter`` means for the spot checks ``check`` (the model or an alias's columns);
    its values may be a compiled statement's parameters (``hub.kit.sql``)."""
    found = [
        *equal(check, filter, "result", "level"),
        *between(check.sampled_on, filter.sampled_after, filter.sampled_before),
    ]
    if filter.region_code is not None:
        found += within_region(check.region_code, filter.region_code)
    if filter.category is not None:
        products = select(Product.id).where(
            Product.category == value_of(filter.category, Product.category)
        )
        found.append(check.product_id.in_(products))
    return found


class ProductRepository(Repository):
    KEYS = (Product.id,)

    def _select(self, filter: ProductFilter | None = None) -> Select[Product]:
        stmt = select(Product).where(self.published(Product))
        return stmt if filter is None else stmt.where(*product_conditions(Product, filter))

    async def find(self, filter: ProductFilter, request: PageRequest) -> Page[Product]:
        return await self.page(self._select(filter), self.KEYS, request)

    async def total(self, filter: ProductFilter) -> int:
        return await self.count(self._select(filter))

    async def by_gtins(self, gtins: Collection[str]) -> dict[str, Product]:
        rows = await self.session.scalars(self._select().where(Product.gtin.in_(list(gtins))))
        return {row.gtin: row for row in rows if row.gtin is not None}

    async def by_ids(self, ids: Collection[int]) -> dict[int, Product]:
        rows = await self.session.scalars(self._select().where(Product.id.in_(list(ids))))
        return {row.id: row for row in rows}

    async def by_enterprises(
        self, enterprise_ids: Collection[int], request: PageRequest
    ) -> dict[int, Page[Product]]:
        return await self.pages_by_parent(
            Product, self._select(), Product.enterprise_id, enterprise_ids, self.KEYS, request
        )

    async def counts_by_enterprise(self, enterprise_ids: Collection[int]) -> dict[int, int]:
        return await self.counts_by_parent(self._select(), Product.enterprise_id, enterprise_ids)


class SpotCheckRepository(Repository):
    KEYS = (SpotCheck.sampled_on, SpotCheck.id)
    FAILED_ITEM_KEYS = (FailedItem.position,)
    """The order of a check's failed items: the report's own."""

    def _select(self, filter: SpotCheckFilter | None = None) -> Select[SpotCheck]:
        stmt = select(SpotCheck).where(self.published(SpotCheck))
        return stmt if filter is None else stmt.where(*spot_check_conditions(SpotCheck, filter))

    async def find(self, filter: SpotCheckFilter, request: PageRequest) -> Page[SpotCheck]:
        return await self.page(self._select(filter), self.KEYS, request)

    async def total(self, filter: SpotCheckFilter) -> int:
        return await self.count(self._select(filter))

    async def by_ids(self, ids: Collection[int]) -> dict[int, SpotCheck]:
        rows = await self.session.scalars(self._select().where(SpotCheck.id.in_(list(ids))))
        return {row.id: row for row in rows}

    async def by_enterprises(
        self, enterprise_ids: Collection[int], filter: SpotCheckFilter, request: PageRequest
    ) -> dict[int, Page[SpotCheck]]:
        return await self.pages_by_parent(
            SpotCheck,
            self._select(filter),
            SpotCheck.enterprise_id,
            enterprise_ids,
            self.KEYS,
            request,
        )

    async def by_products(
        self, product_ids: Collection[int], filter: SpotCheckFilter, request: PageRequest
    ) -> dict[int, Page[SpotCheck]]:
        return await self.pages_by_parent(
            SpotCheck, self._select(filter), SpotCheck.product_id, product_ids, self.KEYS, request
        )

    async def counts_by_enterprise(
        self, enterprise_ids: Collection[int], filter: SpotCheckFilter
    ) -> dict[int, int]:
        return await self.counts_by_parent(
            self._select(filter), SpotCheck.enterprise_id, enterprise_ids
        )

    async def counts_by_product(
        self, product_ids: Collection[int], filter: SpotCheckFilter
    ) -> dict[int, int]:
        return await self.counts_by_parent(self._select(filter), SpotCheck.product_id, product_ids)

    async def failure_rates(self, by: RateGrouping, now: datetime) -> list[FailureRate]:
        """Spot checks sampled in the months before the one under way at ``now``
        (Asia/Shanghai), by province of sampling or by product category, and how many failed.

        The same figures for every caller: the public's spot checks, as the public list
        counts them. They are the cells of a table (group × passed/failed); a cell of fewer
        than ``SUPPRESSION_THRESHOLD`` checks is withheld, with complementary cells
        (``hub.kit.suppression``), as in the public complaint statistics. Ordered by group.
        """
        public = SpotCheckRepository(self.session, ANONYMOUS)
        key = (
            func.substr(SpotCheck.region_code, 1, 2, type_=String) + "0000"
            if by is RateGrouping.PROVINCE
            else Product.category
        ).label("grp")
        stmt = (
            public._select()
            .with_only_columns(key, SpotCheck.result, func.count())
            .where(SpotCheck.sampled_on < month_start(now))
            .group_by(key, SpotCheck.result)
        )
        if by is RateGrouping.CATEGORY:
            stmt = stmt.join(Product, Product.id == SpotCheck.product_id)
        rows = (await self.session.execute(stmt)).all()
        table = SuppressedTable(
            {(group, CheckResult(result).value): int(n) for group, result, n in rows},
            SUPPRESSION_THRESHOLD,
        )
        return [
            FailureRate(
                key=group,
                checks=total.count if total.withheld == 0 else None,
                failed=table.published((group, CheckResult.FAIL.value)),
                withheld_cells=total.withheld,
            )
            for total in table.totals([0])
            if (group := total.key[0]) is not None
        ]

    async def failed_items(self, check_ids: Collection[int]) -> dict[int, list[FailedItem]]:
        rows = await self.session.scalars(
            select(FailedItem)
            .where(FailedItem.spot_check_id.in_(list(check_ids)))
            .order_by(FailedItem.spot_check_id, *self.FAILED_ITEM_KEYS)
        )
        grouped: dict[int, list[FailedItem]] = {cid: [] for cid in check_ids}
        for row in rows:
            grouped[row.spot_check_id].append(row)
        return grouped
