"""All SQL of the credit domain."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import Select, select, update

from hub.credit.models import CreditEvaluation
from hub.db import HubSession
from hub.enterprise.models import Enterprise
from hub.kit.pagination import Page, PageRequest
from hub.kit.repository import Repository


async def refresh_current_grades(session: HubSession, enterprise_ids: Collection[int]) -> None:
    """Set each enterprise's current grade to that of its latest evaluation (or none)."""
    if not enterprise_ids:
        return
    latest = (
        select(CreditEvaluation.grade)
        .where(CreditEvaluation.enterprise_id == Enterprise.id)
        .order_by(CreditEvaluation.evaluated_at.desc(), CreditEvaluation.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    await session.execute(
        update(Enterprise)
        .where(
            Enterprise.id.in_(list(enterprise_ids)),
            Enterprise.credit_grade.is_distinct_from(latest),
        )
        .values(credit_grade=latest)
        .execution_options(synchronize_session=False)
    )


class CreditRepository(Repository):
    KEYS = (CreditEvaluation.evaluated_at, CreditEvaluation.id)

    def _select(self) -> Select[CreditEvaluation]:
        return select(CreditEvaluation).where(self.published(CreditEvaluation))

    async def history(
        self, enterprise_ids: Collection[int], request: PageRequest
    ) -> dict[int, Page[CreditEvaluation]]:
        return await self.pages_by_parent(
            CreditEvaluation,
            self._select(),
            CreditEvaluation.enterprise_id,
            enterprise_ids,
            self.KEYS,
            request,
        )

    async def history_counts(self, enterprise_ids: Collection[int]) -> dict[int, int]:
        return await self.counts_by_parent(
            self._select(), CreditEvaluation.enterprise_id, enterprise_ids
        )

    async def by_ids(self, ids: Collection[int]) -> dict[int, CreditEvaluation]:
        rows = await self.session.scalars(self._select().where(CreditEvaluation.id.in_(list(ids))))
        return {row.id: row for row in rows}
