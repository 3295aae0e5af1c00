"""When a record is in a view: a window between instants its own columns give.

A time rule (published; a blacklist listing in force; a licence in force) is declared once as a
``Window``: the columns whose instants open it and those that close it. Two readers use the one
declaration:

- SQL readers ask whether the window holds at a request's instant (``Window.holds``), as
  conditions on the columns themselves, so that their indexes serve them;
- the search index, which cannot run SQL, stores the period itself (``Window.period``) and
  compares it with the request's instant, so no reader keeps a copy of the rule's logic.

A column holds an instant, or a calendar day of the authority (Asia/Shanghai) that takes effect
when the day begins; an inclusive day (the last day of a period) takes effect as the next begins.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement

from hub.kit.time import SHANGHAI, Instant


@dataclass(frozen=True, slots=True)
class Edge:
    """One bound of a window: the instant ``column`` gives."""

    column: str
    day: bool = False
    """The column holds a day of the authority's calendar, not an instant."""
    inclusive: bool = False
    """A day that still counts (the last day of a period): it takes effect the day after."""

    def reached(self, row: Any, instant: Instant) -> ColumnElement[bool]:
        """Whether ``instant`` is at or after the edge (never, for a null column)."""
        column = getattr(row, self.column)
        if not self.day:
            reached: ColumnElement[bool] = column <= instant.now
        elif self.inclusive:
            reached = column < instant.today
        else:
            reached = column <= instant.today
        return reached

    def not_reached(self, row: Any, instant: Instant) -> ColumnElement[bool]:
        """Whether ``instant`` is before the edge: ``reached``'s opposite, for a non-null
        column, written so that an index on the column serves it."""
        column = getattr(row, self.column)
        if not self.day:
            before: ColumnElement[bool] = column > instant.now
        elif self.inclusive:
            before = column >= instant.today
        else:
            before = column > instant.today
        return before

    def moment(self, value: datetime | date | None) -> datetime | None:
        """The instant the edge takes effect, for the column's ``value``."""
        if value is None:
            return None
        if not self.day:
            assert isinstance(value, datetime)
            return value
        assert isinstance(value, date)
        day = value + timedelta(days=1) if self.inclusive else value
        return datetime.combine(day, time(), SHANGHAI)


@dataclass(frozen=True, slots=True)
class Window:
    """Open from the last of ``starts`` to the first of ``ends`` (columns that are never null);
    never open while a start is null."""

    starts: tuple[Edge, ...]
    ends: tuple[Edge, ...] = ()

    def holds(self, row: Any, instant: Instant) -> list[ColumnElement[bool]]:
        """Conditions on ``row`` (a model or an alias's columns): the window holds ``instant``."""
        return [
            *(edge.reached(row, instant) for edge in self.starts),
            *(edge.not_reached(row, instant) for edge in self.ends),
        ]

    def period(
        self, values: Mapping[str, Any], *more_ends: datetime | None
    ) -> tuple[datetime, datetime | None] | None:
        """The half-open period ``[start, end)`` the window holds for a row's ``values`` (by
        column), closed earlier by any of ``more_ends``; None when it never holds."""
        starts = [edge.moment(values[edge.column]) for edge in self.starts]
        if any(start is None for start in starts):
            return None
        start = max(s for s in starts if s is not None)
        ends = [edge.moment(values[edge.column]) for edge in self.ends]
        found = [end for end in (*ends, *more_ends) if end is not None]
        end = min(found) if found else None
        if end is not None and end <= start:
            return None
        return start, end
