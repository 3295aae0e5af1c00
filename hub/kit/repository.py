"""The shape every domain repository shares: a session, a principal, and paging helpers.

Row rules belong to each domain's repository; the one rule common to all of them, that only
published records reach callers below the internal tier, lives here so it is written once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, func, select, true
from sqlalchemy.orm import InstrumentedAttribute, aliased

from hub.auth.principal import Principal
from hub.db import HubSession
from hub.kit.pagination import (
    Page,
    PageRequest,
    apply_keyset,
    keyset_condition,
    make_page,
    ordering,
)
from hub.kit.time import Instant
from hub.kit.window import Edge, Window

M = TypeVar("M")


class Repository:
    def __init__(self, session: HubSession, principal: Principal) -> None:
        self.session = session
        self.principal = principal

    @property
    def instant(self) -> Instant:
        """The moment this request's reads are about (``HubSession.instant``)."""
        return self.session.instant

    def published(self, model: Any) -> ColumnElement[bool]:
        """``published`` below the internal tier; the internal tier sees drafts too."""
        if self.principal.sees_unpublished:
            return true()
        return published(model, self.instant)

    async def page(
        self,
        stmt: Select[M],
        keys: Sequence[InstrumentedAttribute[Any]],
        request: PageRequest,
        *,
        descending: bool = True,
    ) -> Page[M]:
        """One keyset page of ``stmt``, whose single column is an ORM entity."""
        rows = (await self.session.scalars(apply_keyset(stmt, keys, descending, request))).all()
        return make_page(rows, request, _key_getter(keys))

    async def count(self, stmt: Select[Any]) -> int:
        total = await self.session.scalar(
            select(func.count()).select_from(stmt.order_by(None).subquery())
        )
        return int(total or 0)

    async def pages_by_parent(
        self,
        model: type[M],
        stmt: Select[M],
        parent: InstrumentedAttribute[Any],
        parent_ids: Collection[Any],
        keys: Sequence[InstrumentedAttribute[Any]],
        request: PageRequest,
        *,
        descending: bool = True,
    ) -> dict[Any, Page[M]]:
        """The same page of children for many parents, in one statement.

        A window function numbers each parent's children in sort order, so the statement count
        stays one however many parents the GraphQL page holds.
        """
        stmt = stmt.where(parent.in_(list(parent_ids)))
        if request.after is not None:
            stmt = stmt.where(keyset_condition(keys, request.after, descending))
        rank = (
            func.row_number()
            .over(partition_by=parent, order_by=ordering(keys, descending))
            .label("rank")
        )
        ranked = stmt.add_columns(rank).subquery()
        entity = aliased(model, ranked)
        rows = (
            await self.session.scalars(
                select(entity)
                .where(ranked.c.rank <= request.first + 1)
                .order_by(ranked.c[parent.key], ranked.c.rank)
            )
        ).all()
        grouped: dict[Any, list[M]] = defaultdict(list)
        for row in rows:
            grouped[getattr(row, parent.key)].append(row)
        key_of = _key_getter(keys)
        return {pid: make_page(grouped.get(pid, []), request, key_of) for pid in parent_ids}

    async def counts_by_parent(
        self, stmt: Select[Any], parent: InstrumentedAttribute[Any], parent_ids: Collection[Any]
    ) -> dict[Any, int]:
        stmt = stmt.where(parent.in_(list(parent_ids)))
        sub = stmt.subquery()
        rows = await self.session.execute(
            select(sub.c[parent.key], func.count()).group_by(sub.c[parent.key])
        )
        counts: dict[Any, int] = {pid: 0 for pid in parent_ids}
        counts.update({pid: int(n) for pid, n in rows.all()})
        return counts


PUBLISHED = Window(starts=(Edge("published_at"),))
"""A record exists below the internal tier once its ``published_at`` has passed (drafts have
none, a scheduled publication one in the future)."""


def published(record: Any, instant: Instant) -> ColumnElement[bool]:
    """``PUBLISHED`` at ``instant``. ``record`` is a model or an alias's columns (``alias.c``):
    the compiled path renders the same rule over its own aliases (``schema.compiled``)."""
    return and_(*PUBLISHED.holds(record, instant))


def _key_getter(keys: Sequence[InstrumentedAttribute[Any]]) -> Callable[[Any], tuple[Any, ...]]:
    names = [key.key for key in keys]
    return lambda item: tuple(getattr(item, name) for name in names)
