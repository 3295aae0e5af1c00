"""Conditions on the terms of ``search_document`` (``search.matching``) as SQL.

On PostgreSQL the term arrays are written into the statement as literals: the planner
estimates an array condition from the column's statistics of its elements (a thousand most
common, migration 0013) only when it sees the values, and that estimate decides between
reading a class in (rank, id) order and collecting it through the GIN index. On SQLite a
condition is an FTS5 query over ``search_document_fts``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    bindparam,
    literal_column,
    select,
    text,
)

from search.matching import (
    AllOf,
    AnyOf,
    Both,
    Either,
    Match,
    NoneOf,
    both_or_none,
)
from search.models import FTS_TABLE
from search.terms import MARKS, without_marks

# What a term is made of (``search.terms``): letters, digits and CJK characters of tokens, the
# ``:`` of its prefix, the ``-`` of a missing grade. Nothing else is written into SQL text.
_TERM = re.compile(r"[\w:-]+")


def _pg_array(terms: Sequence[str]) -> str:
    """An array literal of terms, each checked to be one (``_TERM``) before it is written."""
    for term in terms:
        if not _TERM.fullmatch(term):
            raise ValueError(f"not a search term, not written into SQL: {term!r}")
    quoted = ",".join(f"'{term}'" for term in terms)
    return f"ARRAY[{quoted}]::text[]"


_TOKENS = "search_document.tokens"


@lru_cache(maxsize=4096)
def pg_text(match: Match, column: str = _TOKENS) -> str:
    """A condition on a term array, ``search_document.tokens`` unless ``column`` names
    another (a tally's terms), as SQL text; the absence of a ``MARKS`` term from a row, as its
    ``marks``. Written once per condition and kept: as
    SQLAlchemy expressions, the many term conditions of a search took longer to build and
    compile than the database took to run them."""
    if isinstance(match, AllOf):
        return f"{column} @> {_pg_array(match.terms)}"
    if isinstance(match, AnyOf):
        return f"{column} && {_pg_array(match.terms)}"
    if isinstance(match, NoneOf):
        marked = [term for term in match.terms if term in MARKS]
        if column != _TOKENS or not marked:
            return f"NOT ({column} && {_pg_array(match.terms)})"
        # The ``MARKS`` terms as the values of ``marks`` without their bits: the planner
        # estimates that from the column's common values.
        values = ", ".join(str(value) for value in without_marks(marked))
        rest = [term for term in match.terms if term not in MARKS]
        absent = f"search_document.marks IN ({values})"
        return f"({absent} AND NOT ({column} && {_pg_array(rest)}))" if rest else absent
    joiner = " AND " if isinstance(match, Both) else " OR "
    return "(" + joiner.join(f"({pg_text(part, column)})" for part in match.parts) + ")"


@lru_cache(maxsize=4096)
def pg_deferred(match: Match) -> tuple[Match | None, tuple[str, ...]]:
    """``match`` without the terms its ``NoneOf`` parts exclude (but the ``MARKS`` ones, a
    small integer's test), and those terms: a search checks that a row has none of them after
    every other condition of the row (``EmbeddedBackend._where``, ``pg_excluded``).
    PostgreSQL checks a row's conditions in the order written when they cost alike, and this
    one scans the row's whole term array for each term (at 1M, 12 µs a recall): 起火 since
    2026-01-01 scanned 2,164 rows' arrays, 1,585 of them of earlier recalls, in 26 of the
    arm's 28 ms. Not inside an ``Either``: its parts are alternatives."""
    excluded: dict[str, None] = {}

    def kept(part: Match) -> Match | None:
        if isinstance(part, NoneOf):
            excluded.update(dict.fromkeys(t for t in part.terms if t not in MARKS))
            marked = tuple(t for t in part.terms if t in MARKS)
            return NoneOf(marked) if marked else None
        if isinstance(part, Both):
            return both_or_none(*(kept(inner) for inner in part.parts))
        return part

    rest = kept(match)
    return (rest, tuple(excluded)) if excluded else (match, ())


@lru_cache(maxsize=4096)
def pg_excluded(terms: tuple[str, ...], *, by_rows: bool) -> ColumnElement[bool]:
    """The row has none of ``terms``: its term array scanned for them, or, ``by_rows``, the
    row not among those the index finds with any of them (a hashed set of ids, for terms
    rarer than the rows they are checked on: at 1M, 风险's warnings in the description only,
    1,573 rows of 131 terms each, took 34 ms so scanned, 10 ms so)."""
    having = f"{_TOKENS} && {_pg_array(terms)}"
    if by_rows:
        return text(  # type: ignore[return-value]
            f"search_document.id NOT IN (SELECT search_document.id FROM search_document "
            f"WHERE {having})"
        )
    return text(f"NOT ({having})")  # type: ignore[return-value]


@lru_cache(maxsize=4096)
def pg_match(match: Match, column: str = _TOKENS) -> ColumnElement[bool]:
    """``pg_text`` as a clause, kept too: one object for every statement that names it."""
    return text(pg_text(match, column))  # type: ignore[return-value]


def _fts_terms(terms: Sequence[str], joiner: str) -> str:
    return "(" + joiner.join(f'"{term}"' for term in terms) + ")"


def _fts_expression(match: Match) -> str:
    """An FTS5 query: its NOT is binary, so a ``NoneOf`` follows the rest of its ``Both``;
    one with nothing before it has no FTS5 form (``absent_only`` takes it apart)."""
    if isinstance(match, AllOf):
        return _fts_terms(match.terms, " AND ")
    if isinstance(match, AnyOf):
        return _fts_terms(match.terms, " OR ")
    if isinstance(match, NoneOf):
        raise ValueError(f"no FTS5 query holds {match} without a positive condition beside it")
    if isinstance(match, Either):
        return "(" + " OR ".join(_fts_expression(part) for part in match.parts) + ")"
    positive = [_fts_expression(p) for p in match.parts if not isinstance(p, NoneOf)]
    if not positive:
        raise ValueError(f"no FTS5 query holds {match}: every part is an absence")
    negative = [_fts_terms(p.terms, " OR ") for p in match.parts if isinstance(p, NoneOf)]
    return "(" + " AND ".join(positive) + "".join(f" NOT {n}" for n in negative) + ")"


def absent_only(match: Match) -> tuple[str, ...] | None:
    """The terms of a condition that only asks for absent terms (a ``NoneOf``, or a ``Both``
    of them), which SQLite answers as the rows the FTS5 table does not find; else None."""
    if isinstance(match, NoneOf):
        return match.terms
    if isinstance(match, Both) and all(isinstance(part, NoneOf) for part in match.parts):
        return tuple(t for part in match.parts if isinstance(part, NoneOf) for t in part.terms)
    return None


def fts_rows(match: Match) -> Select[Any]:
    """The rowids of the FTS5 table's rows that ``match``."""
    return (
        select(literal_column("rowid"))
        .select_from(text(FTS_TABLE))
        # A name of its own per use: one statement holds several matches (unions, counts).
        .where(
            text(f"{FTS_TABLE} MATCH :fts").bindparams(
                bindparam("fts", _fts_expression(match), unique=True)
            )
        )
    )
