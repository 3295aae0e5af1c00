"""How a record becomes a search document: its text fields, and the attributes filters need.

Text fields are listed per kind in ``PROFILES`` with the weight a match in them scores. The
attributes (region, grade, dates...) are what Elasticsearch filters and counts on; the embedded
backend reads them from the live tables instead, so only the text goes through its index.

Every document carries the version of the database it was built from (``version``): the
record's ``search_version``, which each change raises in its transaction (``search.outbox``).
A recall's document also shows its enterprise's name and region, so its version is the sum of
the two records' versions: it grows whenever either changes. The version is read with the
record's row, before anything else of the document, so a document is never older than its
version says; Elasticsearch keeps it as the external version and refuses an older one.

Time-dependent facts are stored as periods, not as flags, so that a document stays right as the
days pass: an enterprise is blacklisted *now* when now falls in one of its ``blacklisted``
periods, and holds a valid licence when now falls in one of its ``valid_licence`` periods. The
periods are the windows the SQL rules are made of (``hub.kit.window``: the blacklist's
``IN_FORCE`` and ``REMOVED``, the licence's ``IN_FORCE``), so the index and the database judge
an instant alike, from one definition.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Select, and_, any_, literal, select
from sqlalchemy.dialects import postgresql

from hub.blacklist.models import BlacklistEntry, BlacklistRemoval
from hub.blacklist.repository import in_force_period
from hub.db import HubSession
from hub.enterprise.models import Enterprise
from hub.kit.repository import published
from hub.kit.time import Instant, utcnow
from hub.licence.models import Licence
from hub.licence.repository import IN_FORCE as LICENCE_IN_FORCE
from hub.licence.repository import standing
from hub.quality.models import Product
from hub.recall.models import Recall
from hub.warning.models import ConsumerWarning
from search.tokenize import index_tokens


class Kind(StrEnum):
    ENTERPRISE = "enterprise"
    RECALL = "recall"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Profile:
    """The searchable fields of a kind with their weights; the first is the primary one.

    A document scores the weight of every field that holds all the query's phrases, plus
    ``PREFIX_BONUS`` when its primary field starts with the first phrase and ``EXACT_BONUS``
    when the primary field is the query exactly.
    """

    fields: tuple[tuple[str, int], ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.fields)

    @property
    def primary(self) -> str:
        return self.fields[0][0]


PREFIX_BONUS = 2
EXACT_BONUS = 16
# The score of a record found by its code (USCC, licence number, GTIN).
CODE_SCORE = 100.0

PROFILES: dict[Kind, Profile] = {
    Kind.ENTERPRISE: Profile((("name", 8), ("brands", 4), ("products", 2))),
    Kind.RECALL: Profile((("title", 8), ("product", 4), ("producer", 3), ("hazard", 2))),
    Kind.WARNING: Profile((("title", 8), ("category", 4), ("hazard", 3), ("advice", 1))),
}
MAX_FIELDS = 4


@dataclass(frozen=True, slots=True)
class Document:
    kind: Kind
    id: int
    # Field name -> its original values (a name has one value, brands many).
    texts: dict[str, list[str]]
    # Smaller ranks first among equal scores: deterministic ties.
    rank: int
    # The record's version when the document was built (see the module's docstring).
    version: int
    attributes: dict[str, Any] = field(default_factory=dict)

    @property
    def tokens(self) -> list[str]:
        return index_tokens(*(value for values in self.texts.values() for value in values))

    def __reduce__(self) -> tuple[type[Document], tuple[Any, ...]]:
        """Pickled as its fields in order: a reindex sends every document to a worker process
        (``search.building``), and a dataclass's own pickling reads ``fields()`` again for
        each one (an enterprise's document there and back: 6.4 µs so, 3.3 µs as fields)."""
        fields = (self.kind, self.id, self.texts, self.rank, self.version, self.attributes)
        return (Document, fields)


def blacklist_period(
    published_at: datetime | None,
    listed_on: date,
    publicity_ends_on: date,
    removed_on: date | None,
) -> dict[str, datetime] | None:
    """When an entry is in force: ``hub.blacklist.repository.in_force``'s own window."""
    values = {
        "published_at": published_at,
        "listed_on": listed_on,
        "publicity_ends_on": publicity_ends_on,
    }
    return _range(in_force_period(values, removed_on))


def licence_period(
    published_at: datetime | None, valid_from: date, valid_until: date
) -> dict[str, datetime] | None:
    """When a licence in good standing (``hub.licence.repository.standing``, which picks the
    rows) is in force: ``hub.licence.repository.IN_FORCE``."""
    values = {"published_at": published_at, "valid_from": valid_from, "valid_until": valid_until}
    return _range(LICENCE_IN_FORCE.period(values))


def _range(period: tuple[datetime, datetime | None] | None) -> dict[str, datetime] | None:
    """A period as Elasticsearch's ``date_range`` value (half-open: ``gte``, ``lt``). The
    instants stay datetimes: the embedded index reads them as they are (``search.terms``),
    and the client's JSON serializer (orjson) writes them in ISO 8601 for Elasticsearch."""
    if period is None:
        return None
    start, end = period
    found = {"gte": start}
    if end is not None:
        found["lt"] = end
    return found


def _published(value: datetime | None) -> datetime | None:
    return value


async def _core(session: HubSession, statement: Any) -> Any:
    """``statement``'s result through the session's connection, as Core rows: the ORM's
    handling of each row of a column select cost a reindex more than building the document."""
    return await session.execute_core(statement)


def _group(rows: Sequence[Any]) -> dict[int, list[Any]]:
    """Rows by their first column (the record they belong to), in the order they came."""
    grouped: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        grouped[row[0]].append(row)
    return grouped


# Which records a query reads: a list of ids (the outbox), or an id range (a reindex walking a
# table, where a range scan beats thousands of bound parameters).
Owned = Callable[[Any], ColumnElement[bool]]


def among(session: HubSession, column: Any, ids: Collection[int]) -> ColumnElement[bool]:
    """``column IN ids``; on PostgreSQL ``column = ANY(:ids)``, one array parameter.

    An IN list is a parameter per id, rendered and cast for every statement: with the 2,000
    ids of a relay batch, that took a good part of the relay's time.
    """
    wanted = list(ids)
    condition: ColumnElement[bool] = (
        column == any_(literal(wanted, type_=postgresql.ARRAY(BigInteger())))
        if session.get_bind().dialect.name == "postgresql"
        else column.in_(wanted)
    )
    return condition


def _among(session: HubSession, ids: Collection[int]) -> Owned:
    return lambda column: among(session, column, ids)


def _between(low: int, high: int) -> Owned:
    return lambda column: and_(column >= low, column <= high)


MODELS: dict[Kind, Any] = {
    Kind.ENTERPRISE: Enterprise,
    Kind.RECALL: Recall,
    Kind.WARNING: ConsumerWarning,
}
# A recall's document version: its own and its enterprise's (its producer name and region).
RECALL_VERSION = (Recall.search_version + Enterprise.search_version).label("version")


def record_versions(kind: Kind) -> Select[int, int]:
    """(id, version) of each record of ``kind``: the version its document must carry."""
    if kind is Kind.RECALL:
        return select(Recall.id, RECALL_VERSION).join(
            Enterprise, Enterprise.id == Recall.enterprise_id
        )
    model = MODELS[kind]
    return select(model.id, model.search_version.label("version"))


_ENTERPRISE_COLUMNS = (
    Enterprise.id,
    Enterprise.search_version,
    Enterprise.name,
    Enterprise.uscc,
    Enterprise.region_code,
    Enterprise.industry_code,
    Enterprise.credit_grade,
    Enterprise.status,
    Enterprise.published_at,
)


async def _enterprise_documents(
    session: HubSession, enterprises: Sequence[Any], owned: Owned
) -> list[Document]:
    """Documents of the enterprise rows (``_ENTERPRISE_COLUMNS``) whose ids ``owned`` selects.

    Core rows of the few columns a document needs, three queries for the whole batch: loading
    ORM objects cost more than everything else a reindex does.
    """
    if not enterprises:
        return []
    now = utcnow()
    products = _group(
        (
            await _core(
                session,
                select(Product.enterprise_id, Product.brand, Product.name)
                .where(owned(Product.enterprise_id), published(Product, Instant.at(now)))
                .order_by(Product.enterprise_id, Product.id),
            )
        ).all()
    )
    entries = _group(
        (
            await _core(
                session,
                select(
                    BlacklistEntry.enterprise_id,
                    BlacklistEntry.published_at,
                    BlacklistEntry.listed_on,
                    BlacklistEntry.publicity_ends_on,
                    BlacklistRemoval.removed_on,
                )
                .outerjoin(BlacklistRemoval, BlacklistRemoval.entry_id == BlacklistEntry.id)
                .where(owned(BlacklistEntry.enterprise_id)),
            )
        ).all()
    )
    licences = _group(
        (
            await _core(
                session,
                select(
                    Licence.enterprise_id,
                    Licence.published_at,
                    Licence.valid_from,
                    Licence.valid_until,
                ).where(owned(Licence.enterprise_id), standing(Licence)),
            )
        ).all()
    )
    documents = []
    for enterprise in enterprises:
        own = products.get(enterprise.id, [])
        blacklisted = [
            period
            for _, *entry in entries.get(enterprise.id, [])
            if (period := blacklist_period(*entry)) is not None
        ]
        valid = [
            period
            for _, *licence in licences.get(enterprise.id, [])
            if (period := licence_period(*licence)) is not None
        ]
        documents.append(
            Document(
                kind=Kind.ENTERPRISE,
                id=enterprise.id,
                texts={
                    "name": [enterprise.name],
                    "brands": list(dict.fromkeys(p.brand for p in own)),
                    "products": list(dict.fromkeys(p.name for p in own)),
                },
                rank=len(enterprise.name),
                version=enterprise.search_version,
                attributes={
                    "uscc": enterprise.uscc,
                    "region_code": enterprise.region_code,
                    "province_code": enterprise.region_code[:2] + "0000",
                    "industry_code": enterprise.industry_code,
                    "credit_grade": enterprise.credit_grade.value
                    if enterprise.credit_grade
                    else None,
                    "status": enterprise.status.value,
                    "published_at": _published(enterprise.published_at),
                    "blacklisted": blacklisted,
                    "valid_licence": valid,
                },
            )
        )
    return documents


async def enterprise_documents(session: HubSession, ids: Collection[int]) -> list[Document]:
    """Documents of the enterprises ``ids`` that exist.

    Brands and product names come from published products only: a draft product must not make
    its producer findable by the public.
    """
    owned = _among(session, ids)
    rows = (await _core(session, select(*_ENTERPRISE_COLUMNS).where(owned(Enterprise.id)))).all()
    return await _enterprise_documents(session, rows, owned)


def _recall_select() -> Select[Recall, str, str, int]:
    return select(Recall, Enterprise.name, Enterprise.region_code, RECALL_VERSION).join(
        Enterprise, Enterprise.id == Recall.enterprise_id
    )


async def recall_documents(session: HubSession, ids: Collection[int]) -> list[Document]:
    rows = (await session.execute(_recall_select().where(among(session, Recall.id, ids)))).all()
    return _recall_documents(rows)


def _recall_documents(rows: Sequence[Any]) -> list[Document]:
    return [
        Document(
            kind=Kind.RECALL,
            id=recall.id,
            texts={
                "title": [recall.title],
                "product": [recall.product_name],
                "producer": [producer],
                "hazard": [recall.hazard],
            },
            rank=-recall.started_on.toordinal(),
            version=version,
            attributes={
                "region_code": region_code,
                "category": recall.category,
                "status": recall.status.value,
                "recall_kind": recall.kind.value,
                "started_on": recall.started_on.isoformat(),
                "published_at": _published(recall.published_at),
            },
        )
        for recall, producer, region_code, version in rows
    ]


async def warning_documents(session: HubSession, ids: Collection[int]) -> list[Document]:
    owned = among(session, ConsumerWarning.id, ids)
    rows = (await session.scalars(select(ConsumerWarning).where(owned))).all()
    return _warning_documents(rows)


def _warning_documents(rows: Sequence[ConsumerWarning]) -> list[Document]:
    return [
        Document(
            kind=Kind.WARNING,
            id=warning.id,
            texts={
                "title": [warning.title],
                "category": [warning.category],
                "hazard": [warning.hazard],
                "advice": [warning.advice],
            },
            rank=-warning.issued_on.toordinal(),
            version=warning.search_version,
            attributes={
                "category": warning.category,
                "severity": warning.severity.value,
                "issued_on": warning.issued_on.isoformat(),
                "published_at": _published(warning.published_at),
            },
        )
        for warning in rows
    ]


async def build_documents(session: HubSession, kind: Kind, ids: Collection[int]) -> list[Document]:
    """The documents of ``ids``; ids whose record no longer exists have none."""
    if not ids:
        return []
    if kind is Kind.ENTERPRISE:
        return await enterprise_documents(session, ids)
    if kind is Kind.RECALL:
        return await recall_documents(session, ids)
    return await warning_documents(session, ids)


async def document_batches(
    session: HubSession, kind: Kind, size: int
) -> AsyncIterator[list[Document]]:
    """Every record of ``kind`` as documents, ``size`` records at a time in id order.

    Each batch reads its records by ``id > last`` (no separate id query) and their children by
    the id range the batch covers.
    """
    model = MODELS[kind]
    after = 0
    while True:
        newer = model.id > after
        if kind is Kind.ENTERPRISE:
            rows: Sequence[Any] = (
                await _core(
                    session,
                    select(*_ENTERPRISE_COLUMNS).where(newer).order_by(model.id).limit(size),
                )
            ).all()
            if not rows:
                return
            documents = await _enterprise_documents(
                session, rows, _between(rows[0].id, rows[-1].id)
            )
            after = rows[-1].id
        elif kind is Kind.RECALL:
            rows = (
                await session.execute(_recall_select().where(newer).order_by(model.id).limit(size))
            ).all()
            if not rows:
                return
            documents = _recall_documents(rows)
            after = rows[-1][0].id
        else:
            rows = (
                await session.scalars(select(model).where(newer).order_by(model.id).limit(size))
            ).all()
            if not rows:
                return
            documents = _warning_documents(rows)
            after = rows[-1].id
        yield documents


async def recall_ids_of_enterprises(session: HubSession, ids: Collection[int]) -> list[int]:
    """Recalls whose documents carry these enterprises' names and regions."""
    return list(
        await session.scalars(select(Recall.id).where(among(session, Recall.enterprise_id, ids)))
    )
