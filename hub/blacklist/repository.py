"""All SQL of the blacklist domain, including who may see which entry."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, Select, and_, exists, extract, func, select, true

from hub.auth.principal import ANONYMOUS
from hub.blacklist.models import BlacklistEntry, BlacklistRemoval, ListType
from hub.kit.codes import region_range
from hub.kit.months import MonthCount, last_complete_month, month_of, month_start, monthly_series
from hub.kit.pagination import Page, PageRequest
from hub.kit.repository import Repository
from hub.kit.suppression import SUPPRESSION_THRESHOLD
from hub.kit.time import NOW_SQL, TODAY_SQL, today, utcnow


@dataclass(frozen=True, slots=True)
class BlacklistFilter:
    region_code: str | None = None
    list_type: ListType | None = None
    listed_after: date | None = None
    listed_before: date | None = None
    enterprise_id: int | None = None


def in_force(on: date | None = None) -> ColumnElement[bool]:
    """A published listing whose publicity period runs on ``on`` and that was not removed."""
    day = on or today()
    removed = exists().where(
        BlacklistRemoval.entry_id == BlacklistEntry.id, BlacklistRemoval.removed_on <= day
    )
    return and_(
        BlacklistEntry.published_at <= utcnow(),
        BlacklistEntry.listed_on <= day,
        BlacklistEntry.publicity_ends_on >= day,
        ~removed,
    )


def in_force_sql(alias: str) -> str:
    """``in_force()`` as SQL text over the entry ``alias``, for statements prepared once
    (``schema.compiled``): the instant and the day are the database's (``NOW_SQL``)."""
    return (
        f"{alias}.published_at <= {NOW_SQL} AND {alias}.listed_on <= {TODAY_SQL} "
        f"AND {alias}.publicity_ends_on >= {TODAY_SQL} AND NOT EXISTS (SELECT FROM "
        f"{BlacklistRemoval.__tablename__} r WHERE r.entry_id = {alias}.id "
        f"AND r.removed_on <= {TODAY_SQL})"
    )


def listed_sql(enterprise: str) -> str:
    """``listed_enterprises()`` as SQL text: ``enterprise`` has a listing in force."""
    return (
        f"EXISTS (SELECT FROM {BlacklistEntry.__tablename__} b WHERE b.enterprise_id = "
        f"{enterprise}.id AND {in_force_sql('b')})"
    )


def removal_sql(entry: str, column: str) -> str:
    """A column of the entry's removal (``BlacklistRepository.removals``), as SQL text."""
    return (
        f"(SELECT r.{column} FROM {BlacklistRemoval.__tablename__} r WHERE r.entry_id = {entry}.id)"
    )


def listed_enterprises() -> Select[int]:
    """Ids of enterprises with a listing in force: what ``blacklisted`` means for everyone."""
    return select(BlacklistEntry.enterprise_id).where(in_force())


class BlacklistRepository(Repository):
    KEYS = (BlacklistEntry.listed_on, BlacklistEntry.id)

    def visible(self) -> ColumnElement[bool]:
        """Below internal, an entry exists only while it is published and in force."""
        if self.principal.sees_unpublished:
            return true()
        return in_force()

    def _select(self, filter: BlacklistFilter) -> Select[BlacklistEntry]:
        stmt = select(BlacklistEntry).where(self.visible())
        if filter.region_code is not None:
            # The entry's copy of its enterprise's region: no enterprise is read to filter.
            low, high = region_range(filter.region_code)
            stmt = stmt.where(BlacklistEntry.region_code >= low, BlacklistEntry.region_code < high)
        if filter.list_type is not None:
            stmt = stmt.where(BlacklistEntry.list_type == filter.list_type)
        if filter.listed_after is not None:
            stmt = stmt.where(BlacklistEntry.listed_on >= filter.listed_after)
        if filter.listed_before is not None:
            stmt = stmt.where(BlacklistEntry.listed_on <= filter.listed_before)
        if filter.enterprise_id is not None:
            stmt = stmt.where(BlacklistEntry.enterprise_id == filter.enterprise_id)
        return stmt

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
        """Which of these enterprises have a listing in force today."""
        rows = await self.session.scalars(
            listed_enterprises().where(BlacklistEntry.enterprise_id.in_(list(enterprise_ids)))
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
