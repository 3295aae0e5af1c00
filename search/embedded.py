"""The embedded backend: the search index in the hub's own database, and its SQL.

Every search reads one table, ``search_document``: its ``tokens`` column holds the terms of a
row (``search.terms``: field tokens, filter attributes, time-dependent facts, sample levels)
under one index (GIN on PostgreSQL, FTS5 on SQLite), so text, filters and the sample are one
index condition, and a search reads only the rows it returns or counts:

- the page: the rows that are the query exactly, then each class's first rows in (rank, id)
  order, best class first, until no class left can reach the page (``search.matching``);
- the total: counted up to the request's ``count_limit`` (``search.backend.bounded``, as on
  Elasticsearch); past it, that limit, a lower bound;
- the facets: counted over every match up to the limit; past it, over a uniform sample of
  about that many (the rows of one sample level, ``search.terms``).

The terms of time-dependent facts (published, blacklisted, a valid licence) hold until the
row's ``flags_until``. A row past it is *stale*: the searches leave it to a separate read that
judges it by the live tables, with the domain repositories' own rules, and the relay rebuilds
it (``refresh_stale``). So an answer is right at any moment, whether or not the relay has run.

On PostgreSQL the term arrays are written into the statement as literals: the planner
estimates an array condition from the column's statistics of its elements (raised by migration
0009) only when it sees the values, and that estimate decides between reading a class in
(rank, id) order and collecting it through the GIN index.
"""

from __future__ import annotations

import json
import logging
import math
import re
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy import (
    Boolean,
    ColumnElement,
    Select,
    and_,
    bindparam,
    delete,
    exists,
    func,
    insert,
    literal,
    literal_column,
    not_,
    or_,
    select,
    text,
    true,
    tuple_,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from hub.blacklist.repository import listed
from hub.db import HubSession
from hub.enterprise.models import Enterprise
from hub.kit.repository import published
from hub.kit.time import Instant, utcnow
from hub.licence.models import Licence
from hub.licence.repository import holds_licence
from hub.quality.models import Product
from hub.recall.models import Recall
from hub.warning.models import warning_product
from search.backend import (
    BackendStatus,
    Conditions,
    EnterpriseConditions,
    Hit,
    RecallConditions,
    SearchRequest,
    SearchResult,
    WarningConditions,
    bounded,
    sort_facet,
)
from search.documents import (
    CODE_SCORE,
    MAX_FIELDS,
    MODELS,
    PROFILES,
    Document,
    Kind,
    among,
    build_documents,
)
from search.matching import (
    AllOf,
    AnyOf,
    Both,
    Either,
    Head,
    Judged,
    Match,
    NoneOf,
    Plan,
    RowClass,
    both,
    class_of,
    forget_plans,
    plan,
)
from search.matching import filters as request_filters
from search.models import FTS_TABLE, SearchDocument, SearchHead, SearchHeadBound
from search.terms import (
    BLACKLISTED,
    LEVELS,
    NAMESPACES,
    PUBLISHED,
    VALID_LICENCE,
    document_terms,
    in_level,
    level_term,
)
from search.tokenize import field_units, parse_query

# The searches read through the tables' Core columns: a Core select's rows come back as they
# are, where an ORM select's go through the ORM's row handling first, which cost more than the
# search's own work.
log = logging.getLogger("hub.search")

_DOC = SearchDocument.__table__.c
_HEAD = SearchHead.__table__.c
_TEXT_COLUMNS = (_DOC.text_0, _DOC.text_1, _DOC.text_2, _DOC.text_3)
FACETS: dict[Kind, tuple[str, ...]] = {
    Kind.ENTERPRISE: ("regions", "creditGrades", "industries", "blacklisted"),
    Kind.RECALL: ("categories", "statuses", "kinds"),
    Kind.WARNING: ("severities", "categories"),
}
# Rows read at most per round when a class's first rows are not its members (a long phrase
# whose tokens are there but apart).
_CHUNK_LIMIT = 4000
# Read every match when the probe saw too few to sample, up to this many times the count
# limit: the probe's estimate is rough, and one read of them all is cheaper than a count
# followed by a sample.
_EXACT_READ = 4
# Rows whose time-dependent facts changed since they were built that one search judges by the
# live tables, at most (``_Search.stale_matches``).
STALE_LIMIT = 1000
# A head holds this many rows when built: enough for a page of 100 under filters that keep one
# row in twenty of the term's.
HEAD_SIZE = 2000
# A class reads its head when the probe (one record in ``2 ** LEVELS``) saw this many of its
# rows: from about two thousand rows up, sorting them all costs more than the head.
HEAD_FROM = 2


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


@lru_cache(maxsize=4096)
def _pg_text(match: Match) -> str:
    """A condition on ``search_document.tokens`` as SQL text. Written once per condition and
    kept: as SQLAlchemy expressions, the many term conditions of a search took longer to build
    and compile than the database took to run them."""
    if isinstance(match, AllOf):
        return f"search_document.tokens @> {_pg_array(match.terms)}"
    if isinstance(match, AnyOf):
        return f"search_document.tokens && {_pg_array(match.terms)}"
    if isinstance(match, NoneOf):
        return f"NOT (search_document.tokens && {_pg_array(match.terms)})"
    joiner = " AND " if isinstance(match, Both) else " OR "
    return "(" + joiner.join(f"({_pg_text(part)})" for part in match.parts) + ")"


def _pg_match(match: Match) -> ColumnElement[bool]:
    return text(_pg_text(match))  # type: ignore[return-value]


def _fts_terms(terms: Sequence[str], joiner: str) -> str:
    return "(" + joiner.join(f'"{term}"' for term in terms) + ")"


def _fts_expression(match: Match) -> str:
    """An FTS5 query: its NOT is binary, so a ``NoneOf`` follows the rest of its ``Both``;
    one with nothing before it has no FTS5 form (``_absent_only`` takes it apart)."""
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


def _absent_only(match: Match) -> tuple[str, ...] | None:
    """The terms of a condition that only asks for absent terms (a ``NoneOf``, or a ``Both``
    of them), which SQLite answers as the rows the FTS5 table does not find; else None."""
    if isinstance(match, NoneOf):
        return match.terms
    if isinstance(match, Both) and all(isinstance(part, NoneOf) for part in match.parts):
        return tuple(t for part in match.parts if isinstance(part, NoneOf) for t in part.terms)
    return None


def _fts_rows(match: Match) -> Select[Any]:
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


@dataclass(slots=True)
class _Row:
    ref_id: int
    rank: int
    texts: tuple[str, ...]
    facets: dict[str, Any] | None

    @property
    def position(self) -> tuple[int, int]:
        return (self.rank, self.ref_id)


@dataclass(frozen=True, slots=True)
class _Found:
    """A matching row with its place in the ranking."""

    score: float
    rank: int
    id: int


def _after(found: _Found, after: tuple[float, int, int] | None) -> bool:
    """Whether ``found`` comes after the cursor's position (score desc, rank, id)."""
    if after is None:
        return True
    score, rank, last = after
    return found.score < score or (found.score == score and (found.rank, found.id) > (rank, last))


class EmbeddedBackend:
    """The index in the hub's database, bound to one session (one transaction)."""

    name = "embedded"

    def __init__(self, session: HubSession) -> None:
        self.session = session
        self.dialect = session.get_bind().dialect.name

    # Reading rows --------------------------------------------------------------------------

    async def _core(self, statement: Any) -> Any:
        """``statement``'s result: Core rows for a select of Core columns (``_DOC``)."""
        return await self.session.execute(statement)

    def _match(self, match: Match) -> ColumnElement[bool]:
        if self.dialect == "postgresql":
            return _pg_match(match)
        absent = _absent_only(match)
        if absent is not None:
            return _DOC.id.not_in(_fts_rows(AnyOf(absent)))
        return _DOC.id.in_(_fts_rows(match))

    def _moment(self, now: datetime) -> ColumnElement[Any]:
        # Written into the text on PostgreSQL, so that no two searches send the same statement.
        # The same text five times over lets PostgreSQL plan its prepared statement once for
        # any parameters, LIMIT's included, and that generic plan read a frequent word's rows
        # ten times slower (at 1M, 科技 went from 76 to 778 ms at the median with the moment as
        # a parameter). The cost: every statement is compiled anew (a sixth of the hub's time).
        if self.dialect == "postgresql":
            return literal_column(f"'{now.isoformat()}'::timestamptz")
        return literal(now, _DOC.flags_until.type)

    def _where(
        self, request: SearchRequest, match: Match | None, now: datetime, *, stale: bool = False
    ) -> list[ColumnElement[bool]]:
        """The row is of the request's kind, in its date range, fresh (or stale), matches."""
        where = [_DOC.kind == request.kind.value]
        if match is not None:
            where.append(self._match(match))
        given = request.conditions
        low = high = None
        if isinstance(given, RecallConditions):
            low, high = given.started_after, given.started_before
        elif isinstance(given, WarningConditions):
            low, high = given.issued_after, given.issued_before
        if low is not None:
            where.append(_DOC.day >= low)
        if high is not None:
            where.append(_DOC.day <= high)
        moment = self._moment(now)
        if stale:
            where.append(_DOC.flags_until <= moment)
        else:
            where.append(or_(_DOC.flags_until.is_(None), _DOC.flags_until > moment))
        return where

    def _select(
        self,
        request: SearchRequest,
        match: Match | None,
        now: datetime,
        *,
        ids: Sequence[int] | None = None,
        texts: bool = True,
        facets: bool = False,
        ordered: bool = False,
        after: tuple[int, int] | None = None,
        limit: int | None = None,
        stale: bool = False,
        head: str | None = None,
    ) -> Select[Any]:
        """Rows of ``request``'s kind (ref_id, rank, then units and facets if asked)."""
        count = len(PROFILES[request.kind].fields)
        columns: list[Any] = [_DOC.ref_id, _DOC.rank]
        columns += list(_TEXT_COLUMNS[:count]) if texts else []
        columns += [_DOC.facets] if facets else []
        statement = select(*columns).where(*self._where(request, match, now, stale=stale))
        if ids is not None:
            statement = statement.where(_DOC.ref_id.in_(list(ids)))
        order: tuple[Any, Any] = (_DOC.rank, _DOC.ref_id)
        if head is not None:
            # The head's rows in its order; the document row for its terms and units.
            statement = statement.join(
                SearchHead,
                and_(
                    _HEAD.kind == _DOC.kind,
                    _HEAD.ref_id == _DOC.ref_id,
                ),
            ).where(_HEAD.key == head)
            order = (_HEAD.rank, _HEAD.ref_id)
        if after is not None:
            statement = statement.where(tuple_(*order) > tuple_(*after))
        if ordered:
            statement = statement.order_by(*order)
        if limit is not None:
            statement = statement.limit(limit)
        return statement

    async def _fetch(
        self, request: SearchRequest, statement: Any, *, texts: bool, facets: bool
    ) -> list[tuple[_Row, Any]]:
        """(row, the statement's column after the row's, if any) of each result row."""
        count = len(PROFILES[request.kind].fields) if texts else 0
        width = 2 + count + (1 if facets else 0)
        result = await self._core(statement)
        return [
            (
                _Row(
                    ref_id=row[0],
                    rank=row[1],
                    texts=tuple(row[2 : 2 + count]),
                    facets=_facets_of(row[2 + count]) if facets else None,
                ),
                row[width] if len(row) > width else None,
            )
            for row in result.all()
        ]

    async def _head_rows(
        self,
        request: SearchRequest,
        match: Match,
        now: datetime,
        head: str,
        after: tuple[int, int] | None,
        entries: int,
    ) -> tuple[list[_Row], tuple[int, int] | None, int]:
        """The rows with ``match`` among the next ``entries`` entries of ``head`` after
        ``after``, in the head's order; the position of the last entry read; how many.

        Each entry's row is looked up on its own (a lateral subquery of one row), so the walk
        stops with the entries it needs, however many rows have the head's term.
        """
        entry = select(_HEAD.rank, _HEAD.ref_id).where(
            _HEAD.kind == request.kind.value, _HEAD.key == head
        )
        if after is not None:
            entry = entry.where(tuple_(_HEAD.rank, _HEAD.ref_id) > tuple_(*after))
        walked = entry.order_by(_HEAD.rank, _HEAD.ref_id).limit(entries).subquery()
        found = (
            self._select(request, match, now, texts=True)
            .where(_DOC.ref_id == walked.c.ref_id)
            .limit(1)
            .lateral()
        )
        count = len(PROFILES[request.kind].fields)
        statement = (
            select(walked.c.rank, walked.c.ref_id, found.c.ref_id, *list(found.c)[2 : 2 + count])
            .select_from(walked)
            .outerjoin(found, true())
            .order_by(walked.c.rank, walked.c.ref_id)
        )
        result = (await self._core(statement)).all()
        rows = [
            _Row(ref_id=r[1], rank=r[0], texts=tuple(r[3 : 3 + count]), facets=None)
            for r in result
            if r[2] is not None
        ]
        last = (result[-1][0], result[-1][1]) if result else after
        return rows, last, len(result)

    async def _rows_of(
        self, request: SearchRequest, statement: Any, *, texts: bool, facets: bool = False
    ) -> list[_Row]:
        return [row for row, _ in await self._fetch(request, statement, texts=texts, facets=facets)]

    def _facet_values(self, column: Any) -> Any:
        """The (key, value) pairs of a JSON object column, as a table to join."""
        if self.dialect == "postgresql":
            return func.json_each_text(column).table_valued("key", "value").alias("facet")
        return func.json_each(column).table_valued("key", "value").alias("facet")

    async def _rows(
        self,
        request: SearchRequest,
        match: Match | None,
        now: datetime,
        *,
        texts: bool = True,
        facets: bool = False,
        **options: Any,
    ) -> list[_Row]:
        statement = self._select(request, match, now, texts=texts, facets=facets, **options)
        return [row for row, _ in await self._fetch(request, statement, texts=texts, facets=facets)]

    # Searching -----------------------------------------------------------------------------

    async def search(self, request: SearchRequest) -> SearchResult:
        frequency = await _FREQUENCIES.get(self.session) if self.dialect == "postgresql" else None
        search = _Search(self, request, request.now or utcnow(), plan(request, frequency))
        found, total, exact, facets = await search.run()
        return await self._result(request, found, total, exact, facets)

    async def search_ids(self, request: SearchRequest, ids: Sequence[int]) -> SearchResult:
        """The records ``ids`` that pass the request's conditions, as code matches."""
        if not ids:
            return SearchResult(hits=[], has_next=False, total=0, facets=_no_facets(request))
        search = _Search(self, request, request.now or utcnow(), None, ids)
        rows = await search.stale()
        rows += await self._rows(
            request, search.filters.fresh, search.now, ids=ids, texts=False, facets=True
        )
        found = sorted((_Found(CODE_SCORE, 0, row.ref_id) for row in rows), key=lambda f: f.id)
        page = [f for f in found if _after(f, request.after)][: request.first + 1]
        facets = _count_facets(request, rows) if request.with_facets else {}
        total, exact = bounded(len(rows), request.count_limit)
        return await self._result(request, page, total, exact, facets)

    async def _result(
        self,
        request: SearchRequest,
        found: list[_Found],
        total: int,
        exact: bool,
        facets: dict[str, list[tuple[Any, int]]],
    ) -> SearchResult:
        page = found[: request.first]
        sources: dict[int, dict[str, list[str]]] = {}
        if page:
            rows = await self.session.execute(
                select(_DOC.ref_id, _DOC.source).where(
                    _DOC.kind == request.kind.value,
                    _DOC.ref_id.in_([f.id for f in page]),
                )
            )
            sources = {ref_id: source for ref_id, source in rows.all()}
        hits = [
            Hit(id=f.id, score=f.score, rank=f.rank, texts=sources.get(f.id) or {}) for f in page
        ]
        return SearchResult(
            hits=hits,
            has_next=len(found) > request.first,
            total=total,
            facets=facets,
            total_exact=exact,
        )

    # Heads -------------------------------------------------------------------------------

    async def head_bound(self, kind: Kind, head: Head) -> tuple[bool, tuple[int, int] | None]:
        """(whether the head exists, its bound). Searches only read heads: the relay and the
        reindex build them (``refresh_heads``), so a read request writes nothing."""
        if self.dialect != "postgresql":
            return False, None
        found = await _bound_of(self.session, kind, head)
        return found if found is not None else (False, None)

    async def refresh_heads(self, words: int | None = None) -> int:
        """Build the heads of the ``words`` most frequent words of each kind (by the index's
        statistics, ``read_frequencies``), those of their classes a search reads from a head,
        and drop every other head; how many were built. Called under the embedded relay's
        lock (the relay, the reindex): the relay keeps the heads in step with what it writes.

        Heads of a few hundred words, not of whatever a caller searches: their number, and
        what every relay write pays to join them (``_join_heads``), stay bounded.
        """
        if self.dialect != "postgresql":
            return 0
        frequencies = await read_frequencies(self.session)

        def frequency(term: str) -> float:
            return frequencies.get(term, 0.0)

        # Rows in all, as the statistics were made: a word of fewer rows than a class needs
        # to be read from a head has no such class.
        rows = await self.session.scalar(
            text("SELECT reltuples FROM pg_class WHERE relname = 'search_document'")
        )
        dense = HEAD_FROM << LEVELS
        wanted: dict[tuple[str, str], Head] = {}
        for kind, word, share in frequent_words(
            frequencies, HEAD_WORDS if words is None else words
        ):
            if share * float(rows or 0) < dense:
                continue
            request = SearchRequest(
                kind=kind,
                query=parse_query(word),
                conditions=_NO_CONDITIONS[kind],
                first=0,
                sees_unpublished=True,  # no filter: the head serves every search of the word
            )
            planned = plan(request, frequency)
            if not planned.heads:
                continue
            probe = await _Search(self, request, utcnow(), planned).probe()
            for row_class, head in planned.heads.items():
                if probe.classes.get(row_class, 0) >= dense:
                    wanted[(kind.value, head.key)] = head
        existing = set(
            (await self.session.execute(select(SearchHeadBound.kind, SearchHeadBound.key))).all()
        )
        for kind_value, key in existing - set(wanted):
            for model in (SearchHead, SearchHeadBound):
                await self.session.execute(
                    delete(model).where(model.kind == kind_value, model.key == key)
                )
        built = 0
        for (kind_value, key), head in wanted.items():
            if (kind_value, key) not in existing:
                await _build_head(self.session, Kind(kind_value), head)
                built += 1
        return built

    async def _join_heads(self, kind: Kind, ids: Sequence[int]) -> None:
        """Add rows just written to the heads they belong to (within each head's bound)."""
        if self.dialect != "postgresql" or not ids:
            return
        term = func.unnest(SearchDocument.tokens).table_valued("term").alias("term")
        tokens = SearchDocument.tokens
        rows = (
            select(
                SearchDocument.kind, SearchHeadBound.key, SearchDocument.rank, SearchDocument.ref_id
            )
            .select_from(SearchDocument)
            .join(term, true())
            .join(
                SearchHeadBound,
                and_(
                    SearchHeadBound.kind == SearchDocument.kind,
                    SearchHeadBound.term == term.c.term,
                ),
            )
            .where(
                SearchDocument.kind == kind.value,
                among(self.session, SearchDocument.ref_id, ids),
                tokens.op("@>")(SearchHeadBound.required),
                not_(tokens.op("&&", return_type=Boolean)(SearchHeadBound.excluded)),
                or_(
                    SearchHeadBound.rank.is_(None),
                    tuple_(SearchDocument.rank, SearchDocument.ref_id)
                    <= tuple_(SearchHeadBound.rank, SearchHeadBound.ref_id),
                ),
            )
        )
        await self.session.execute(
            insert(SearchHead).from_select(["kind", "key", "rank", "ref_id"], rows)
        )

    # Live judgement of stale rows ------------------------------------------------------------

    async def live_flags(
        self, kind: Kind, ids: Sequence[int], now: datetime
    ) -> dict[int, dict[str, bool]]:
        """The time-dependent facts of records at ``now``, by the domain repositories' rules."""
        if not ids:
            return {}
        instant = Instant.at(now)
        model = MODELS[kind]
        columns: list[Any] = [model.id, published(model, instant).label(PUBLISHED)]
        if kind is Kind.ENTERPRISE:
            columns += [
                listed(Enterprise, instant).label(BLACKLISTED),
                holds_licence(Enterprise, instant).label(VALID_LICENCE),
            ]
        rows = await self.session.execute(select(*columns).where(model.id.in_(list(ids))))
        names = [PUBLISHED, BLACKLISTED, VALID_LICENCE][: len(columns) - 1]
        return {row[0]: {name: bool(row[i + 1]) for i, name in enumerate(names)} for row in rows}

    # Codes ---------------------------------------------------------------------------------

    async def enterprise_ids_by_code(
        self, *, uscc: str | None = None, licence: str | None = None, gtin: str | None = None
    ) -> list[int]:
        """Enterprises holding a USCC, a licence number or a product GTIN."""
        if uscc is not None:
            statement = select(Enterprise.id).where(Enterprise.uscc == uscc)
        elif licence is not None:
            statement = select(Licence.enterprise_id).where(Licence.number == licence)
        elif gtin is not None:
            statement = select(Product.enterprise_id).where(Product.gtin == gtin)
        else:
            return []
        return list(await self.session.scalars(statement))

    async def recall_ids_by_code(
        self, *, uscc: str | None = None, gtin: str | None = None
    ) -> list[int]:
        """Recalls run by the enterprise of a USCC, or of the product with a GTIN."""
        if uscc is not None:
            statement = (
                select(Recall.id)
                .join(Enterprise, Enterprise.id == Recall.enterprise_id)
                .where(Enterprise.uscc == uscc)
            )
        elif gtin is not None:
            statement = (
                select(Recall.id)
                .join(Product, Product.id == Recall.product_id)
                .where(Product.gtin == gtin)
            )
        else:
            return []
        return list(await self.session.scalars(statement))

    async def warning_ids_by_gtin(self, gtin: str) -> list[int]:
        """Warnings that name the product with a GTIN."""
        return list(
            await self.session.scalars(
                select(warning_product.c.warning_id)
                .join(Product, Product.id == warning_product.c.product_id)
                .where(Product.gtin == gtin)
            )
        )

    # Writing -------------------------------------------------------------------------------

    async def index(self, documents: Sequence[Document]) -> None:
        """Replace the stored documents of these records (the FTS5 triggers follow)."""
        for kind in {document.kind for document in documents}:
            await self.delete(kind, [d.id for d in documents if d.kind is kind])
        await self.insert(documents)

    async def insert(self, documents: Sequence[Document], *, heads: bool = True) -> None:
        """Store documents of records that have none (after ``delete`` or ``clear``).

        On PostgreSQL through ``COPY`` (asyncpg's binary copy), several times faster than an
        ``INSERT`` of the same rows: what a reindex of a million records waits for. ``heads``:
        add the rows to the heads they belong to (a reindex has cleared them all).
        """
        if not documents:
            return
        now = utcnow()
        rows = [document_row(document, now) for document in documents]
        if self.dialect != "postgresql":
            await self.session.execute(insert(SearchDocument), rows)
            return
        columns = list(rows[0])
        records = [
            tuple(
                orjson.dumps(row[name]).decode() if name in _JSON else row[name] for name in columns
            )
            for row in rows
        ]
        async with self.session.held_connection() as connection:
            raw = await connection.get_raw_connection()
            await raw.driver_connection.copy_records_to_table(  # type: ignore[union-attr]
                SearchDocument.__tablename__, columns=columns, records=records
            )
        if heads:
            for kind in {document.kind for document in documents}:
                await self._join_heads(kind, [d.id for d in documents if d.kind is kind])

    async def delete(self, kind: Kind, ids: Sequence[int]) -> None:
        if ids:
            for model in (SearchDocument, SearchHead):
                await self.session.execute(
                    delete(model)
                    .where(model.kind == kind.value, among(self.session, model.ref_id, ids))
                    .execution_options(synchronize_session=False)
                )

    async def refresh(self) -> None:
        """Nothing to do: a search sees what committed."""

    async def versions(self, kind: Kind, ids: Sequence[int]) -> dict[int, int]:
        """The version of each stored document among ``ids``; absent ones are missing."""
        if not ids:
            return {}
        rows = await self.session.execute(
            select(SearchDocument.ref_id, SearchDocument.version).where(
                SearchDocument.kind == kind.value, SearchDocument.ref_id.in_(list(ids))
            )
        )
        return {int(ref_id): int(version) for ref_id, version in rows.all()}

    async def has_stale(self, now: datetime) -> bool:
        """Whether a row's time-dependent facts have changed since it was built."""
        found = await self.session.scalar(
            select(SearchDocument.id).where(SearchDocument.flags_until <= now).limit(1)
        )
        return found is not None

    async def refresh_stale(self, now: datetime, limit: int) -> int:
        """Rebuild up to ``limit`` rows whose time-dependent facts have changed; how many.

        Searches judge such rows by the live tables meanwhile, which is right but slower.
        """
        rows = await self.session.execute(
            select(SearchDocument.kind, SearchDocument.ref_id)
            .where(SearchDocument.flags_until <= now)
            .order_by(SearchDocument.flags_until)
            .limit(limit)
        )
        stale: dict[Kind, set[int]] = {}
        for kind, ref_id in rows.all():
            stale.setdefault(Kind(kind), set()).add(ref_id)
        for kind, ids in stale.items():
            documents = await build_documents(self.session, kind, ids)
            await self.index(documents)
            await self.delete(kind, sorted(ids - {document.id for document in documents}))
        return sum(len(ids) for ids in stale.values())

    async def analyze(self) -> None:
        """Refresh PostgreSQL's statistics of the index after a rebuild.

        A search's plan depends on how common each of its terms is (``_Frequencies``, and the
        planner's estimate of each term condition), which the statistics of ``tokens`` say;
        autovacuum would see a million new rows only minutes later, and plan from an empty
        table meanwhile.
        """
        if self.dialect == "postgresql":
            await self.session.execute(text(f"ANALYZE {SearchDocument.__tablename__}"))

    async def clear(self, kind: Kind) -> None:
        for model in (SearchDocument, SearchHead, SearchHeadBound):
            await self.session.execute(delete(model).where(model.kind == kind.value))

    async def status(self) -> BackendStatus:
        rows = await self.session.execute(
            select(SearchDocument.kind, func.count()).group_by(SearchDocument.kind)
        )
        counts = {kind.value: 0 for kind in Kind}
        counts.update({kind: int(n) for kind, n in rows.all()})
        return BackendStatus(backend=self.name, documents=counts, detail=self.dialect)


async def read_frequencies(session: AsyncSession) -> dict[str, float]:
    """How common each term is (the fraction of rows that have it), from PostgreSQL's
    statistics of ``tokens``: the most common elements it keeps (raised by migration 0009)."""
    row = (
        await session.execute(
            text(
                "SELECT most_common_elems::text::text[], most_common_elem_freqs "
                "FROM pg_stats WHERE tablename = 'search_document' "
                "AND attname = 'tokens' LIMIT 1"
            )
        )
    ).first()
    if row is None or row[0] is None:
        return {}
    return dict(zip(row[0], row[1], strict=False))


# A field term: the namespace of its kind, the field's position, the token (``search.terms``).
_FIELD_TERM = re.compile(r"(?P<namespace>[a-z]?)(?P<field>\d):(?P<token>.+)")
_KINDS = {namespace: kind for kind, namespace in NAMESPACES.items()}
_NO_CONDITIONS: dict[Kind, Conditions] = {
    Kind.ENTERPRISE: EnterpriseConditions(),
    Kind.RECALL: RecallConditions(),
    Kind.WARNING: WarningConditions(),
}
# Heads are built for this many words of each kind, the most frequent: the searches that
# would otherwise sort hundreds of thousands of matches for a page.
HEAD_WORDS = 200


def frequent_words(frequencies: dict[str, float], words: int) -> list[tuple[Kind, str, float]]:
    """The ``words`` most frequent tokens of each kind's fields, most frequent first, with the
    share of rows that have the token in its most frequent field."""
    best: dict[tuple[Kind, str], float] = {}
    for term, share in frequencies.items():
        found = _FIELD_TERM.fullmatch(term)
        kind = _KINDS.get(found["namespace"]) if found else None
        if found is None or kind is None:
            continue
        key = (kind, found["token"])
        best[key] = max(best.get(key, 0.0), share)
    ranked = sorted(best, key=lambda key: (-best[key], key[0].value, key[1]))
    return [
        (kind, word, best[(kind, word)])
        for kind in Kind
        for _, word in [key for key in ranked if key[0] is kind][:words]
    ]


class _Frequencies:
    """``read_frequencies``, read once in a while per process. The plans made with a table
    are cached (``search.matching.plan``) and hold it: they are dropped when it is read again,
    so that the cache never keeps more than one table alive."""

    def __init__(self, every: float = 600.0) -> None:
        self.every = every
        self._read_at = -math.inf
        self._frequency: Callable[[str], float] = _unknown

    async def get(self, session: HubSession) -> Callable[[str], float]:
        """The frequency function: the same object until the statistics are read again."""
        if time.monotonic() - self._read_at > self.every:
            self._read_at = time.monotonic()
            frequencies = await read_frequencies(session)
            if frequencies:
                forget_plans()
                self._frequency = lambda term: frequencies.get(term, 0.0)
        return self._frequency


def _unknown(term: str) -> float:
    return 0.0


_FREQUENCIES = _Frequencies()


async def _bound_of(
    session: AsyncSession, kind: Kind, head: Head
) -> tuple[bool, tuple[int, int] | None] | None:
    """(True, the head's bound) if the head exists, else None."""
    found = (
        await session.execute(
            select(SearchHeadBound.rank, SearchHeadBound.ref_id).where(
                SearchHeadBound.kind == kind.value, SearchHeadBound.key == head.key
            )
        )
    ).first()
    if found is None:
        return None
    return True, None if found.rank is None else (found.rank, found.ref_id)


async def _build_head(
    session: AsyncSession, kind: Kind, head: Head
) -> tuple[bool, tuple[int, int] | None]:
    """Write ``head`` in ``session``'s transaction (under the embedded relay's lock)."""
    conditions = [SearchDocument.kind == kind.value, _pg_match(AllOf(head.required))]
    if head.excluded:
        conditions.append(_pg_match(NoneOf(head.excluded)))
    # Written by the database itself: the first rows, and one more to tell whether more exist
    # (the head then ends at that row: every row up to it is in).
    first = (
        select(literal(kind.value), literal(head.key), SearchDocument.rank, SearchDocument.ref_id)
        .where(*conditions)
        .order_by(SearchDocument.rank, SearchDocument.ref_id)
        .limit(HEAD_SIZE + 1)
    )
    written = await session.execute(
        insert(SearchHead).from_select(["kind", "key", "rank", "ref_id"], first)
    )
    bound: tuple[int, int] | None = None
    if written.rowcount > HEAD_SIZE:  # type: ignore[attr-defined]
        last = (
            await session.execute(
                select(SearchHead.rank, SearchHead.ref_id)
                .where(SearchHead.kind == kind.value, SearchHead.key == head.key)
                .order_by(SearchHead.rank.desc(), SearchHead.ref_id.desc())
                .limit(1)
            )
        ).one()
        bound = (last.rank, last.ref_id)
    await session.execute(
        insert(SearchHeadBound).values(
            kind=kind.value,
            key=head.key,
            term=head.term,
            required=list(head.required),
            excluded=list(head.excluded),
            rank=bound[0] if bound else None,
            ref_id=bound[1] if bound else None,
        )
    )
    return True, bound


class _Search:
    """One search of the embedded index: its page, its total and its facets.

    ``plan`` is the text query's; a search of records found by code has ``ids`` instead.
    """

    def __init__(
        self,
        backend: EmbeddedBackend,
        request: SearchRequest,
        now: datetime,
        plan: Plan | None,
        ids: Sequence[int] | None = None,
    ) -> None:
        self.backend = backend
        self.request = request
        self.now = now
        self.plan = plan
        self.ids = ids
        self.filters = plan.filters if plan is not None else request_filters(request)
        # Whether more stale rows matched than a search judges (``STALE_LIMIT``).
        self.stale_cut = False

    def _judged(self, rows: list[_Row]) -> list[tuple[_Row, Judged]]:
        assert self.plan is not None
        judge = self.plan.scorer.judge
        return [(row, judged) for row in rows if (judged := judge(row.texts)).matches]

    def _facets(self, rows: list[_Row]) -> dict[str, list[tuple[Any, int]]]:
        return _count_facets(self.request, rows) if self.request.with_facets else {}

    async def run(self) -> tuple[list[_Found], int, bool, dict[str, list[tuple[Any, int]]]]:
        """The page (``first + 1`` rows after the cursor), the total, whether it is exact, and
        the facets."""
        assert self.plan is not None
        probe = await self.probe()
        stale = await self.stale_matches() if probe.stale else []
        if probe.seen < HEAD_FROM:
            # Few matches, most likely: read them all at once, and count them exactly.
            rows, complete = await self._matching(
                self.plan.matching, facets=True, texts=True, limit=self._exact_read + 1
            )
            if complete:
                every = self._judged(rows) + stale
                found = [_Found(judged.score, row.rank, row.ref_id) for row, judged in every]
                total, exact = bounded(len(every), self.request.count_limit)
                return (
                    self._first(found),
                    total,
                    exact and not self.stale_cut,
                    self._facets([row for row, _ in every]),
                )
        found = await self.page(stale, probe) if self.request.first > 0 else []
        total, exact, facets = await self.totals(stale, probe)
        return found, total, exact and not self.stale_cut, facets

    @property
    def _exact_read(self) -> int:
        return _EXACT_READ * self.request.count_limit

    def _first(self, found: list[_Found]) -> list[_Found]:
        after = self.request.after
        ordered = sorted((f for f in found if _after(f, after)), key=_order)
        return ordered[: self.request.first + 1]

    async def probe(self) -> _Probe:
        """The fresh matches in the finest sample level, about one in ``2 ** LEVELS``, counted
        in all and by class: how many matches there are, and of which class, within a factor
        of a few. In the same statement: whether any stale row might match."""
        plan = self.plan
        assert plan is not None
        backend, request = self.backend, self.request
        classes = [c for c in plan.classes if c in plan.heads]
        counts = [
            func.count().filter(backend._match(terms or plan.text))
            for c in classes
            for terms in (plan.class_terms[c], plan.class_positive[c])
        ]
        stale = exists(
            select(_DOC.id).where(
                *backend._where(request, plan.stale_matching, self.now, stale=True)
            )
        )
        statement = select(func.count(), *counts, stale.label("stale")).where(
            *backend._where(request, both(plan.matching, AllOf((level_term(LEVELS),))), self.now)
        )
        row = (await backend._core(statement)).one()
        return _Probe(
            matches=int(row[0]) << LEVELS,
            seen=int(row[0]),
            classes={c: int(row[2 * i + 1]) << LEVELS for i, c in enumerate(classes)},
            read={c: int(row[2 * i + 2]) << LEVELS for i, c in enumerate(classes)},
            stale=bool(row[-1]),
        )

    async def stale_matches(self) -> list[tuple[_Row, Judged]]:
        """Stale rows that match and pass the request's conditions at ``now``, judged by the
        live tables: the first ``STALE_LIMIT`` of them by (rank, id).

        Many facts change at one Shanghai midnight (listings and licences end by the day), and
        until the relay has rebuilt their rows every search that matches them judges them
        here. Past the limit the rest are left out, and the total says it is a lower bound,
        for the seconds the relay takes to catch up.
        """
        assert self.plan is not None
        rows = await self.backend._rows(
            self.request,
            self.plan.stale_matching,
            self.now,
            facets=True,
            stale=True,
            ordered=True,
            limit=STALE_LIMIT + 1,
        )
        if len(rows) > STALE_LIMIT:
            self.stale_cut = True
            rows = rows[:STALE_LIMIT]
            log.warning(
                "search: more than %d rows whose facts changed match; the relay is behind",
                STALE_LIMIT,
            )
        return self._judged(await self._live(rows))

    async def stale(self) -> list[_Row]:
        """Stale rows of the records found by code that pass the conditions at ``now``."""
        rows = await self.backend._rows(
            self.request,
            self.filters.static,
            self.now,
            ids=self.ids,
            texts=False,
            facets=True,
            stale=True,
        )
        return await self._live(rows)

    async def _live(self, rows: list[_Row]) -> list[_Row]:
        """The stale ``rows`` that pass the request's conditions, judged by the live tables.

        Usually none: the relay rebuilds a row soon after its facts change.
        """
        if not rows:
            return []
        flags = await self.backend.live_flags(
            self.request.kind, [row.ref_id for row in rows], self.now
        )
        kept = []
        for row in rows:
            live = flags.get(row.ref_id)
            if live is None or not self.filters.passes(live):
                continue  # a record that is gone leaves with its outbox entry
            if row.facets is not None and BLACKLISTED in live:
                row.facets["blacklisted"] = live[BLACKLISTED]
            kept.append(row)
        return kept

    async def page(self, stale: list[tuple[_Row, Judged]], probe: _Probe) -> list[_Found]:
        """The first ``first + 1`` matches after the cursor, best first.

        One statement reads every row that is the query exactly and the first rows of each class
        the probe saw little of (each collected through the index and sorted by the
        database); then, best class first while it can still reach the page, the first rows
        of each class the probe saw much of, from its head.
        """
        assert self.plan is not None
        request, plan, backend = self.request, self.plan, self.backend
        wanted = request.first + 1
        after = request.after
        found: dict[int, _Found] = {}

        def keep(row: _Row, score: float) -> None:
            candidate = _Found(score, row.rank, row.ref_id)
            if _after(candidate, after):
                found[row.ref_id] = candidate

        for row, judged in stale:
            keep(row, judged.score)
        many = HEAD_FROM << LEVELS
        dense = [c for c in plan.classes if probe.classes.get(c, 0) >= many]
        # Classes whose rows an index finds only among many others (spread phrases, a class
        # its exclusions make small) are read later, and only when the better classes fall
        # short of the page.
        later = [
            c
            for c in plan.classes
            if c not in dense and (not c.fields or probe.read.get(c, 0) >= many)
        ]
        # A class read through the index is read at once only if it can outrank the rows of
        # the heads; the others are read after them, when those fall short of the page.
        floor = min((c.score for c in dense), default=-1.0)
        later += [c for c in plan.classes if c not in dense and c not in later and c.score < floor]
        sparse = [c for c in plan.classes if c not in dense and c not in later]
        # Each part says which class's arm it is (0: the exact key's).
        arms: list[RowClass | None] = [None]
        parts = [
            backend._select(request, plan.of(plan.exact), self.now, texts=True).add_columns(
                literal(0).label("arm")
            )
        ]
        for row_class in sparse:
            if after is not None and row_class.score > after[0]:
                continue  # every row of the class comes before the cursor
            start = None
            if after is not None and row_class.score == after[0]:
                start = (after[1], after[2])
            arm = backend._select(
                request,
                plan.of(plan.class_terms[row_class]),
                self.now,
                ordered=True,
                after=start,
                limit=wanted,
                texts=True,
            ).subquery()
            parts.append(select(*arm.c, literal(len(arms)).label("arm")))
            arms.append(row_class)
        read: dict[int, list[_Row]] = {}
        for row, arm_number in await backend._fetch(
            request, union_all(*parts), texts=True, facets=False
        ):
            read.setdefault(arm_number, []).append(row)
        members: Counter[RowClass] = Counter()
        for row, judged in self._judged([row for rows in read.values() for row in rows]):
            of = class_of(judged)
            if of is None or of in sparse:
                keep(row, judged.score)
                if of is not None:
                    members[of] += 1
        # An arm whose terms do not select its class alone (spread phrases, long phrases) may
        # have read rows of other classes: the class's next rows come after the arm's last.
        following: list[tuple[RowClass, tuple[int, int] | None]] = [(c, None) for c in dense]
        following += [(c, None) for c in later]
        for number, of_arm in enumerate(arms):
            rows = read.get(number, [])
            if of_arm is not None and len(rows) == wanted and members[of_arm] < wanted:
                following.append((of_arm, max(row.position for row in rows)))
        following.sort(key=lambda item: -item[0].score)
        for row_class, last in following:
            if after is not None and row_class.score > after[0]:
                continue  # every row of the class comes before the cursor
            if sum(1 for f in found.values() if f.score > row_class.score) >= wanted:
                continue  # no row of this class can reach the page
            start = last
            if start is None and after is not None and row_class.score == after[0]:
                start = (after[1], after[2])
            head = plan.heads.get(row_class) if last is None else None
            for row in await self._members(row_class, wanted, start, head):
                keep(row, row_class.score)
        return sorted(found.values(), key=_order)[:wanted]

    async def _members(
        self, row_class: RowClass, wanted: int, start: tuple[int, int] | None, head: Head | None
    ) -> list[_Row]:
        """The class's first ``wanted`` rows by (rank, id) after ``start``.

        With ``head``, the class's head is walked in order (built if it can be), each entry's
        row looked up for the request's conditions, then the rows past its bound are read;
        without, the class's rows are collected through the index and sorted by the database.
        """
        assert self.plan is not None
        match = self.plan.of(self.plan.class_terms[row_class])
        members: list[_Row] = []

        def take(rows: list[_Row]) -> None:
            members.extend(
                row for row, judged in self._judged(rows) if class_of(judged) == row_class
            )

        if head is not None:
            built, bound = await self.backend.head_bound(self.request.kind, head)
            if built:
                entries, last = max(4 * wanted, 100), start
                while True:
                    rows, last, read = await self.backend._head_rows(
                        self.request, match, self.now, head.key, last, entries
                    )
                    take(rows)
                    if len(members) >= wanted:
                        return members[:wanted]
                    if read < entries:
                        break  # the head is read
                    entries = min(4 * entries, HEAD_SIZE)
                if bound is None:
                    return members  # the head holds every row of the class
                # Past the head's bound only the index finds the rows.
                start = bound if start is None else max(start, bound)
        chunk = wanted - len(members)
        while True:
            rows = await self.backend._rows(
                self.request, match, self.now, ordered=True, after=start, limit=chunk
            )
            take(rows)
            if len(members) >= wanted or len(rows) < chunk:
                return members[:wanted]
            start = rows[-1].position
            chunk = min(chunk * 4, _CHUNK_LIMIT)

    async def totals(
        self, stale: list[tuple[_Row, Judged]], probe: _Probe
    ) -> tuple[int, bool, dict[str, list[tuple[Any, int]]]]:
        """The total (``bounded`` by the count limit) and the facets (of every match, or of a
        uniform sample past the limit), counted by the database."""
        assert self.plan is not None
        stale_rows = [row for row, _ in stale]
        matching = self.plan.matching
        limit = self.request.count_limit
        if probe.seen < HEAD_FROM:
            counted = await self._count(matching, limit=self._exact_read + 1)
            if counted.rows <= self._exact_read:
                return self._tally(counted, stale_rows)
        estimate = max(probe.matches, self._exact_read + 1 if probe.seen < HEAD_FROM else 0)
        # The sample level that holds somewhat more than the limit of the matches, enough to
        # prove that there are more: the margin shrinks as the probe, which the estimate comes
        # from, saw more (its error is about one over the root of what it saw). Every row of
        # the sample is read, so a tight one is a fast one.
        margin = 1 + 2 / math.sqrt(max(probe.seen, 1))
        level = min(LEVELS, max(0, int(math.log2(estimate / (margin * limit)))))
        while True:
            sampled = [row for row in stale_rows if in_level(row.ref_id, level)]
            counted = await self._count(
                both(matching, AllOf((level_term(level),))) if level else matching
            )
            # A sample of more than the limit proves that the matches are more: the total is
            # the limit, a lower bound; level 0 is every match.
            if counted.rows + len(sampled) > limit or level == 0:
                return self._tally(counted, sampled)
            level -= 1

    def _tally(
        self, counted: _Counted, stale: list[_Row]
    ) -> tuple[int, bool, dict[str, list[tuple[Any, int]]]]:
        total = counted.rows + len(stale)
        facets: dict[str, list[tuple[Any, int]]] = {}
        if self.request.with_facets:
            counts = counted.facets
            for row in stale:
                assert row.facets is not None
                for name in FACETS[self.request.kind]:
                    counts[name][row.facets.get(name)] += 1
            facets = {name: sort_facet(dict(counts[name])) for name in FACETS[self.request.kind]}
        return (*bounded(total, self.request.count_limit), facets)

    async def _count(self, match: Match, *, limit: int | None = None) -> _Counted:
        """The fresh matching rows (at most ``limit``) and their facet values, counted."""
        assert self.plan is not None
        request, backend = self.request, self.backend
        if not self.plan.exact_terms:
            # Long phrases: only their units tell which rows match.
            rows, _ = await self._matching(
                match, facets=request.with_facets, texts=True, limit=limit
            )
            counts: dict[str, Counter[Any]] = {n: Counter() for n in FACETS[request.kind]}
            for row in rows:
                for name in counts:
                    counts[name][(row.facets or {}).get(name)] += 1
            return _Counted(len(rows), counts)
        # A common table expression: the facets and the total read the matches once (a
        # subquery named twice was read twice, the index scan and the rows with it).
        found = backend._select(
            request, match, self.now, texts=False, facets=request.with_facets, limit=limit
        ).cte("found")
        statement: Any
        if not request.with_facets:
            statement = select(literal(""), literal(None), func.count()).select_from(found)
        else:
            values = backend._facet_values(found.c.facets)
            statement = (
                select(values.c.key, values.c.value, func.count())
                .select_from(found)
                .join(values, true())
                .group_by(values.c.key, values.c.value)
                .union_all(select(literal(""), literal(None), func.count()).select_from(found))
            )
        counts = {name: Counter() for name in FACETS[request.kind]}
        total = 0
        for key, value, n in (await backend._core(statement)).all():
            if key == "":
                total = int(n)
            elif key in counts:
                counts[key][_facet_value(key, value)] += int(n)
        return _Counted(total, counts)

    async def _matching(
        self, match: Match, *, facets: bool, texts: bool = False, limit: int | None = None
    ) -> tuple[list[_Row], bool]:
        """Fresh matching rows (up to ``limit``), and whether they are all of them."""
        assert self.plan is not None
        size = limit
        while True:
            rows = await self.backend._rows(
                self.request, match, self.now, facets=facets, texts=True, limit=size
            )
            kept = [row for row, _ in self._judged(rows)]
            if size is None or len(rows) < size:
                return kept, True
            if limit is not None and len(kept) >= limit:
                return kept[:limit], False
            size *= 4


@dataclass(frozen=True, slots=True)
class _Probe:
    """What the probe saw (``_Search.probe``)."""

    # Matches, estimated; how many the probe saw.
    matches: int
    seen: int
    # Rows per class, estimated; and rows an index reads to find them (the class's terms but
    # its exclusions).
    classes: dict[RowClass, int]
    read: dict[RowClass, int]
    # Whether a stale row might match.
    stale: bool


@dataclass(frozen=True, slots=True)
class _Counted:
    rows: int
    facets: dict[str, Counter[Any]]


def _facet_value(name: str, value: Any) -> Any:
    """A facet value as the facets report it, from the database's JSON reading of it."""
    if name == "blacklisted":
        return value in (True, 1, "1", "true")
    return value


def _order(found: _Found) -> tuple[float, int, int]:
    return (-found.score, found.rank, found.id)


def _classes(rows: list[tuple[_Row, Judged]]) -> Counter[RowClass | None]:
    """How many of ``rows`` each class has (None: the exact key's)."""
    return Counter(class_of(judged) for _, judged in rows)


def _facets_of(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        found: dict[str, Any] = json.loads(value)
        return found
    return dict(value)


def _no_facets(request: SearchRequest) -> dict[str, list[tuple[Any, int]]]:
    return {name: [] for name in FACETS[request.kind]} if request.with_facets else {}


def _count_facets(request: SearchRequest, rows: Sequence[_Row]) -> dict[str, list[tuple[Any, int]]]:
    names = FACETS[request.kind]
    counts: dict[str, Counter[Any]] = {name: Counter() for name in names}
    for row in rows:
        assert row.facets is not None
        for name in names:
            counts[name][row.facets.get(name)] += 1
    return {name: sort_facet(dict(counter)) for name, counter in counts.items()}


_JSON = frozenset({"source", "facets"})
# The outbox's name of this backend (search.outbox imports this module: no import back).
EMBEDDED_TARGET = "embedded"


def document_row(document: Document, now: datetime) -> dict[str, Any]:
    """A document as ``search_document`` stores it, its time-dependent facts judged at
    ``now``."""
    names = PROFILES[document.kind].names
    texts = [field_units(document.texts.get(name, [])) for name in names]
    texts += [" "] * (MAX_FIELDS - len(texts))
    terms = document_terms(document, now)
    day = document.attributes.get("started_on") or document.attributes.get("issued_on")
    return {
        "kind": document.kind.value,
        "ref_id": document.id,
        "tokens": terms.tokens,
        **{f"text_{i}": value for i, value in enumerate(texts)},
        "rank": document.rank,
        "source": document.texts,
        "version": document.version,
        "facets": terms.facets,
        "flags_until": terms.flags_until,
        "day": date.fromisoformat(day) if day else None,
    }


__all__ = ["MODELS", "EmbeddedBackend"]
