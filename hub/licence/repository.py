"""All SQL of the licence domain."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, select, update

from hub.db import HubSession
from hub.enterprise.models import Enterprise
from hub.kit.pagination import Page, PageRequest
from hub.kit.repository import PUBLISHED, Repository
from hub.kit.sql import containing, equal, value_of, within_region
from hub.kit.time import Instant
from hub.kit.window import Edge, Window
from hub.licence.models import Licence, LicenceStatus, LicenceStatusEvent


async def refresh_statuses(session: HubSession, licence_ids: Collection[int]) -> None:
    """Set each licence's status to that of its latest status event, where it has one."""
    if not licence_ids:
        return
    latest = (
        select(LicenceStatusEvent.status)
        .where(LicenceStatusEvent.licence_id == Licence.id)
        .order_by(LicenceStatusEvent.at.desc(), LicenceStatusEvent.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    has_events = select(LicenceStatusEvent.id).where(LicenceStatusEvent.licence_id == Licence.id)
    await session.execute(
        update(Licence)
        .where(
            Licence.id.in_(list(licence_ids)),
            has_events.exists(),
            Licence.status.is_distinct_from(latest),
        )
        .values(status=latest)
        .execution_options(synchronize_session=False)
    )


@dataclass(frozen=True, slots=True)
class LicenceFilter:
    status: LicenceStatus | None = None
    region_code: str | None = None
    product: str | None = None
    valid_on: date | None = None
    expires_before: date | None = None


IN_FORCE = Window(
    starts=(*PUBLISHED.starts, Edge("valid_from", day=True)),
    ends=(Edge("valid_until", day=True, inclusive=True),),
)
"""A licence in force (a valid licence): published, in status ``VALID`` (``standing``), from the
first day of its validity through the last."""


def standing(licence: Any) -> ColumnElement[bool]:
    """The status a licence must have to be in force."""
    found: ColumnElement[bool] = licence.status == LicenceStatus.VALID
    return found


def in_force(licence: Any, instant: Instant) -> ColumnElement[bool]:
    """``IN_FORCE`` at ``instant``, over the model or an alias's columns."""
    return and_(standing(licence), *IN_FORCE.holds(licence, instant))


def holds_licence(enterprise: Any, instant: Instant) -> ColumnElement[bool]:
    """Whether ``enterprise`` (a model or an alias's columns) holds a licence in force at
    ``instant``: what "has a valid licence" means, for every caller and every reader."""
    licence = Licence.__table__.alias()
    return exists().where(licence.c.enterprise_id == enterprise.id, in_force(licence.c, instant))


def conditions(licence: Any, filter: LicenceFilter) -> list[ColumnElement[bool]]:
    """What ``filter`` means for the licences ``licence`` (the model or an alias's columns);
    its values may be a compiled statement's parameters (``hub.kit.sql``)."""
    found = equal(licence, filter, "status")
    if filter.region_code is not None:
        holders = select(Enterprise.id).where(
            *within_region(Enterprise.region_code, filter.region_code)
        )
        found.append(licence.enterprise_id.in_(holders))
    if filter.product is not None:
        found.append(containing(licence.product, filter.product))
    if filter.valid_on is not None:
        found.append(licence.valid_from <= value_of(filter.valid_on, licence.valid_from))
        found.append(licence.valid_until >= value_of(filter.valid_on, licence.valid_until))
    if filter.expires_before is not None:
        found.append(licence.valid_until < value_of(filter.expires_before, licence.valid_until))
    return found


class LicenceRepository(Repository):
    KEYS = (Licence.valid_from, Licence.id)
    HISTORY_KEYS = (LicenceStatusEvent.at, LicenceStatusEvent.id)
    """A licence's status changes, oldest first: the last one is the current status."""

    def _select(self, filter: LicenceFilter | None = None) -> Select[Licence]:
        stmt = select(Licence).where(self.published(Licence))
        return stmt if filter is None else stmt.where(*conditions(Licence, filter))

    async def find(self, filter: LicenceFilter, request: PageRequest) -> Page[Licence]:
        return await self.page(self._select(filter), self.KEYS, request)

    async def total(self, filter: LicenceFilter) -> int:
        return await self.count(self._select(filter))

    async def by_numbers(self, numbers: Collection[str]) -> dict[str, Licence]:
        rows = await self.session.scalars(self._select().where(Licence.number.in_(list(numbers))))
        return {row.number: row for row in rows}

    async def by_ids(self, ids: Collection[int]) -> dict[int, Licence]:
        rows = await self.session.scalars(self._select().where(Licence.id.in_(list(ids))))
        return {row.id: row for row in rows}

    async def by_enterprises(
        self, enterprise_ids: Collection[int], filter: LicenceFilter, request: PageRequest
    ) -> dict[int, Page[Licence]]:
        return await self.pages_by_parent(
            Licence, self._select(filter), Licence.enterprise_id, enterprise_ids, self.KEYS, request
        )

    async def counts_by_enterprise(
        self, enterprise_ids: Collection[int], filter: LicenceFilter
    ) -> dict[int, int]:
        return await self.counts_by_parent(
            self._select(filter), Licence.enterprise_id, enterprise_ids
        )

    async def history(self, licence_ids: Collection[int]) -> dict[int, list[LicenceStatusEvent]]:
        rows = await self.session.scalars(
            select(LicenceStatusEvent)
            .where(LicenceStatusEvent.licence_id.in_(list(licence_ids)))
            .order_by(*self.HISTORY_KEYS)
        )
        grouped: dict[int, list[LicenceStatusEvent]] = {lid: [] for lid in licence_ids}
        for row in rows:
            grouped[row.licence_id].append(row)
        return grouped
