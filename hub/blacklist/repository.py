"""All SQL of the blacklist domain, including who may see which entry."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, extract, func, select, true

from hub.auth.principal import ANONYMOUS
from hub.blacklist.models import BlacklistEntry, BlacklistRemoval, ListType
from hub.enterprise.models import Enterprise
from hub.kit.months import MonthCount, last_complete_month, month_of, month_start, monthly_series
from hub.kit.pagination import Page, PageRequest
from hub.kit.repository import PUBLISHED, Repository
from hub.kit.sql import between, equal, within_region
from hub.kit.suppression import SUPPRESSION_THRESHOLD
from hub.kit.time import Instant, utcnow
from hub.kit.window import Edge, Window


@dataclass(frozen=True, slots=True)
class BlacklistFilter:
    region_code: str | None = None
    list_type: ListType | None = None
    listed_after: date | None = None
    listed_before: date | None = None
    enterprise_id: int | None = None


IN_FORCE = Window(
    starts=(*PUBLISHED.starts, Edge("listed_on", day=True)),
    ends=(Edge("publicity_ends_on", day=True, inclusive=True),),
)
"""A listing is in force while published, from its listing day through the last day of its
publicity period (公示期), until it is removed (``REMOVED``). Below the internal tier only such
an entry exists at all, and an enterprise with one is ``blacklisted``."""

REMOVED = Edge("removed_on", day=True)
"""A removal (移出) ends the listing from its day on."""


def in_force(entry: Any, instant: Instant) -> ColumnElement[bool]:
    """``IN_FORCE`` at ``instant`` and not ``REMOVED``. ``entry`` is the model or an alias's
    columns (``alias.c``): the compiled path renders the same rule over its own aliases."""
    removal = BlacklistRemoval.__table__.alias()
    removed = exists().where(removal.c.entry_id == entry.id, REMOVED.reached(removal.c, instant))
    return and_(*IN_FORCE.holds(entry, instant), ~removed)


def in_force_period(
    values: Mapping[str, Any], removed_on: date | None
) -> tuple[datetime, datetime | None] | None:
    """When a listing with these column ``values`` is in force (``in_force``), for readers
    that keep the period rather than ask SQL (the search index)."""
    return IN_FORCE.period(values, REMOVED.moment(removed_on))


def listed(enterprise: Any, instant: Instant) -> ColumnElement[bool]:
    """Whether ``enterprise`` (a model or an alias's columns) has a listing in force: what
    ``blacklisted`` means, for every caller and every reader."""
    entry = BlacklistEntry.__table__.alias()
    return exists().where(entry.c.enterprise_id == enterprise.id, in_force(entry.c, instant))


def removal(entry: Any, column: str) -> ColumnElement[Any]:
    """A column of the entry's removal, if it was removed (``BlacklistRepository.removals``)."""
    found = BlacklistRemoval.__table__.alias()
    return select(found.c[column]).where(found.c.entry_id == entry.id).scalar_subquery()


def listed_enterprises(instant: Instant | None = None) -> Select[int]:
    """Ids of enterprises with a listing in force (``in_force``). Prefer ``listed``, a
    correlated condition; this is for the search index's readers until they move to it."""
    moment = instant or Instant.at(utcnow())
    return select(BlacklistEntry.enterprise_id).where(in_force(BlacklistEntry, moment))


def conditions(entry: Any, filter: BlacklistFilter) -> list[ColumnElement[bool]]:
    """What ``filter`` means for the entries ``entry`` (the model or an alias's columns); its
    values may be a compiled statement's parameters (``hub.kit.sql``)."""
    found = [
        *equal(entry, filter, "list_type", "enterprise_id"),
        *between(entry.listed_on, filter.listed_after, filter.listed_before),
    ]
    if filter.region_code is not None:
        # The entry's copy of its enterprise's region: no enterprise is read to filter.
        found += within_region(entry.region_code, filter.region_code)
    return found


class BlacklistRepository(Repository):
    KEYS = (BlacklistEntry.listed_on, BlacklistEntry.id)

    def visible(self) -> ColumnElement[bool]:
        """Below internal, an entry exists only while it is in force (``in_force``)."""
        if self.principal.sees_unpublished:
            return true()
        return in_force(BlacklistEntry, self.instant)

    def _select(self, filter: BlacklistFilter) -> Select[BlacklistEntry]:
        return select(BlacklistEntry).where(self.visible(), *conditions(BlacklistEntry, filter))

    async def find(self, filter: BlacklistFilter, request: PageRequest) -> Page[BlacklistEntry]:
        return await self.page(self._select(filter), self.KEYS, request)

    async def total(self, filter: BlacklistFilter) -> int:
        return await self.count(self._select(filter))

    async def by_ids(self, ids: Collection[int]) -> dict[int, BlacklistEntry]:
        rows = await self.session.scalars(
            select(BlacklistEntry).where(BlacklistEntry.id.in_(list(ids)), self.visible())
        )
        return {row.id: row for row in rows}

    async def by_enterprises(
        self, enterprise_ids: Collection[int]
    ) -> dict[int, list[BlacklistEntry]]:
        rows = await self.session.scalars(
            select(BlacklistEntry)
            .where(BlacklistEntry.enterprise_id.in_(list(enterprise_ids)), self.visible())
            .order_by(BlacklistEntry.listed_on.desc(), BlacklistEntry.id.desc())
        )
        grouped: dict[int, list[BlacklistEntry]] = {eid: [] for eid in enterprise_ids}
        for row in rows:
            grouped[row.enterprise_id].append(row)
        return grouped

    async def listed(self, enterprise_ids: Collection[int]) -> set[int]:
        """Which of these enterprises have a listing in force (``listed``)."""
        rows = await self.session.scalars(
            select(Enterprise.id).where(
                Enterprise.id.in_(list(enterprise_ids)), listed(Enterprise, self.instant)
            )
        )
        return set(rows)

    async def removals(self, entry_ids: Collection[int]) -> dict[int, BlacklistRemoval]:
        rows = await self.session.scalars(
            select(BlacklistRemoval).where(BlacklistRemoval.entry_id.in_(list(entry_ids)))
        )
        return {row.entry_id: row for row in rows}

    async def counts_by_month(
        self, first: str | None, last: str | None, now: datetime
    ) -> list[MonthCount]:
        """Listings the public sees (in force) by the month they were listed (YYYY-MM), from
        ``first`` to ``last``, in the months before the one under way at ``now``
        (Asia/Shanghai).

        The same figures for every caller: a removed, lapsed or unpublished listing counts in
        no month. A month of fewer than ``SUPPRESSION_THRESHOLD`` listings is withheld, with
        a complementary month, as in the public complaint statistics (``hub.kit.months``).
        """
        public = BlacklistRepository(self.session, ANONYMOUS)
        year = extract("year", BlacklistEntry.listed_on).label("year")
        month = extract("month", BlacklistEntry.listed_on).label("month")
        stmt = (
            public._select(BlacklistFilter())
            .with_only_columns(year, month, func.count())
            .where(BlacklistEntry.listed_on < month_start(now))
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
