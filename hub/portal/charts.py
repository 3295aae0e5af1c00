"""Bar charts drawn on the server: the geometry of each bar, axis tick and label, in SVG's units.

The page needs no script to show a chart; ``templates/charts.html`` writes the SVG from what
this module computes, in the reader's language. A withheld figure has no bar, only a mark, so a
chart never suggests a value the table below it does not give.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

#: The width of every chart in SVG units; the page scales it to the column it is in.
WIDTH = 880

_ROW = 24
"""Height of one bar's row in a chart of horizontal bars."""

_LABEL_WIDTH = 140
"""Room for a row's label (a province or a category, at most eight CJK characters)."""

_VALUE_ROOM = 90
"""Room right of the longest bar for its value, or for the word that it is withheld."""

_COLUMNS_HEIGHT = 260
_AXIS_WIDTH = 48
_MONTH_LABEL_WIDTH = 56
"""How wide a month's label (2025-04) is at the chart's font size, with a gap."""


@dataclass(frozen=True, slots=True)
class Item:
    """One figure of a chart: its label, its value (None: withheld) and the value as shown."""

    label: str
    value: float | None
    shown: str | None


@dataclass(frozen=True, slots=True)
class Bar:
    """A figure's bar (none when withheld) and where its label and value are written."""

    label: str
    value: float | None
    shown: str | None
    x: float
    y: float
    width: float
    height: float
    label_x: float
    label_y: float
    value_x: float
    value_y: float
    show_label: bool = True
    show_value: bool = True


@dataclass(frozen=True, slots=True)
class Tick:
    """A grid line of the value axis: where it is and what it reads."""

    at: float
    text: str


@dataclass(frozen=True, slots=True)
class Chart:
    horizontal: bool
    width: int
    height: int
    left: float
    top: float
    right: float
    bottom: float
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]

    @property
    def withheld(self) -> int:
        return sum(bar.value is None for bar in self.bars)


def nice_ticks(maximum: float, *, steps: int = 4, least: float = 0.0) -> list[float]:
    """Round values from 0 to at least ``maximum``: about ``steps`` of 1, 2 or 5 × 10^n, each
    at least ``least`` (1 for counts, which have no halves)."""
    if maximum <= 0:
        return [0.0]
    rough = maximum / steps
    power = 10 ** math.floor(math.log10(rough))
    step = max(least, next(m * power for m in (1, 2, 5, 10) if m * power >= rough))
    count = math.ceil(maximum / step - 1e-9)
    return [round(i * step, 12) for i in range(count + 1)]


def horizontal_bars(items: Sequence[Item], text: Callable[[float], str]) -> Chart:
    """One row per item, its bar's length its value; ``text`` writes a tick's value."""
    ticks = nice_ticks(_largest(items))
    top, left = 24.0, float(_LABEL_WIDTH)
    right = float(WIDTH - _VALUE_ROOM)
    bottom = top + _ROW * len(items)
    scale = (right - left) / ticks[-1] if ticks[-1] > 0 else 0.0
    bars = []
    for row, item in enumerate(items):
        y = top + row * _ROW
        length = (item.value or 0.0) * scale
        bars.append(
            Bar(
                label=item.label,
                value=item.value,
                shown=item.shown,
                x=left,
                y=y + 4,
                width=round(length, 2),
                height=_ROW - 8,
                label_x=left - 8,
                label_y=y + _ROW / 2,
                value_x=round(left + length + 6, 2),
                value_y=y + _ROW / 2,
            )
        )
    return Chart(
        horizontal=True,
        width=WIDTH,
        height=int(bottom + 8),
        left=left,
        top=top,
        right=right,
        bottom=bottom,
        bars=tuple(bars),
        ticks=tuple(Tick(round(left + t * scale, 2), text(t)) for t in ticks),
    )


def columns(items: Sequence[Item], text: Callable[[float], str]) -> Chart:
    """One column per item, left to right (months, oldest first), of whole counts; labels as
    many as fit."""
    ticks = nice_ticks(_largest(items), least=1.0)
    top, left = 20.0, float(_AXIS_WIDTH)
    # Room on the right for half of the last month's label.
    right, bottom = float(WIDTH - _MONTH_LABEL_WIDTH / 2), float(_COLUMNS_HEIGHT - 28)
    band = (right - left) / max(len(items), 1)
    every = max(1, math.ceil(_MONTH_LABEL_WIDTH / band))
    scale = (bottom - top) / ticks[-1] if ticks[-1] > 0 else 0.0
    bars = []
    for position, item in enumerate(items):
        x = left + position * band
        height = (item.value or 0.0) * scale
        bars.append(
            Bar(
                label=item.label,
                value=item.value,
                shown=item.shown,
                x=round(x + band * 0.15, 2),
                y=round(bottom - height, 2),
                width=round(band * 0.7, 2),
                height=round(height, 2),
                label_x=round(x + band / 2, 2),
                label_y=bottom + 18,
                value_x=round(x + band / 2, 2),
                value_y=round(bottom - height - 5, 2),
                show_label=position % every == 0,
                # A value above its column only where it fits; the table has every one.
                show_value=band >= 26,
            )
        )
    return Chart(
        horizontal=False,
        width=WIDTH,
        height=_COLUMNS_HEIGHT,
        left=left,
        top=top,
        right=right,
        bottom=bottom,
        bars=tuple(bars),
        ticks=tuple(Tick(round(bottom - t * scale, 2), text(t)) for t in ticks),
    )


def _largest(items: Sequence[Item]) -> float:
    return max((item.value for item in items if item.value is not None), default=0.0)


def percent(value: float) -> str:
    """A rate from 0 to 1 as the page prints it: 12.3%."""
    return f"{value * 100:.1f}%"


def percent_tick(value: float) -> str:
    """A grid line's rate, as round as the grid: 5%, 2.5%."""
    return f"{value * 100:g}%"


def whole(value: float) -> str:
    return f"{value:.0f}"
