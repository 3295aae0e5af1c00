"""Time: stored in UTC, shown with a zone; the authority's calendar is Asia/Shanghai."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Date, DateTime, cast, func, literal
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True, slots=True)
class Instant:
    """The moment a request's reads are about, as SQL: decided once per request.

    Every row rule takes one (``hub.kit.repository.published``, ``hub.blacklist.repository.
    in_force``, ...), so the resolvers, the compiled statements and the search filters judge a
    record at the same moment, and an "as of" read can pass a past instant later.

    - ``Instant.database()``, a request about now on PostgreSQL: the transaction's own
      timestamp, ``now()``. One request is one transaction (one session for the resolvers, one
      statement for the compiled path), so every statement of it sees the same instant. It is
      a stable function, not a parameter: the planner evaluates it when it estimates a
      condition such as ``published_at <= now()``, even in a generic plan, where a parameter's
      value is unknown and its selectivity a guess (a guess that made the W2 listing's generic
      plan sort every row of its province, commit 5dabd16).
    - ``Instant.at(moment)``: a moment of the application's clock, bound as a value. SQLite
      has no transaction timestamp, so there each request fixes its instant when its session
      opens, and a compiled read binds the request's as its statement's parameters
      (``schema.compiled.render.Renderer.instant``).
    """

    now: ColumnElement[datetime]
    """The instant."""
    today: ColumnElement[date]
    """The day of the instant in the authority's calendar (Asia/Shanghai)."""

    @classmethod
    def database(cls) -> Instant:
        now = func.now()
        return cls(now, cast(func.timezone(SHANGHAI.key, now), Date))

    @classmethod
    def at(cls, moment: datetime) -> Instant:
        return cls(literal(moment, UTCDateTime()), literal(day_of(moment), Date()))

    @classmethod
    def for_dialect(cls, dialect: str, moment: datetime | None = None) -> Instant:
        """ "Now" on ``dialect``: the database's own instant where it has one."""
        if dialect == "postgresql":
            return cls.database()
        return cls.at(moment or utcnow())


def utcnow() -> datetime:
    return datetime.now(UTC)


def day_of(moment: datetime) -> date:
    """The day of ``moment`` in the authority's calendar (Asia/Shanghai)."""
    return moment.astimezone(SHANGHAI).date()


def today() -> date:
    """Today in the authority's calendar, which decides whether a publicity period runs."""
    return day_of(utcnow())


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always aware: stored in UTC, read back in UTC, on every dialect.

    SQLite keeps no zone, so a naive value read from it is UTC by construction.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware one is required")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
