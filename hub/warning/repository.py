"""All SQL of consumer warnings and the recalls and products they point to."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, select

from hub.kit.pagination import Page, PageRequest
from hub.kit.repository import Repository
from hub.kit.sql import between, equal
from hub.quality.models import Product
from hub.recall.models import Recall
from hub.warning.models import ConsumerWarning, Severity, warning_product, warning_recall


@dataclass(frozen=True, slots=True)
class WarningFilter:
    severity: Severity | None = None
    category: str | None = None
    issued_after: date | None = None
    issued_before: date | None = None


def conditions(warning: Any, filter: WarningFilter) -> list[ColumnElement[bool]]:
    """What ``filter`` means for the warnings ``warning`` (the model or an alias's columns);
    its values may be a compiled statement's parameters (``hub.kit.sql``)."""
    return [
        *equal(warning, filter, "severity", "category"),
        *between(warning.issued_on, filter.issued_after, filter.issued_before),
    ]


class WarningRepository(Repository):
    KEYS = (ConsumerWarning.issued_on, ConsumerWarning.id)

    def _select(self, filter: WarningFilter | None = None) -> Select[ConsumerWarning]:
        stmt = select(ConsumerWarning).where(self.published(ConsumerWarning))
        return stmt if filter is None else stmt.where(*conditions(ConsumerWarning, filter))

    async def find(self, filter: WarningFilter, request: PageRequest) -> Page[ConsumerWarning]:
        return await self.page(self._select(filter), self.KEYS, request)

    async def total(self, filter: WarningFilter) -> int:
        return await self.count(self._select(filter))

    async def by_ids(self, ids: Collection[int]) -> dict[int, ConsumerWarning]:
        rows = await self.session.scalars(self._select().where(ConsumerWarning.id.in_(list(ids))))
        return {row.id: row for row in rows}

    async def related_recalls(self, warning_ids: Collection[int]) -> dict[int, list[Recall]]:
        rows = await self.session.execute(
            select(warning_recall.c.warning_id, Recall)
            .join(Recall, Recall.id == warning_recall.c.recall_id)
            .where(warning_recall.c.warning_id.in_(list(warning_ids)), self.published(Recall))
            .order_by(Recall.started_on.desc(), Recall.id.desc())
        )
        grouped: dict[int, list[Recall]] = {wid: [] for wid in warning_ids}
        for warning_id, recall in rows.all():
            grouped[warning_id].append(recall)
        return grouped

    async def related_products(self, warning_ids: Collection[int]) -> dict[int, list[Product]]:
        rows = await self.session.execute(
            select(warning_product.c.warning_id, Product)
            .join(Product, Product.id == warning_product.c.product_id)
            .where(warning_product.c.warning_id.in_(list(warning_ids)), self.published(Product))
            .order_by(Product.id)
        )
        grouped: dict[int, list[Product]] = {wid: [] for wid in warning_ids}
        for warning_id, product in rows.all():
            grouped[warning_id].append(product)
        return grouped
