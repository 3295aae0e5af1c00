"""Time: stored in UTC, shown with a zone; the authority's calendar is Asia/Shanghai."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

SHANGHAI = ZoneInfo("Asia/Shanghai")

NOW_SQL = "statement_timestamp()"
"""``utcnow()`` in PostgreSQL: the instant the statement began, by the database's clock.

For SQL text prepared once and run at any time (``schema.compiled``). A stable function, not a
parameter: the planner evaluates it when it estimates a condition such as ``published_at <=
NOW_SQL``, even in a generic plan, where a parameter's value is unknown and its selectivity a
guess (a guess that made the W2 listing's generic plan sort every row of its province)."""

TODAY_SQL = f"({NOW_SQL} AT TIME ZONE '{SHANGHAI.key}')::date"
"""``today()`` in PostgreSQL, from the same instant as ``NOW_SQL``."""


def utcnow() -> datetime:
    return datetime.now(UTC)


def today() -> date:
    """Today in the authority's calendar, which decides whether a publicity period runs."""
    return datetime.now(SHANGHAI).date()


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
