"""hub.kit.suppression: primary and complementary suppression over a table of cells."""

from __future__ import annotations

import random

import hypothesis.strategies as st
import pytest
from hypothesis import given, settings

from hub.kit.suppression import Cell, SuppressedTable, Total

Counts = dict[Cell, int]


def test_a_lone_small_cell_takes_a_rectangle_with_it() -> None:
    # given: a 2 × 3 table whose one small cell sits in row r1 and column a
    counts = {
        ("r1", "a"): 3, ("r1", "b"): 20, ("r1", "c"): 30,
        ("r2", "a"): 15, ("r2", "b"): 40, ("r2", "c"): 12,
    }  # fmt: skip

    table = SuppressedTable(counts, 10)

    # then: row r1 gives b (smaller than c), column a gives r2; row r2 and column b each need a
    # second cell and take the one they share (r2, b), although (r2, c) is smaller
    assert table.withheld == {("r1", "a"), ("r1", "b"), ("r2", "a"), ("r2", "b")}
    assert table.exposed_lines() == []
    assert [table.published(cell) for cell in sorted(counts)] == [None, None, 30, None, None, 12]


def test_nothing_is_withheld_without_a_small_count() -> None:
    counts = {("a", "x"): 10, ("a", "y"): 11, ("b", "x"): 12}

    assert SuppressedTable(counts, 10).withheld == frozenset()


def test_a_small_count_alone_on_all_its_lines_is_withheld_alone() -> None:
    # (b, y) shares no line with another cell: its lines' totals are itself, nothing to add
    counts = {("a", "x"): 50, ("b", "y"): 2}

    table = SuppressedTable(counts, 10)

    assert table.withheld == {("b", "y")}
    assert table.exposed_lines() == []


def test_the_complement_is_the_smallest_count_then_the_first_cell() -> None:
    row = {("r", "a"): 1, ("r", "b"): 30, ("r", "c"): 20, ("r", "d"): 20}

    assert SuppressedTable(row, 10).withheld == {("r", "a"), ("r", "c")}


def test_a_cell_alone_on_another_line_is_avoided_as_complement() -> None:
    # (r, b) is the smaller, but the only cell of column b: that column's total would be its
    # count, and with it the small cell
    counts = {("r", "a"): 1, ("r", "b"): 11, ("r", "c"): 40, ("s", "a"): 60, ("s", "c"): 70}

    table = SuppressedTable(counts, 10)

    assert ("r", "b") not in table.withheld
    assert table.withheld == {("r", "a"), ("r", "c"), ("s", "a"), ("s", "c")}
    assert table.exposed_lines() == []


def test_a_growing_table_withholds_in_its_newest_release_first() -> None:
    # given: May's small cell shares its row with April (published last month) and May's cells
    counts = {
        ("2025-04", "x"): 12, ("2025-04", "y"): 13,
        ("2025-05", "x"): 2, ("2025-05", "y"): 30, ("2025-05", "z"): 40,
    }  # fmt: skip

    grown = SuppressedTable(counts, 10, grows_along=0)
    at_once = SuppressedTable(counts, 10)

    # then: grown month by month, May's month takes (May, y); April's x column takes April's
    # cell because it has no other (column x runs along the growing dimension)
    assert grown.withheld == {
        ("2025-05", "x"), ("2025-05", "y"), ("2025-04", "x"), ("2025-04", "y"),
    }  # fmt: skip
    assert grown.exposed_lines() == []
    assert at_once.exposed_lines() == []


def test_totals_sum_published_cells_only() -> None:
    counts = {
        ("m1", "p", "a"): 3, ("m1", "p", "b"): 20, ("m1", "q", "a"): 15,
        ("m1", "q", "b"): 40, ("m2", "p", "a"): 25,
    }  # fmt: skip
    table = SuppressedTable(counts, 10)
    assert table.withheld == {
        ("m1", "p", "a"), ("m1", "p", "b"), ("m1", "q", "a"), ("m1", "q", "b"),
        ("m2", "p", "a"),
    }  # fmt: skip

    assert table.totals([]) == [Total((None, None, None), None, 5)]
    assert table.totals([0]) == [
        Total(("m1", None, None), None, 4),
        Total(("m2", None, None), None, 1),
    ]


def test_totals_group_filter_and_order() -> None:
    counts = {("m1", "p"): 12, ("m1", "q"): 3, ("m2", "p"): 20, ("m2", "q"): 30, ("m3", "q"): 11}
    table = SuppressedTable(counts, 10)
    assert table.withheld == {("m1", "p"), ("m1", "q"), ("m2", "p"), ("m2", "q")}

    assert table.totals([1]) == [Total((None, "p"), None, 2), Total((None, "q"), 11, 2)]
    assert table.totals([0, 1], where=lambda cell: cell[0] != "m1") == [
        Total(("m2", "p"), None, 1),
        Total(("m2", "q"), None, 1),
        Total(("m3", "q"), 11, 0),
    ]
    assert table.totals([], where=lambda cell: cell[1] == "q") == [Total((None, None), 11, 2)]


def test_zero_counts_are_no_cells() -> None:
    table = SuppressedTable({("a", "x"): 0, ("a", "y"): 25}, 10)

    assert table.counts == {("a", "y"): 25}
    assert table.published(("a", "x")) == 0
    assert table.totals([0]) == [Total(("a", None), 25, 0)]


def test_cells_of_one_width_and_a_real_growing_dimension() -> None:
    with pytest.raises(ValueError, match="different widths"):
        SuppressedTable({("a",): 1, ("a", "b"): 2}, 10)
    with pytest.raises(ValueError, match="not a dimension"):
        SuppressedTable({("a", "b"): 2}, 10, grows_along=2)


# Random tables: months × provinces × categories, many of them small and sparse.
_tables = st.dictionaries(
    st.tuples(
        st.sampled_from(["2025-01", "2025-02", "2025-03", "2025-04"]),
        st.sampled_from(["110000", "310000", "440000"]),
        st.sampled_from(["乳制品", "儿童玩具", "电动自行车"]),
    ),
    st.integers(min_value=0, max_value=40),
    max_size=36,
)


@settings(max_examples=300, deadline=None)
@given(counts=_tables, grows=st.booleans())
def test_any_table_has_no_exposed_line(counts: Counts, grows: bool) -> None:
    table = SuppressedTable(counts, 10, grows_along=0 if grows else None)

    primary = {cell for cell, n in counts.items() if 0 < n < 10}
    assert primary <= table.withheld <= {cell for cell, n in counts.items() if n > 0}
    assert table.exposed_lines() == []
    for line, cells in _lines(table.counts).items():
        hidden = [c for c in cells if c in table.withheld]
        assert len(hidden) != 1 or len(cells) == 1, (line, cells, hidden)


@settings(max_examples=200, deadline=None)
@given(counts=_tables, seed=st.integers())
def test_the_same_counts_give_the_same_table(counts: Counts, seed: int) -> None:
    items = list(counts.items())
    random.Random(seed).shuffle(items)

    assert SuppressedTable(dict(items), 10).withheld == SuppressedTable(counts, 10).withheld
    assert (
        SuppressedTable(dict(items), 10, grows_along=0).withheld
        == SuppressedTable(counts, 10, grows_along=0).withheld
    )


@settings(max_examples=200, deadline=None)
@given(counts=_tables)
def test_a_grown_table_withholds_all_that_it_withheld_before(counts: Counts) -> None:
    months = sorted({cell[0] for cell in counts})
    before = frozenset[Cell]()
    for last in months:
        so_far = {cell: n for cell, n in counts.items() if cell[0] <= last}
        table = SuppressedTable(so_far, 10, grows_along=0)
        assert before <= table.withheld, last
        before = table.withheld


@settings(max_examples=200, deadline=None)
@given(counts=_tables, keep=st.sets(st.integers(min_value=0, max_value=2)))
def test_every_total_is_the_sum_of_its_published_cells(counts: Counts, keep: set[int]) -> None:
    table = SuppressedTable(counts, 10, grows_along=0)

    totals = table.totals(keep)

    assert sum(t.count or 0 for t in totals) == sum(
        n for cell, n in table.counts.items() if cell not in table.withheld
    )
    assert sum(t.withheld for t in totals) == len(table.withheld)


def _lines(counts: Counts) -> dict[tuple[int, Cell], list[Cell]]:
    lines: dict[tuple[int, Cell], list[Cell]] = {}
    for cell in counts:
        for d in range(len(cell)):
            lines.setdefault((d, cell[:d] + cell[d + 1 :]), []).append(cell)
    return lines
