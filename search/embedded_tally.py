"""Tallies: the total and the facets of a search of a frequent word or phrase, without reading
its rows.

At 1M the count of 科技's matches up to the count limit read 10,001 rows on 7,000 pages, and
its facets a sample of 2,000 more rows, together most of the search's time. Yet a frequent
word's rows fall into few combinations of the terms a filter can ask for (``tallied``: 1,644
for 科技's 116,000 rows, 6,391 for 股份's 150,000): a tally (``search.models.SearchTally``)
holds how many rows have each, and their facet values. A search whose text is one such word
and whose filters ask only for tallied terms sums the combinations its filters keep: exact,
where the count stopped at the limit and the facets were a sample.

A phrase its terms cannot say (USB插座: ``usb`` and ``插座`` apart, or the other way round, are
not it) has a tally too when it is a frequent value of a field, as a product's name is: its
rows are those whose units hold it (``held_sql``), as a search's count checks them. At 1M,
USB插座's count of 10,001 read 9,400 pages, and its facets a sample of 2,341 rows more.

Rows are tallied with their terms as built. A row whose time-dependent facts changed since
(past ``flags_until``) is taken out again, as built, in the same statement, and judged by the
live tables like every such row (``Search.stale_matches``).

The relay writes them, on PostgreSQL: the words that get heads get tallies, and so do the
frequent phrases (``search.embedded_heads.refresh_heads`` chooses them, ``refresh``), the relay
builds them one by one in its next passes (``build_next``), then keeps each in step with every
row written (``join`` after a row is written, ``leave`` before it is deleted). Searches only
read them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    ColumnElement,
    bindparam,
    delete,
    func,
    insert,
    literal,
    literal_column,
    select,
    text,
    tuple_,
    type_coerce,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from hub.kit.time import utcnow
from search.backend import SearchRequest, day_range
from search.documents import PROFILES, Kind
from search.embedded_match import pg_match
from search.matching import AllOf, AnyOf, Either, Match, Plan, holding, terms_of
from search.models import SearchDocument, SearchTally, SearchTallyWord
from search.terms import FACETS, tallied, tallied_sql

if TYPE_CHECKING:
    from search.embedded import EmbeddedBackend

_DOC = SearchDocument.__table__.c
_TALLY = SearchTally.__table__.c
_WORD = SearchTallyWord.__table__.c
# A row's tallied terms, sorted: what it is counted by.
_CELL = f"ARRAY(SELECT t FROM unnest(d.tokens) AS t WHERE {tallied_sql('t')} ORDER BY t)"
_TEXTS = postgresql.ARRAY(postgresql.TEXT)
_TERMS = bindparam("terms", type_=_TEXTS)
_IDS = bindparam("ids", type_=postgresql.ARRAY(postgresql.INTEGER))


def _value(facets: str, name: str) -> str:
    """A row's value of the facet ``name``, as text, from its ``facets`` (jsonb); the names are
    the code's own, not input."""
    return f"{facets}->>'{name}'"


def _values(kind: Kind, facets: str = "d.facets") -> str:
    """A row's facet values as a tally keeps them (``_value``), in the order of
    ``FACETS[kind]``."""
    return "ARRAY[" + ", ".join(_value(facets, name) for name in FACETS[kind]) + "]"


def facet_values(kind: Kind) -> ColumnElement[Any]:
    """A document's facet values as a tally keeps them, as a column of ``search_document``:
    read so, a search's rows come back as text arrays that the driver decodes, not JSON that
    Python parses (``search.embedded_search.facets_of``). Untyped: SQLAlchemy would look at
    each value of each row again."""
    return literal_column(_values(kind, "search_document.facets"))


def word_terms(match: Match) -> tuple[str, ...] | None:
    """The terms of a text condition that is one word, in any field (a row has the word when
    it has any of them); None for any other condition."""
    if isinstance(match, AllOf) and len(match.terms) == 1:
        return match.terms
    if isinstance(match, AnyOf):
        return match.terms
    if isinstance(match, Either) and all(
        isinstance(part, AllOf) and len(part.terms) == 1 for part in match.parts
    ):
        return tuple(part.terms[0] for part in match.parts if isinstance(part, AllOf))
    return None


def word_key(terms: Sequence[str]) -> str:
    return " ".join(sorted(terms))


def phrase_key(pattern: str) -> str:
    """The key of a phrase's tally: its pattern (no word's key starts so)."""
    return "~" + pattern.strip()


@dataclass(frozen=True, slots=True)
class Subject:
    """What a tally counts: the rows with any of ``terms`` and, for a phrase, whose units
    hold ``pattern`` in some field (``held_sql``)."""

    key: str
    terms: tuple[str, ...]
    pattern: str | None = None


def subject(plan: Plan) -> Subject | None:
    """What a tally of ``plan``'s text would count: one word (``word_terms``), or one phrase
    its terms cannot say, whose rows have one of the terms its text asks of each field (the
    rarest first: ``search.matching.plan``); None for any other text."""
    if plan.exact_terms:
        terms = word_terms(plan.text)
        return None if terms is None else Subject(word_key(terms), terms)
    patterns = plan.scorer.patterns
    parts = plan.text.parts if isinstance(plan.text, Either) else (plan.text,)
    if len(patterns) != 1 or not all(isinstance(part, AllOf) for part in parts):
        return None
    terms = tuple(dict.fromkeys(part.terms[0] for part in parts if isinstance(part, AllOf)))
    return Subject(phrase_key(patterns[0]), terms, patterns[0])


def held_sql(kind: Kind, pattern: str, row: str = "d") -> str:
    """A phrase's pattern (an SQL text expression) in some text field of ``row`` (a
    ``search_document`` of ``kind``): ``search.matching.holding`` in SQL text."""
    fields = [f"{row}.text_{i}" for i in range(len(PROFILES[kind].fields))]
    found: str = holding(
        [pattern],
        fields,
        lambda field, p: f"strpos({field}, {p}) > 0",
        lambda conditions: "(" + " AND ".join(conditions) + ")",
        lambda conditions: "(" + " OR ".join(conditions) + ")",
    )
    return found


def answers(request: SearchRequest, plan: Plan) -> Subject | None:
    """What the tally that can answer ``request``'s total and facets counts, if one could:
    its text is one word or phrase (``subject``) and its filters ask only for tallied terms,
    with no date range (a tally holds no days)."""
    if day_range(request.conditions) != (None, None):
        return None
    counted = subject(plan)
    if counted is None or not all(tallied(term) for term in terms_of(plan.filters.fresh)):
        return None
    return counted


async def read(
    backend: EmbeddedBackend,
    request: SearchRequest,
    plan: Plan,
    now: datetime,
    *,
    stale: bool,
) -> list[tuple[str, Any, int]] | None:
    """The fresh matches of ``request`` that pass its conditions counted from the word's
    tally, as (facet name, value, count) rows and ("", None, total): None when no tally can
    answer (``answers``) or the word has none. ``stale``: rows of the word may be stale (the
    probe saw some), so those tallied as matching are taken out again."""
    counted = answers(request, plan) if backend.dialect == "postgresql" else None
    if counted is None:
        return None
    kind, key = request.kind.value, counted.key
    parts = [
        select(_TALLY.facet_values.label("facets"), _TALLY.rows.label("n")).where(
            _TALLY.kind == kind,
            _TALLY.key == key,
            *_conditions(plan.filters.fresh),
        )
    ]
    if stale:
        where = backend._where(request, plan.matching, now, stale=True)
        if counted.pattern is not None:
            where.append(backend._holding(request.kind, [counted.pattern]))
        parts.append(
            select(facet_values(request.kind).label("facets"), literal(-1).label("n")).where(*where)
        )
    cells = (union_all(*parts) if len(parts) > 1 else parts[0]).cte("cells")
    built = (
        select(literal("built"))
        .where(_WORD.kind == kind, _WORD.key == key, _WORD.built_at.is_not(None))
        .scalar_subquery()
    )
    total = func.coalesce(func.sum(cells.c.n), 0)
    if not request.with_facets:
        statement = select(built, total).select_from(cells)
        found, n = (await backend._core(statement)).one()
        return None if found is None else [("", None, int(n))]
    # At 1M, 股份's 9,910 cells: 61.7 ms when the cells kept their facets as JSON, each
    # cell's read apart (json_each_text), 19.6 ms by facet's grouping sets.
    texts = type_coerce(cells.c.facets, _TEXTS)
    columns, grouping = by_facet([texts[i + 1] for i in range(len(FACETS[request.kind]))])
    statement = select(built, total, *columns).select_from(cells).group_by(grouping)
    rows = (await backend._core(statement)).all()
    if any(found is None for found, *_ in rows):
        return None  # the word has no tally
    return facet_counts(request.kind, [row[1:] for row in rows])


def by_facet(items: Sequence[ColumnElement[Any]]) -> tuple[list[ColumnElement[Any]], Any]:
    """The columns and the GROUP BY that count rows by each facet's value and all of them,
    in one pass (PostgreSQL): a grouping set per facet, and the empty one. The columns are
    ``grouping`` (which set a row is of: a bit per facet, set where the row is not grouped
    by it), then each facet's value. ``items``: a row's facet values as text, one column
    each, in the order of ``FACETS[kind]`` (``facet_items``, or a tally's cells' array)."""
    return [func.grouping(*items), *items], func.grouping_sets(
        *(tuple_(item) for item in items), tuple_()
    )


def facet_items(kind: Kind) -> list[ColumnElement[Any]]:
    """A document's facet values as text, a column each (``facet_0``...) in the order of
    ``FACETS[kind]``, for ``by_facet``: as an array subscripted once per grouping set, the
    array was made again for each (USB插座's sample of 2,341 rows: 34 ms, 15 so)."""
    return [
        literal_column(_value("search_document.facets", name)).label(f"facet_{i}")
        for i, name in enumerate(FACETS[kind])
    ]


def facet_counts(kind: Kind, rows: Sequence[Sequence[Any]]) -> list[tuple[str, Any, int]]:
    """Rows of (count, *``by_facet``'s columns) as (facet name, value, count) rows and
    ("", None, total)."""
    names = FACETS[kind]
    every = (1 << len(names)) - 1
    found: list[tuple[str, Any, int]] = []
    for n, grouped, *by in rows:
        if grouped == every:
            found.append(("", None, int(n)))
            continue
        position = next(i for i in range(len(names)) if not grouped >> (len(names) - 1 - i) & 1)
        found.append((names[position], by[position], int(n)))
    return found


def _conditions(match: Match | None) -> list[ColumnElement[bool]]:
    return [] if match is None else [pg_match(match, "search_tally.terms")]


async def refresh(session: AsyncSession, wanted: Mapping[tuple[str, str], Subject]) -> int:
    """Choose the words and phrases of ``wanted`` ((kind, key) -> what its tally counts) that
    have no tally, for the relay to build (``build_next``), and drop every other tally; how
    many were chosen. Under the embedded relay's lock, as the heads."""
    existing = set((await session.execute(select(_WORD.kind, _WORD.key))).all())
    for kind, key in existing - set(wanted):
        for model in (SearchTally, SearchTallyWord):
            await session.execute(delete(model).where(model.kind == kind, model.key == key))
    chosen = [
        {
            "kind": kind,
            "key": key,
            "terms": list(counted.terms),
            "pattern": counted.pattern,
            "built_at": None,
        }
        for (kind, key), counted in wanted.items()
        if (kind, key) not in existing
    ]
    if chosen:
        await session.execute(insert(SearchTallyWord), chosen)
    return len(chosen)


async def build_next(session: AsyncSession) -> bool:
    """Build the tally of one chosen word (``refresh``), in ``session``'s transaction under the
    embedded relay's lock; whether there was one to build.

    A word at a time, from the rows (at 1M a frequent word's 100,000 rows take a second or
    more): the relay builds them between its other work, not in one long pause of it, and a
    reindex does not wait for them. Until its tally is built a word is searched as any other.
    """
    found = (
        await session.execute(
            select(_WORD.kind, _WORD.key, _WORD.terms, _WORD.pattern)
            .where(_WORD.built_at.is_(None))
            .order_by(_WORD.kind, _WORD.key)
            .limit(1)
        )
    ).one_or_none()
    if found is None:
        return False
    kind, key, terms, pattern = found
    held, values = "", {"key": key, "kind": kind, "terms": list(terms)}
    if pattern is not None:
        held, values["pattern"] = f" AND {held_sql(Kind(kind), 'CAST(:pattern AS text)')}", pattern
    await session.execute(
        text(
            "INSERT INTO search_tally (kind, key, terms, facet_values, rows) "
            f"SELECT d.kind, :key, {_CELL}, min({_values(Kind(kind))}), count(*) "
            f"FROM search_document AS d WHERE d.kind = :kind AND d.tokens && :terms{held} "
            "GROUP BY d.kind, 3"
        ).bindparams(_TERMS, **values)
    )
    await session.execute(
        update(SearchTallyWord)
        .where(SearchTallyWord.kind == kind, SearchTallyWord.key == key)
        .values(built_at=utcnow())
    )
    return True


async def to_build(session: AsyncSession) -> bool:
    """Whether a chosen word's tally is still to be built."""
    found = await session.scalar(select(_WORD.key).where(_WORD.built_at.is_(None)).limit(1))
    return found is not None


async def join(session: AsyncSession, kind: Kind, ids: Sequence[int]) -> None:
    """Count rows just written into the tallies of the words they have."""
    await _count(session, kind, ids, 1)


async def leave(session: AsyncSession, kind: Kind, ids: Sequence[int]) -> None:
    """Count rows about to be deleted out of the tallies of the words they have."""
    await _count(session, kind, ids, -1)


async def _count(session: AsyncSession, kind: Kind, ids: Sequence[int], sign: int) -> None:
    if not ids:
        return
    await session.execute(
        text(
            "INSERT INTO search_tally (kind, key, terms, facet_values, rows) "
            f"SELECT d.kind, w.key, {_CELL}, min({_values(kind)}), "
            "CAST(:sign AS integer) * count(*) "
            "FROM search_document AS d "
            "JOIN search_tally_word AS w "
            "ON w.kind = d.kind AND w.built_at IS NOT NULL AND d.tokens && w.terms "
            f"AND (w.pattern IS NULL OR {held_sql(kind, 'w.pattern')}) "
            "WHERE d.kind = :kind AND d.ref_id = ANY(:ids) "
            "GROUP BY d.kind, w.key, 3 "
            "ON CONFLICT (kind, key, terms) DO UPDATE SET rows = search_tally.rows + excluded.rows"
        ).bindparams(_IDS, kind=kind.value, ids=list(ids), sign=sign)
    )
