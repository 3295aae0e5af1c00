"""Tables of counts that can be published without pointing at a person.

A table is a set of *cells*, each a tuple of coordinates (one per dimension, e.g. month,
province, category) with a count; a cell left out counts zero, and zeros are published as
such (they say that nobody is there, which points at nobody). A *line* is the cells that share
every coordinate but one: a row or a column of a two-dimensional table, a row, a column or a
pillar of a three-dimensional one. Whoever knows a line's total and all but one of its counts
knows the last one too.

- **Primary suppression**: a count below the threshold could point at a person; it is withheld.
- **Secondary (complementary) suppression**: a line in which exactly one cell is withheld and
  another is published gets a second withheld cell, so that the line's true total (a press
  release's "complaints in Guangdong in May") and its published cells leave at least two
  unknowns. A new withholding can break another line in turn; this repeats until no line has a
  lone withheld cell beside published ones. The second cell is, in this order of preference:
  one of the newest release (see below: older ones may be known already), one whose other lines
  need a second withheld cell too (one cell mends two lines), one that is not alone on another
  of its lines (that line's total would give it away), the smallest count (the least
  information lost), the first by coordinates. Each round decides every line from the cells
  withheld when the round began, so the result does not depend on any iteration order: the
  same counts give the same table.
- **A table that grows** (a month is added every month): with ``grows_along``, the cells are
  added one value of that coordinate at a time, in order, each addition protected before the
  next one, and a cell once withheld stays withheld. So, as long as old counts stay the same,
  the table of May withholds everything the table of April withheld, and every line of April's
  table (a year-to-date total) keeps its two withheld cells. What an older table published
  stays known, so a complement is taken from the newest release where the line has one; a line
  along the growing dimension whose other cells are all older can only take an older one.
- **Every other number is a sum of published cells** (``totals``): a group's total never
  includes a withheld cell, and says how many it left out, so no total minus its parts can
  recover one.

What remains: a line whose only non-zero cell is withheld cannot be protected (its total *is*
that cell, which is why such a total may only be published as the sum of published cells, here
zero); this complementary suppression is the classic line rule, not a full audit by linear
programming (as tau-ARGUS does), which would also bound what combinations of several lines'
totals reveal.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import groupby

SUPPRESSION_THRESHOLD = 10
"""Below this, a published count could point at a person: it is withheld, not shown. Every
public statistic (complaints, spot checks, recalls, listings) uses this one threshold."""

Cell = tuple[str, ...]
"""The coordinates of a cell, one per dimension of the table."""

Line = tuple[int, tuple[str, ...]]
"""The dimension a line runs along, and the coordinates its cells share."""


@dataclass(frozen=True, slots=True)
class Total:
    """A group of published and withheld cells.

    ``key`` has the group's coordinate on each kept dimension and None on the others;
    ``count`` is the sum of the published cells, None when all are withheld; ``withheld`` is how
    many cells it leaves out (never how many counts: that would give their sum away).
    """

    key: tuple[str | None, ...]
    count: int | None
    withheld: int


class SuppressedTable:
    """A table of counts with the cells to withhold; see the module's description."""

    def __init__(
        self, counts: Mapping[Cell, int], threshold: int, *, grows_along: int | None = None
    ) -> None:
        self.counts = {cell: n for cell, n in counts.items() if n > 0}
        self.threshold = threshold
        self.width = _width(self.counts)
        if grows_along is not None and self.counts and not 0 <= grows_along < self.width:
            raise ValueError(f"grows_along={grows_along} is not a dimension of the table")
        self.withheld = self._suppress(grows_along)

    def published(self, cell: Cell) -> int | None:
        """The count of a cell, None when withheld."""
        return None if cell in self.withheld else self.counts.get(cell, 0)

    def totals(
        self, keep: Iterable[int], where: Callable[[Cell], bool] | None = None
    ) -> list[Total]:
        """Sums of the published cells that satisfy ``where``, grouped by the dimensions
        ``keep`` (none: the grand total), ordered by their coordinates; groups without a
        non-zero cell are left out."""
        kept = frozenset(keep)
        groups: dict[tuple[str | None, ...], list[Cell]] = defaultdict(list)
        for cell in self.counts:
            if where is None or where(cell):
                key = tuple(c if d in kept else None for d, c in enumerate(cell))
                groups[key].append(cell)
        found = []
        for key, cells in groups.items():
            shown = [self.counts[c] for c in cells if c not in self.withheld]
            found.append(Total(key, sum(shown) if shown else None, len(cells) - len(shown)))
        return sorted(found, key=lambda total: tuple(c or "" for c in total.key))

    def exposed_lines(self) -> list[Line]:
        """Lines whose total would give away a withheld cell: exactly one withheld, others
        published. Empty by construction; the check for tests and audits."""
        members = _members(self.counts, self.width)
        return sorted(
            line
            for line, cells in members.items()
            if sum(c in self.withheld for c in cells) == 1
            and any(c not in self.withheld for c in cells)
        )

    def _suppress(self, grows_along: int | None) -> frozenset[Cell]:
        if grows_along is None:
            releases: list[list[Cell]] = [sorted(self.counts)]
        else:
            ordered = sorted(self.counts, key=lambda cell: (cell[grows_along], cell))
            releases = [list(g) for _, g in groupby(ordered, key=lambda c: c[grows_along])]
        members: dict[Line, list[Cell]] = defaultdict(list)
        withheld: set[Cell] = set()
        for release in releases:
            newest = frozenset(release)
            for cell in release:
                for line in _lines(cell, self.width):
                    members[line].append(cell)
            withheld.update(c for c in release if self.counts[c] < self.threshold)
            dirty = {line for cell in release for line in _lines(cell, self.width)}
            while dirty:
                chosen = {
                    self._complement(line, shown, newest, members, withheld)
                    for line, shown in ((line, _lone(members[line], withheld)) for line in dirty)
                    if shown
                }
                withheld |= chosen
                dirty = {line for cell in chosen for line in _lines(cell, self.width)}
        return frozenset(withheld)

    def _complement(
        self,
        line: Line,
        shown: Sequence[Cell],
        newest: frozenset[Cell],
        members: Mapping[Line, list[Cell]],
        withheld: set[Cell],
    ) -> Cell:
        """The published cell of ``line`` to withhold beside its lone withheld one."""

        def preference(cell: Cell) -> tuple[bool, bool, bool, int, Cell]:
            others = [members[other] for other in _lines(cell, self.width) if other != line]
            helps = any(_lone(cells, withheld) for cells in others)
            alone = any(len(cells) == 1 for cells in others)
            return (cell not in newest, not helps, alone, self.counts[cell], cell)

        return min(shown, key=preference)


def _width(counts: Mapping[Cell, int]) -> int:
    widths = {len(cell) for cell in counts}
    if len(widths) > 1:
        raise ValueError(f"cells of different widths {sorted(widths)}")
    return widths.pop() if widths else 0


def _lines(cell: Cell, width: int) -> list[Line]:
    return [(d, cell[:d] + cell[d + 1 :]) for d in range(width)]


def _members(counts: Mapping[Cell, int], width: int) -> dict[Line, list[Cell]]:
    members: dict[Line, list[Cell]] = defaultdict(list)
    for cell in counts:
        for line in _lines(cell, width):
            members[line].append(cell)
    return members


def _lone(cells: Sequence[Cell], withheld: set[Cell]) -> list[Cell]:
    """The published cells of a line with exactly one withheld cell; otherwise none."""
    shown = [c for c in cells if c not in withheld]
    return shown if len(cells) - len(shown) == 1 else []
