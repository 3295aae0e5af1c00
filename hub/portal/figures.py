"""The statistics page's figures: the API's answer as rows of the data tables and bars of the
charts, in the same order, so that each chart and the table after it say the same."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hub.portal.charts import Chart, Item, columns, horizontal_bars, percent, percent_tick, whole

#: How many months the charts per month show unless the reader picks other months.
DEFAULT_MONTHS = 24


@dataclass(frozen=True, slots=True)
class Rate:
    """A row of a failure-rate table: None where the API withholds the figure."""

    name: str
    checks: int | None
    failed: int | None
    rate: float | None

    @property
    def shown(self) -> str | None:
        return None if self.rate is None else percent(self.rate)


@dataclass(frozen=True, slots=True)
class Month:
    """A row of a table per month: None when withheld."""

    month: str
    count: int | None


@dataclass(frozen=True, slots=True)
class Figures:
    """One chart and its data table."""

    rows: Sequence[Rate] | Sequence[Month]
    chart: Chart


def rates(groups: Sequence[Mapping[str, Any]], name: str) -> Figures:
    """Failure rates, highest first, then the withheld ones in the API's order (by code or
    name); ``name`` picks a group's name (``region`` or ``category``)."""
    rows = [
        Rate(
            name=group["region"]["name"] if name == "region" else group["category"],
            checks=group["checks"],
            failed=group["failed"],
            rate=group["failureRate"],
        )
        for group in groups
    ]
    rows.sort(key=lambda row: (row.rate is None, -(row.rate or 0.0)))
    chart = horizontal_bars([Item(row.name, row.rate, row.shown) for row in rows], percent_tick)
    return Figures(rows, chart)


def monthly(months: Sequence[Mapping[str, Any]]) -> Figures:
    """Counts per month, oldest first, as the API gives them."""
    rows = [Month(month["month"], month["count"]) for month in months]
    items = [
        Item(row.month, row.count, None if row.count is None else whole(row.count)) for row in rows
    ]
    return Figures(rows, columns(items, whole))
