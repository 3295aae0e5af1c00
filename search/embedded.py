"""The embedded backend: the search index in the hub's own database.

Every search reads one table, ``search_document``: its ``tokens`` column holds the terms of a
row (``search.terms``: field tokens, filter attributes, time-dependent facts, sample levels)
under one index (GIN on PostgreSQL, FTS5 on SQLite), so text, filters and the sample are one
index condition, and a search reads only the rows it returns or counts. Its parts:

- this module: the backend (reading rows, writing documents, codes, status);
- ``search.embedded_search``: one search, its page, total and facets;
- ``search.embedded_match``: a condition on terms as SQL;
- ``search.embedded_heads``: the heads of frequent words, built by the relay and the reindex;
- ``search.embedded_statistics``: how common each term is.

The terms of time-dependent facts (published, blacklisted, a valid licence) hold until the
row's ``flags_until``. A row past it is *stale*: the searches leave it to a separate read that
judges it by the live tables, with the domain repositories' own rules, and the relay rebuilds
it (``refresh_stale``). So an answer is right at any moment, whether or not the relay has run.
"""

from __future__ import annotations

import functools
import io
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, date, datetime
from typing import Any

import orjson
from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    true,
    tuple_,
)

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
from search import embedded_heads, embedded_tally
from search.backend import (
    BackendStatus,
    Hit,
    SearchRequest,
    SearchResult,
    bounded,
    day_range,
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
from search.embedded_match import (
    absent_only,
    fts_rows,
    pg_deferred,
    pg_excluded,
    pg_match,
)
from search.embedded_search import (
    Found,
    Row,
    Search,
    after_cursor,
    count_facets,
    facets_of,
    no_facets,
)
from search.embedded_statistics import FREQUENCIES
from search.matching import (
    AnyOf,
    Head,
    Match,
    holding,
    plan,
    required_terms,
)
from search.models import (
    SearchDocument,
    SearchHead,
    SearchHeadBound,
    SearchTally,
    SearchTallyWord,
)
from search.terms import (
    BLACKLISTED,
    PUBLISHED,
    VALID_LICENCE,
    document_terms,
    marks_of,
)
from search.tokenize import field_units

log = logging.getLogger("hub.search")

_DOC = SearchDocument.__table__.c
_HEAD = SearchHead.__table__.c
_TEXT_COLUMNS = (_DOC.text_0, _DOC.text_1, _DOC.text_2, _DOC.text_3)
# The row is of a kind: the same expression in every statement (``EmbeddedBackend._where``).
_OF_KIND = {kind: _DOC.kind == kind.value for kind in Kind}
# A condition's excluded terms are checked as the rows the index finds with them (a hashed
# set of ids, ``pg_excluded``) when they are together at most this many times as common as the
# rarest term the row must have, and on at most ``EXCLUDED_ROWS_AT_MOST`` of the rows (the
# ids' hash stays well within the search's ``work_mem``); else each row's terms are scanned
# for them. Neither without the terms' statistics (``Frequencies``).
EXCLUDED_BY_ROWS = 2.0
EXCLUDED_ROWS_AT_MOST = 0.01
# Settings of a search's transaction on PostgreSQL (``EmbeddedBackend.search``), set for the
# rest of it (the records of its hits are read in it too) and gone with it:
# - a custom plan for every statement: the planner must see the parameters (the moment, a
#   LIMIT), or after five runs of a prepared statement PostgreSQL may plan it once for any
#   parameters, and that generic plan read a frequent word's rows ten times slower (at 1M,
#   科技 went from 76 to 778 ms at the median). With it, a statement's text is the same from
#   one search to the next: SQLAlchemy compiles it once and asyncpg prepares it once per
#   connection (at 1M, in process: 70.7 ms a search on average over the query set when the
#   moment was written into the text, 52.6 with it bound);
# - for a count (``_count_rows``): the bitmap of a frequent word's matches (科技 at 1M: 116,000
#   rows on 81,000 pages) does not fit the default 4 MB, and its pages go lossy: every row of a
#   lossy page is checked again, its terms read (the count of 10,001 took 209 ms, 68 ms in
#   16 MB). The count is planned for all the matches, not the few it reads, and that estimate
#   passes jit_above_cost: compiling took 10 to 60 ms.
SEARCH_SETTINGS = {"plan_cache_mode": "force_custom_plan", "work_mem": "16MB", "jit": "off"}


class EmbeddedBackend:
    """The index in the hub's database, bound to one session (one transaction)."""

    name = "embedded"

    def __init__(self, session: HubSession) -> None:
        self.session = session
        self.dialect = session.get_bind().dialect.name
        # The conditions on ``flags_until`` at one moment, by stale or not (``_freshness``).
        self._fresh_at: datetime | None = None
        self._fresh: dict[bool, ColumnElement[bool]] = {}
        # How common each term is (``search`` reads it): how a condition's excluded terms
        # are checked (``_where``).
        self.frequency: Callable[[str], float] | None = None

    # Reading rows --------------------------------------------------------------------------

    async def _core(self, statement: Any) -> Any:
        """``statement``'s result: Core rows for a select of Core columns (``_DOC``)."""
        return await self.session.execute(statement)

    def _match(self, match: Match) -> ColumnElement[bool]:
        if self.dialect == "postgresql":
            return pg_match(match)
        absent = absent_only(match)
        if absent is not None:
            return _DOC.id.not_in(fts_rows(AnyOf(absent)))
        return _DOC.id.in_(fts_rows(match))

    def _freshness(self, now: datetime, stale: bool) -> ColumnElement[bool]:
        """The row's facts hold at ``now`` (or no longer do: ``stale``). The moment is a
        parameter: the statement's text does not change with it (``SEARCH_SETTINGS``).

        Made once per moment and reused by every statement of the search: building these
        expressions anew for each part of each statement was an eighth of the hub's time on
        an embedded search at 1M (科技, py-spy)."""
        if self._fresh_at != now:
            self._fresh_at, self._fresh = now, {}
        found = self._fresh.get(stale)
        if found is None:
            moment = literal(now, _DOC.flags_until.type)
            found = self._fresh[stale] = (
                _DOC.flags_until <= moment
                if stale
                else or_(_DOC.flags_until.is_(None), _DOC.flags_until > moment)
            )
        return found

    def _where(
        self,
        request: SearchRequest,
        match: Match | None,
        now: datetime,
        *,
        stale: bool = False,
        looked_up: bool = False,
    ) -> list[ColumnElement[bool]]:
        """The row is of the request's kind, in its date range, fresh (or stale), matches.
        On PostgreSQL the terms a match excludes come last (``pg_deferred``), as rows the
        index finds with them or scanned for in the row's terms (``EXCLUDED_BY_ROWS``); only
        scanned for when the rows are ``looked_up`` one by one (a head's entries, records
        found by code): the ids' hash would be made again for each."""
        where = [_OF_KIND[request.kind]]
        last = None
        if match is not None and self.dialect == "postgresql":
            match, excluded = pg_deferred(match)
            if excluded:
                by_rows = not looked_up and self._by_rows(match, excluded)
                last = pg_excluded(excluded, by_rows=by_rows)
        if match is not None:
            where.append(self._match(match))
        low, high = day_range(request.conditions)
        if low is not None:
            where.append(_DOC.day >= low)
        if high is not None:
            where.append(_DOC.day <= high)
        where.append(self._freshness(now, stale))
        if last is not None:
            where.append(last)
        return where

    def _by_rows(self, match: Match | None, excluded: tuple[str, ...]) -> bool:
        frequency = self.frequency
        required = required_terms(match)
        if frequency is None or not required:
            return False
        rarest = min(frequency(term) for term in required)
        common = sum(frequency(term) for term in excluded)
        return rarest > 0.0 and common <= min(EXCLUDED_BY_ROWS * rarest, EXCLUDED_ROWS_AT_MOST)

    def _holding(self, kind: Kind, patterns: Sequence[str]) -> ColumnElement[bool]:
        """``search.matching.holding`` checked by the database, so that a count of a phrase
        that terms cannot say reads nothing of the rows."""
        fields = _TEXT_COLUMNS[: len(PROFILES[kind].fields)]
        found = func.strpos if self.dialect == "postgresql" else func.instr
        held: ColumnElement[bool] = holding(
            patterns,
            fields,
            lambda field, pattern: found(field, pattern) > 0,
            lambda conditions: and_(*conditions),
            lambda conditions: or_(*conditions),
        )
        return held

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
        looked_up: bool = False,
    ) -> Select[Any]:
        """Rows of ``request``'s kind (ref_id, rank, then units and facets if asked);
        ``looked_up``: the statement finds them one by one (``_where``), as it does those of
        ``ids`` and of a ``head``."""
        count = len(PROFILES[request.kind].fields)
        columns: list[Any] = [_DOC.ref_id, _DOC.rank]
        columns += list(_TEXT_COLUMNS[:count]) if texts else []
        if facets:
            # For Python: on PostgreSQL the values as text in ``FACETS`` order (``facets_of``).
            pg = self.dialect == "postgresql"
            columns.append(embedded_tally.facet_values(request.kind) if pg else _DOC.facets)
        looked_up = looked_up or head is not None or ids is not None
        statement = select(*columns).where(
            *self._where(request, match, now, stale=stale, looked_up=looked_up)
        )
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
    ) -> list[tuple[Row, Any]]:
        """(row, the statement's column after the row's, if any) of each result row."""
        count = len(PROFILES[request.kind].fields) if texts else 0
        width = 2 + count + (1 if facets else 0)
        result = await self._core(statement)
        return [
            (
                Row(
                    ref_id=row[0],
                    rank=row[1],
                    texts=tuple(row[2 : 2 + count]),
                    facets=facets_of(request.kind, row[2 + count]) if facets else None,
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
    ) -> tuple[list[Row], tuple[int, int] | None, int]:
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
            self._select(request, match, now, texts=True, looked_up=True)
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
            Row(ref_id=r[1], rank=r[0], texts=tuple(r[3 : 3 + count]), facets=None)
            for r in result
            if r[2] is not None
        ]
        last = (result[-1][0], result[-1][1]) if result else after
        return rows, last, len(result)

    async def _count_rows(self, statement: Select[Any], limit: int) -> int:
        """How many rows ``statement`` returns, up to ``limit``: each row is found, nothing of
        it read.

        On PostgreSQL the rows are a materialized common table expression, planned for all of
        them (an index's bitmap) while the count stops reading at the limit; a plain LIMIT was
        planned as a scan of the table that stops early, and at 1M the rows of a frequent word
        (科技) sat far enough apart for it to read 88,000 rows in 460 ms, each row's terms
        uncompressed. There is no count from the index alone: PostgreSQL reads each row's
        page for its visibility (15.13 and later no longer skip a page all visible). Its
        memory and no JIT: ``SEARCH_SETTINGS``, set by the search.
        """
        if self.dialect != "postgresql":
            found = statement.limit(limit).subquery()
            return int((await self._core(select(func.count()).select_from(found))).scalar_one())
        rows = statement.cte("found").prefix_with("MATERIALIZED")
        counted = select(func.count()).select_from(select(rows.c[0]).limit(limit).subquery())
        return int((await self._core(counted)).scalar_one())

    async def _set(self, settings: dict[str, str]) -> None:
        """Settings for the rest of the transaction (PostgreSQL)."""
        values = ", ".join(f"set_config('{name}', :{name}, true)" for name in settings)
        await self._core(text(f"SELECT {values}").bindparams(**settings))

    async def _rows_of(
        self, request: SearchRequest, statement: Any, *, texts: bool, facets: bool = False
    ) -> list[Row]:
        return [row for row, _ in await self._fetch(request, statement, texts=texts, facets=facets)]

    async def _rows(
        self,
        request: SearchRequest,
        match: Match | None,
        now: datetime,
        *,
        texts: bool = True,
        facets: bool = False,
        **options: Any,
    ) -> list[Row]:
        statement = self._select(request, match, now, texts=texts, facets=facets, **options)
        return [row for row, _ in await self._fetch(request, statement, texts=texts, facets=facets)]

    # Searching -----------------------------------------------------------------------------

    async def search(self, request: SearchRequest) -> SearchResult:
        frequency = None
        if self.dialect == "postgresql":
            await self._set(SEARCH_SETTINGS)
            frequency = await FREQUENCIES.get(self.session)
            self.frequency = frequency
        search = Search(self, request, request.now or utcnow(), plan(request, frequency))
        found, total, exact, facets = await search.run()
        return await self._result(request, found, total, exact, facets, search.facets_sampled)

    async def search_ids(self, request: SearchRequest, ids: Sequence[int]) -> SearchResult:
        """The records ``ids`` that pass the request's conditions, as code matches."""
        if not ids:
            return SearchResult(hits=[], has_next=False, total=0, facets=no_facets(request))
        search = Search(self, request, request.now or utcnow(), None, ids)
        rows = await search.stale()
        rows += await self._rows(
            request, search.filters.fresh, search.now, ids=ids, texts=False, facets=True
        )
        found = sorted((Found(CODE_SCORE, 0, row.ref_id) for row in rows), key=lambda f: f.id)
        page = [f for f in found if after_cursor(f, request.after)][: request.first + 1]
        facets = count_facets(request, rows) if request.with_facets else {}
        total, exact = bounded(len(rows), request.count_limit)
        return await self._result(request, page, total, exact, facets)

    async def _result(
        self,
        request: SearchRequest,
        found: list[Found],
        total: int,
        exact: bool,
        facets: dict[str, list[tuple[Any, int]]],
        facets_sampled: bool = False,
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
            facets_sampled=facets_sampled,
        )

    # Heads -------------------------------------------------------------------------------

    async def readable_head(
        self, kind: Kind, head: Head, frequency: Callable[[str], float] | None
    ) -> tuple[str, tuple[int, int] | None] | None:
        """The head to walk for ``head``'s class and its bound, if any:
        ``search.embedded_heads.readable_head``."""
        if self.dialect != "postgresql":
            return None
        return await embedded_heads.readable_head(self.session, kind, head, frequency)

    async def build_tally(self) -> bool:
        """Build one chosen word's tally (``search.embedded_tally.build_next``, PostgreSQL
        only): whether there was one to build."""
        if self.dialect != "postgresql":
            return False
        return await embedded_tally.build_next(self.session)

    async def tallies_to_build(self) -> bool:
        if self.dialect != "postgresql":
            return False
        return await embedded_tally.to_build(self.session)

    async def refresh_heads(
        self,
        words: int | None = None,
        *,
        ranked: bool = False,
        helper: Callable[[], AbstractAsyncContextManager[HubSession]] | None = None,
    ) -> int:
        """``search.embedded_heads.refresh_heads`` (PostgreSQL only): how many were built.
        ``helper``: a transaction on a second connection, to build some of them on."""
        if self.dialect != "postgresql":
            return 0
        await self._set(SEARCH_SETTINGS)  # it probes words as a search does
        lent = None if helper is None else functools.partial(_searching, helper)
        return await embedded_heads.refresh_heads(self, words, ranked=ranked, helper=lent)

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
        if self.dialect != "postgresql":
            rows = [document_row(document, now) for document in documents]
            await self.session.execute(insert(SearchDocument), rows)
            return
        await self.copy(copy_rows(documents, now))
        if heads:
            for kind in {document.kind for document in documents}:
                ids = [d.id for d in documents if d.kind is kind]
                await embedded_heads.join_heads(self.session, kind, ids)
                await embedded_tally.join(self.session, kind, ids)

    async def copy(self, rows: bytes) -> None:
        """Store rows made by ``copy_rows`` (PostgreSQL), of records that have none."""
        async with self.session.held_connection() as connection:
            raw = await connection.get_raw_connection()
            await raw.driver_connection.copy_to_table(  # type: ignore[union-attr]
                SearchDocument.__tablename__,
                source=io.BytesIO(rows),
                columns=list(COPY_COLUMNS),
                format="text",
            )

    async def delete(self, kind: Kind, ids: Sequence[int]) -> None:
        if ids:
            if self.dialect == "postgresql":
                await embedded_tally.leave(self.session, kind, ids)
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

        A search's plan depends on how common each of its terms is (``Frequencies``, and the
        planner's estimate of each term condition), which the statistics of the terms and of
        ``tokens`` say;
        autovacuum would see a million new rows only minutes later, and plan from an empty
        table meanwhile.
        """
        if self.dialect == "postgresql":
            await self.session.execute(text(f"ANALYZE {SearchDocument.__tablename__}"))

    async def clear(self, kind: Kind) -> None:
        for model in (SearchDocument, SearchHead, SearchHeadBound, SearchTally, SearchTallyWord):
            await self.session.execute(delete(model).where(model.kind == kind.value))

    async def status(self) -> BackendStatus:
        rows = await self.session.execute(
            select(SearchDocument.kind, func.count()).group_by(SearchDocument.kind)
        )
        counts = {kind.value: 0 for kind in Kind}
        counts.update({kind: int(n) for kind, n in rows.all()})
        return BackendStatus(backend=self.name, documents=counts, detail=self.dialect)


@asynccontextmanager
async def _searching(
    transaction: Callable[[], AbstractAsyncContextManager[HubSession]],
) -> AsyncIterator[HubSession]:
    """A ``transaction()`` with a search's settings (``SEARCH_SETTINGS``)."""
    async with transaction() as session:
        await EmbeddedBackend(session)._set(SEARCH_SETTINGS)
        yield session


_JSON = frozenset({"source", "facets"})
# The columns ``copy_rows`` writes, from ``document_row``: every one but the key.
COPY_COLUMNS = tuple(
    column.name for column in SearchDocument.__table__.columns if not column.primary_key
)
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
        "marks": marks_of(terms.tokens),
        **{f"text_{i}": value for i, value in enumerate(texts)},
        "rank": document.rank,
        "source": document.texts,
        "version": document.version,
        "facets": terms.facets,
        "flags_until": terms.flags_until,
        "day": date.fromisoformat(day) if day else None,
    }


def copy_rows(documents: Sequence[Document], now: datetime) -> bytes:
    """The documents as rows of ``COPY_COLUMNS`` in ``COPY``'s text format, for
    ``EmbeddedBackend.copy``. A function of its arguments alone: a reindex runs it in worker
    processes (``search.building``).

    Made here as text, not handed to asyncpg as records for its binary copy: at 1M the process
    that writes (and reads the next batches, and builds their documents) was the one a reindex
    waited for, and asyncpg's encoding of the records was a third of its work (each term of each
    row's array tested as a sequence), their transfer from the workers another sixth. The
    embedded reindex at 1M took 318 s so, 283 s with this."""
    lines = []
    for document in documents:
        row = document_row(document, now)
        lines.append(
            "\t".join(
                _copy_field(orjson.dumps(row[name]).decode() if name in _JSON else row[name])
                for name in COPY_COLUMNS
            )
        )
    return ("\n".join(lines) + "\n").encode() if lines else b""


def _copy_field(value: Any) -> str:
    """A value of ``document_row`` (JSON already as text) as a field of ``COPY``'s text
    format: ``\\N`` for NULL, an array as PostgreSQL's literal of quoted elements, a moment in
    ISO 8601 with its offset (UTC when it has none).

    Each test below is a scan in C: most values need no escape at all, and a row's terms seldom
    hold a quote or a backslash, so each is written as it is unless it does (``str.translate``
    and an escape of each term were a third of ``copy_rows``)."""
    if value is None:
        return "\\N"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        if not value:
            return "{}"
        joined = '","'.join(value)
        if "\\" in joined or '"' in joined:
            joined = '","'.join(item.replace("\\", "\\\\").replace('"', '\\"') for item in value)
        value = '{"' + joined + '"}'
    elif isinstance(value, datetime):
        value = (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    elif isinstance(value, date):
        value = value.isoformat()
    text = str(value)
    if "\\" in text:
        text = text.replace("\\", "\\\\")
    if "\t" in text or "\n" in text or "\r" in text:
        text = text.replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


__all__ = ["MODELS", "EmbeddedBackend"]
