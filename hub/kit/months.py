"""Calendar months of the authority (Asia/Shanghai), written YYYY-MM, and counts per month.

A series of counts per month is published as the cells of a one-dimensional table that grows
by a month at a time (``hub.kit.suppression``): a month below the threshold is withheld, and
so is a complementary month, which stays withheld as later months are added.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from hub.errors import BadUserInputError
from hub.kit.suppression import SuppressedTable
from hub.kit.time import day_of

_MONTH = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")


@dataclass(frozen=True, slots=True)
class MonthCount:
    """The count of one month, None when withheld."""

    month: str
    count: int | None


def parse_month(value: str, argument: str) -> str:
    """A month as people write it in the API, YYYY-MM."""
    month = value.strip()
    if not _MONTH.fullmatch(month):
        raise BadUserInputError(argument, "a month is written YYYY-MM, e.g. 2025-04")
    return month


def month_of(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def month_start(now: datetime) -> date:
    """The first day of the month under way at ``now`` in Asia/Shanghai."""
    return day_of(now).replace(day=1)


def shift(month: str, months: int) -> str:
    """The month ``months`` after ``month`` (before it when negative)."""
    year, number = int(month[:4]), int(month[5:])
    index = year * 12 + number - 1 + months
    return month_of(index // 12, index % 12 + 1)


def last_complete_month(now: datetime) -> str:
    """The last month that is over at ``now``: the newest month of a series."""
    start = month_start(now)
    return shift(month_of(start.year, start.month), -1)


def monthly_series(
    counts: Mapping[str, int], threshold: int, *, first: str | None, last: str
) -> list[MonthCount]:
    """Every month from ``first`` to ``last``, but none before the first month counted.

    A month without a count counts zero, which is published (it points at nobody). The whole
    of ``counts`` is suppressed before the range picks its months, so no choice of range
    changes which months are withheld.
    """
    table = SuppressedTable({(month,): n for month, n in counts.items()}, threshold, grows_along=0)
    counted = sorted(month for month, n in counts.items() if n > 0)
    if not counted:
        return []
    month = max(first or counted[0], counted[0])
    series = []
    while month <= last:
        series.append(MonthCount(month, table.published((month,))))
        month = shift(month, 1)
    return series
