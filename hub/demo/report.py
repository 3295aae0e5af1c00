"""What a seed run wrote and how fast."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from rich.console import Group
from rich.table import Table
from rich.text import Text


@dataclass(frozen=True, slots=True)
class SeedReport:
    """Rows per table (in load order), and the wall-clock time of the whole load."""

    dialect: str
    enterprises: int
    seed: int
    as_of: date
    rows: Mapping[str, int]
    seconds: float

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    @property
    def rows_per_second(self) -> float:
        return self.total_rows / self.seconds if self.seconds > 0 else 0.0


def render_report(report: SeedReport) -> Group:
    """A table of rows per table, then what was seeded and how fast, one short line each."""
    table = Table(title="demo seed")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, count in report.rows.items():
        table.add_row(name, f"{count:,}")
    table.add_section()
    table.add_row("total", f"{report.total_rows:,}", style="bold")
    what = Text(
        f"{report.enterprises:,} enterprises, seed {report.seed}, "
        f"as of {report.as_of.isoformat()} ({report.dialect})"
    )
    speed = Text(
        f"{report.total_rows:,} rows in {report.seconds:.2f} s, "
        f"{report.rows_per_second:,.0f} rows/s"
    )
    return Group(table, what, speed)
