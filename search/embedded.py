"""The embedded backend: the search index in the hub's own database, and its SQL.

Candidates come from the tokens (an FTS5 ``MATCH`` on SQLite, ``tokens @> ARRAY[...]`` under
the GIN index on PostgreSQL) and are confirmed against the stored units of each field, so
the answer is the one the tokenizer's semantics define, not an artefact of the index. Filters
and facets read the live tables: the database is the source of truth, so the embedded backend
is never behind on a grade, a blacklisting or a licence, only on text.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    Text,
    and_,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    text,
    true,
)
from sqlalchemy.dialects import postgresql

from hub.blacklist.repository import listed_enterprises
from hub.db import HubSession
from hub.enterprise.models import Enterprise
from hub.kit.codes import region_range
from hub.kit.time import SHANGHAI, utcnow
from hub.licence.models import Licence, LicenceStatus
from hub.quality.models import Product
from hub.recall.models import Recall
from hub.warning.models import ConsumerWarning, warning_product
from search.backend import (
    COUNT_LIMIT,
    BackendStatus,
    EnterpriseConditions,
    Hit,
    RecallConditions,
    SearchRequest,
    SearchResult,
    WarningConditions,
    sort_facet,
)
from search.documents import (
    CODE_SCORE,
    EXACT_BONUS,
    MAX_FIELDS,
    MODELS,
    PREFIX_BONUS,
    PROFILES,
    Document,
    Kind,
    among,
)
from search.models import FTS_TABLE, SearchDocument
from search.tokenize import ParsedQuery, field_units

_TEXT_COLUMNS = (
    SearchDocument.text_0,
    SearchDocument.text_1,
    SearchDocument.text_2,
    SearchDocument.text_3,
)


def _published(model: Any, request: SearchRequest, now: datetime) -> ColumnElement[bool]:
    if request.sees_unpublished:
        return true()
    column = model.published_at
    return and_(column.is_not(None), column <= now)


def _valid_licence(now: datetime) -> ColumnElement[bool]:
    day = now.astimezone(SHANGHAI).date()
    return exists().where(
        Licence.enterprise_id == Enterprise.id,
        Licence.status == LicenceStatus.VALID,
        Licence.published_at.is_not(None),
        Licence.published_at <= now,
        Licence.valid_from <= day,
        Licence.valid_until >= day,
    )


def _region(column: Any, code: str) -> ColumnElement[bool]:
    low, high = region_range(code)
    return and_(column >= low, column < high)


def enterprise_conditions(
    conditions: EnterpriseConditions, request: SearchRequest, now: datetime
) -> list[ColumnElement[bool]]:
    where = [_published(Enterprise, request, now)]
    if conditions.region_code is not None:
        where.append(_region(Enterprise.region_code, conditions.region_code))
    if conditions.industry_code is not None:
        where.append(Enterprise.industry_code == conditions.industry_code)
    if conditions.credit_grades:
        where.append(Enterprise.credit_grade.in_(conditions.credit_grades))
    if conditions.status is not None:
        where.append(Enterprise.status == conditions.status)
    if conditions.blacklisted is not None:
        listed = Enterprise.id.in_(listed_enterprises())
        where.append(listed if conditions.blacklisted else ~listed)
    if conditions.has_valid_licence is not None:
        valid = _valid_licence(now)
        where.append(valid if conditions.has_valid_licence else ~valid)
    return where


def recall_conditions(
    conditions: RecallConditions, request: SearchRequest, now: datetime
) -> list[ColumnElement[bool]]:
    where = [_published(Recall, request, now)]
    if conditions.region_code is not None:
        where.append(
            Recall.enterprise_id.in_(
                select(Enterprise.id).where(_region(Enterprise.region_code, conditions.region_code))
            )
        )
    if conditions.category is not None:
        where.append(Recall.category == conditions.category)
    if conditions.status is not None:
        where.append(Recall.status == conditions.status)
    if conditions.kind is not None:
        where.append(Recall.kind == conditions.kind)
    if conditions.started_after is not None:
        where.append(Recall.started_on >= conditions.started_after)
    if conditions.started_before is not None:
        where.append(Recall.started_on <= conditions.started_before)
    return where


def warning_conditions(
    conditions: WarningConditions, request: SearchRequest, now: datetime
) -> list[ColumnElement[bool]]:
    where = [_published(ConsumerWarning, request, now)]
    if conditions.severity is not None:
        where.append(ConsumerWarning.severity == conditions.severity)
    if conditions.category is not None:
        where.append(ConsumerWarning.category == conditions.category)
    if conditions.issued_after is not None:
        where.append(ConsumerWarning.issued_on >= conditions.issued_after)
    if conditions.issued_before is not None:
        where.append(ConsumerWarning.issued_on <= conditions.issued_before)
    return where


def _conditions(request: SearchRequest, now: datetime) -> list[ColumnElement[bool]]:
    given = request.conditions
    if isinstance(given, EnterpriseConditions):
        return enterprise_conditions(given, request, now)
    if isinstance(given, RecallConditions):
        return recall_conditions(given, request, now)
    return warning_conditions(given, request, now)


def _facet_columns(kind: Kind) -> dict[str, ColumnElement[Any]]:
    """The facets of a kind, each as the column it groups by."""
    if kind is Kind.ENTERPRISE:
        return {
            "regions": func.substr(Enterprise.region_code, 1, 2).label("regions"),
            "creditGrades": Enterprise.credit_grade.label("creditGrades"),
            "industries": Enterprise.industry_code.label("industries"),
            "blacklisted": case(
                (Enterprise.id.in_(listed_enterprises()), literal(1)), else_=literal(0)
            ).label("blacklisted"),
        }
    if kind is Kind.RECALL:
        return {
            "categories": Recall.category.label("categories"),
            "statuses": Recall.status.label("statuses"),
            "kinds": Recall.kind.label("kinds"),
        }
    return {
        "severities": ConsumerWarning.severity.label("severities"),
        "categories": ConsumerWarning.category.label("categories"),
    }


def _facet_value(name: str, value: Any) -> Any:
    if name == "regions":
        return f"{value}0000"
    if name == "blacklisted":
        return bool(value)
    return getattr(value, "value", value)


class EmbeddedBackend:
    """The index in the hub's database, bound to one session (one transaction)."""

    name = "embedded"

    def __init__(self, session: HubSession) -> None:
        self.session = session
        self.dialect = session.get_bind().dialect.name

    # Searching -----------------------------------------------------------------------------

    def _candidates(self, query: ParsedQuery) -> ColumnElement[bool]:
        if self.dialect == "postgresql":
            wanted = literal(list(query.tokens), type_=postgresql.ARRAY(Text()))
            return SearchDocument.tokens.op("@>")(wanted)
        expression = " AND ".join(f'"{token}"' for token in query.tokens)
        matching: Select[Any] = (
            select(literal_column("rowid"))
            .select_from(text(FTS_TABLE))
            .where(text(f"{FTS_TABLE} MATCH :fts_query").bindparams(fts_query=expression))
        )
        return SearchDocument.id.in_(matching)

    def _scored(self, request: SearchRequest) -> Select[Any]:
        """One row per record whose text matches: id, score, rank, source (no filters yet)."""
        query = request.query
        fields = PROFILES[request.kind].fields
        columns = _TEXT_COLUMNS[: len(fields)]
        patterns = [query.pattern(phrase) for phrase in query.phrases]
        found_in = [
            and_(*(column.contains(pattern, autoescape=True) for pattern in patterns))
            for column in columns
        ]
        every_phrase = [
            or_(*(column.contains(pattern, autoescape=True) for column in columns))
            for pattern in patterns
        ]
        primary = _TEXT_COLUMNS[0]
        score: ColumnElement[Any] = sum(
            (
                case((matched, literal(weight)), else_=literal(0))
                for matched, (_, weight) in zip(found_in, fields, strict=True)
            ),
            start=literal(0),
        )
        score = (
            score
            + case(
                (primary.startswith(patterns[0], autoescape=True), literal(PREFIX_BONUS)),
                else_=literal(0),
            )
            + case((primary == f" {query.key} ", literal(EXACT_BONUS)), else_=literal(0))
        )
        return select(
            SearchDocument.ref_id.label("id"),
            score.label("score"),
            SearchDocument.rank.label("rank"),
            SearchDocument.source.label("source"),
        ).where(
            SearchDocument.kind == request.kind.value,
            self._candidates(query),
            *every_phrase,
        )

    def _by_ids(self, request: SearchRequest, ids: Sequence[int]) -> Select[Any]:
        """Records found by code: a fixed score, ordered by id."""
        model = MODELS[request.kind]
        return select(
            model.id.label("id"),
            literal(CODE_SCORE).label("score"),
            literal(0, type_=Integer()).label("rank"),
            literal(None).label("source"),
        ).where(model.id.in_(list(ids)))

    async def search(self, request: SearchRequest) -> SearchResult:
        return await self._run(request, self._scored(request))

    async def search_ids(self, request: SearchRequest, ids: Sequence[int]) -> SearchResult:
        """The records ``ids`` that pass the request's conditions, as code matches."""
        if not ids:
            return SearchResult(hits=[], has_next=False, total=0, facets={})
        return await self._run(request, self._by_ids(request, ids))

    @staticmethod
    def _now(request: SearchRequest) -> datetime:
        return request.now or utcnow()

    @staticmethod
    def _passes(request: SearchRequest, id_column: Any) -> ColumnElement[bool]:
        """The record ``id_column`` passes the request's conditions, probed row by row.

        ``OFFSET 0`` keeps PostgreSQL from turning the probe into a join: a frequent term has
        tens of thousands of candidates, and a hash join read every record of the table to
        keep the few hundred that the page and the capped count need.
        """
        model = MODELS[request.kind]
        return exists(
            select(literal(1))
            .select_from(model)
            .where(model.id == id_column, *_conditions(request, EmbeddedBackend._now(request)))
            .offset(0)
        )

    async def _run(self, request: SearchRequest, scored: Select[Any]) -> SearchResult:
        # Ranked on the text alone, then filtered in rank order (the ORDER BY and OFFSET 0 keep
        # it a sorted subquery): the page stops after first + 1 records that pass, and only
        # they are probed. Every candidate is scored, so the page is exact.
        columns = scored.selected_columns
        ranked = (
            scored.order_by(columns.score.desc(), columns.rank, columns.id)
            .offset(0)
            .subquery("ranked")
        )
        page = select(ranked.c.id, ranked.c.score, ranked.c.rank, ranked.c.source).where(
            self._passes(request, ranked.c.id)
        )
        if request.after is not None:
            score, rank, last = request.after
            page = page.where(
                or_(
                    ranked.c.score < score,
                    and_(ranked.c.score == score, ranked.c.rank > rank),
                    and_(ranked.c.score == score, ranked.c.rank == rank, ranked.c.id > last),
                )
            )
        page = page.order_by(ranked.c.score.desc(), ranked.c.rank, ranked.c.id).limit(
            request.first + 1
        )
        rows = (await self.session.execute(page)).all() if request.first > 0 else []
        hits = [
            Hit(id=row.id, score=float(row.score), rank=int(row.rank), texts=row.source or {})
            for row in rows[: request.first]
        ]
        total, exact, facets = await self._facets(request, scored)
        return SearchResult(
            hits=hits,
            has_next=len(rows) > request.first,
            total=total,
            facets=facets,
            total_exact=exact,
        )

    async def _facets(
        self, request: SearchRequest, scored: Select[Any]
    ) -> tuple[int, bool, dict[str, list[tuple[Any, int]]]]:
        """The total, whether it is exact, and every facet, from one grouped count.

        Counts stop after ``COUNT_LIMIT`` matches: a frequent term matches a large share of a
        million records, and counting them all took longer than everything else.
        """
        model = MODELS[request.kind]
        columns = _facet_columns(request.kind) if request.with_facets else {}
        found = scored.subquery("found")
        matching = (
            select(found.c.id.label("match_id"), func.row_number().over().label("seen"))
            .where(self._passes(request, found.c.id))
            .limit(COUNT_LIMIT + 1)
            .subquery("matching")
        )
        grouped = (
            select(
                *columns.values(),
                func.count().filter(matching.c.seen <= COUNT_LIMIT).label("n"),
                func.max(matching.c.seen).label("seen"),
            )
            .select_from(model)
            .join(matching, matching.c.match_id == model.id)
        )
        if columns:
            grouped = grouped.group_by(*columns.values())
        counts: dict[str, Counter[Any]] = {name: Counter() for name in columns}
        total = 0
        seen = 0
        for row in await self.session.execute(grouped):
            n = int(row.n)
            seen = max(seen, int(row.seen or 0))
            total += n
            for name in columns:
                if n:
                    counts[name][_facet_value(name, getattr(row, name))] += n
        facets = {name: sort_facet(dict(counter)) for name, counter in counts.items()}
        return total, seen <= COUNT_LIMIT, facets

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

    async def insert(self, documents: Sequence[Document]) -> None:
        """Store documents of records that have none (after ``delete`` or ``clear``).

        On PostgreSQL through ``COPY`` (asyncpg's binary copy), several times faster than an
        ``INSERT`` of the same rows: what a reindex of a million records waits for.
        """
        if not documents:
            return
        rows = [document_row(document) for document in documents]
        if self.dialect != "postgresql":
            await self.session.execute(insert(SearchDocument), rows)
            return
        connection = await self.session.connection()
        raw = await connection.get_raw_connection()
        columns = list(rows[0])
        await raw.driver_connection.copy_records_to_table(  # type: ignore[union-attr]
            SearchDocument.__tablename__,
            columns=columns,
            records=[
                tuple(
                    json.dumps(row[name], ensure_ascii=False) if name == "source" else row[name]
                    for name in columns
                )
                for row in rows
            ],
        )

    async def delete(self, kind: Kind, ids: Sequence[int]) -> None:
        if ids:
            await self.session.execute(
                delete(SearchDocument)
                .where(
                    SearchDocument.kind == kind.value,
                    among(self.session, SearchDocument.ref_id, ids),
                )
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

    async def clear(self, kind: Kind) -> None:
        await self.session.execute(delete(SearchDocument).where(SearchDocument.kind == kind.value))

    async def status(self) -> BackendStatus:
        rows = await self.session.execute(
            select(SearchDocument.kind, func.count()).group_by(SearchDocument.kind)
        )
        counts = {kind.value: 0 for kind in Kind}
        counts.update({kind: int(n) for kind, n in rows.all()})
        return BackendStatus(backend=self.name, documents=counts, detail=self.dialect)


def document_row(document: Document) -> dict[str, Any]:
    names = PROFILES[document.kind].names
    texts = [field_units(document.texts.get(name, [])) for name in names]
    texts += [" "] * (MAX_FIELDS - len(texts))
    return {
        "kind": document.kind.value,
        "ref_id": document.id,
        "tokens": document.tokens,
        **{f"text_{i}": value for i, value in enumerate(texts)},
        "rank": document.rank,
        "source": document.texts,
        "version": document.version,
    }


__all__ = ["MODELS", "EmbeddedBackend"]
