"""The outbox: changes written with the data, applied to each index after the commit.

``enqueue`` runs inside the transaction of the change, so a change and its outbox entry commit
or roll back together; it also raises the changed records' ``search_version``, the version their
next documents carry (``search.documents``). ``relay`` runs after the commit (the app's
background task, or ``hub search sync``): it rebuilds the changed records' documents from the
database, writes them to one backend in one bulk write per batch, and stamps the entries for
that backend in the same transaction as the stamp. If the backend is down the transaction rolls
back, the entries stay pending and the lag grows; the next relay catches up. Entries are
stamped by id, never by a high-water mark, so an entry that commits late (a lower id than one
already applied) is still applied. ``search.indexer`` runs one relay per backend at a time.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    String,
    Table,
    and_,
    delete,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.sql.dml import Update

from hub.blacklist.models import BlacklistEntry
from hub.db import HubSession, transaction
from hub.enterprise.models import Enterprise
from hub.kit.time import UTCDateTime, utcnow
from hub.licence.models import Licence
from hub.recall.models import Recall
from hub.warning.models import ConsumerWarning
from search.backend import SearchBackend
from search.documents import (
    MODELS,
    Document,
    Kind,
    among,
    build_documents,
    recall_ids_of_enterprises,
)
from search.embedded import EmbeddedBackend
from search.models import OutboxEntry

EMBEDDED = "embedded"
ELASTICSEARCH = "elasticsearch"
_DONE = {
    EMBEDDED: OutboxEntry.embedded_done_at,
    ELASTICSEARCH: OutboxEntry.elasticsearch_done_at,
}
_CHUNK = 500
# Entries per relay batch: one read of the records, one bulk write, one stamp.
RELAY_BATCH = 2000


def _bump(kind: Kind) -> Update:
    """Raise the ``search_version`` of the records the caller's WHERE selects.

    ``updated_at`` is set to itself: a new version of the search document is not a change of
    the record that change feeds should report (the change itself stamped it).
    """
    model = MODELS[kind]
    return update(model).values(
        search_version=model.search_version + 1, updated_at=model.updated_at
    )


async def enqueue(session: HubSession, kind: Kind, ids: Iterable[int]) -> int:
    """Note that the records ``ids`` of ``kind`` changed; in the caller's transaction."""
    now = utcnow()
    wanted = sorted(set(ids))
    model = MODELS[kind]
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        await session.execute(_bump(kind).where(model.id.in_(chunk)))
        await session.execute(
            insert(OutboxEntry),
            [{"kind": kind.value, "ref_id": ref_id, "created_at": now} for ref_id in chunk],
        )
    return len(wanted)


async def _ids(session: HubSession, statement: Any) -> list[int]:
    return [int(value) for value in await session.scalars(statement)]


async def _enqueue_selected(session: HubSession, kind: Kind, ids: Any, *where: Any) -> None:
    """Enqueue the ids a query finds, in one ``INSERT ... SELECT``: no round trip back."""
    await session.execute(_bump(kind).where(MODELS[kind].id.in_(select(ids).where(*where))))
    found = select(
        literal(kind.value, type_=String()), ids, literal(utcnow(), type_=UTCDateTime())
    ).where(*where)
    await session.execute(insert(OutboxEntry).from_select(["kind", "ref_id", "created_at"], found))


async def enqueue_import_batch(
    session: HubSession, table: Table, rows: Sequence[dict[str, Any]]
) -> None:
    """The importer's hook: after a batch of ``table`` rows is stored, note what it changed.

    Works from the values the importer stored, so it needs nothing else from the importer;
    tables no document reads (regions, spot checks) enqueue nothing.
    """
    if not rows:
        return
    name = table.name

    def values(column: str) -> list[Any]:
        return [row[column] for row in rows if row.get(column) is not None]

    if name == "enterprise":
        await _enqueue_selected(
            session, Kind.ENTERPRISE, Enterprise.id, Enterprise.uscc.in_(values("uscc"))
        )
    elif name in ("product", "licence", "credit_evaluation", "blacklist_entry"):
        await enqueue(session, Kind.ENTERPRISE, values("enterprise_id"))
    elif name == "blacklist_removal":
        await _enqueue_selected(
            session,
            Kind.ENTERPRISE,
            BlacklistEntry.enterprise_id,
            BlacklistEntry.id.in_(values("entry_id")),
        )
    elif name == "licence_status_event":
        await _enqueue_selected(
            session, Kind.ENTERPRISE, Licence.enterprise_id, Licence.id.in_(values("licence_id"))
        )
    elif name == "recall":
        await _enqueue_selected(
            session, Kind.RECALL, Recall.id, Recall.notice_number.in_(values("notice_number"))
        )
    elif name == "consumer_warning":
        await _enqueue_selected(
            session,
            Kind.WARNING,
            ConsumerWarning.id,
            ConsumerWarning.number.in_(values("number")),
        )


@dataclass(frozen=True, slots=True)
class Rebuilt:
    """The documents of changed records, and the records that no longer exist."""

    documents: list[Document]
    gone: dict[Kind, list[int]]


async def rebuild(session: HubSession, changes: dict[Kind, set[int]]) -> Rebuilt:
    """Rebuild the documents of ``changes`` from the database.

    An enterprise's recalls follow it: their documents carry its name and region.
    """
    enterprises = changes.get(Kind.ENTERPRISE, set())
    if enterprises:
        changes = {**changes, Kind.RECALL: changes.get(Kind.RECALL, set())}
        changes[Kind.RECALL] |= set(await recall_ids_of_enterprises(session, enterprises))
    documents: list[Document] = []
    gone: dict[Kind, list[int]] = {}
    for kind, ids in changes.items():
        built = await build_documents(session, kind, ids)
        documents += built
        gone[kind] = sorted(ids - {document.id for document in built})
    return Rebuilt(documents, gone)


async def write(backend: SearchBackend, rebuilt: Rebuilt) -> None:
    """Every document in one write (one bulk request for Elasticsearch), then the deletes."""
    await backend.index(rebuilt.documents)
    for kind, missing in rebuilt.gone.items():
        await backend.delete(kind, missing)


async def apply_changes(
    session: HubSession, backend: SearchBackend, changes: dict[Kind, set[int]]
) -> int:
    """Rebuild the documents of ``changes`` from the database and write them to ``backend``."""
    rebuilt = await rebuild(session, changes)
    await write(backend, rebuilt)
    return len(rebuilt.documents)


async def _pending(
    session: HubSession, target: str, limit: int, after: int = 0
) -> tuple[list[int], dict[Kind, set[int]]]:
    """Up to ``limit`` entries waiting for ``target`` (with ids above ``after``), by id."""
    rows = await session.execute(
        select(OutboxEntry.id, OutboxEntry.kind, OutboxEntry.ref_id)
        .where(_DONE[target].is_(None), OutboxEntry.id > after)
        .order_by(OutboxEntry.id)
        .limit(limit)
    )
    entry_ids: list[int] = []
    changes: dict[Kind, set[int]] = defaultdict(set)
    for entry_id, kind, ref_id in rows.all():
        entry_ids.append(entry_id)
        changes[Kind(kind)].add(ref_id)
    return entry_ids, changes


async def mark_done(session: HubSession, target: str, entry_ids: Collection[int]) -> None:
    column = _DONE[target]
    now = utcnow()
    ids = list(entry_ids)
    for start in range(0, len(ids), RELAY_BATCH):
        await session.execute(
            update(OutboxEntry)
            .where(among(session, OutboxEntry.id, ids[start : start + RELAY_BATCH]))
            .values({column.key: now})
            .execution_options(synchronize_session=False)
        )


async def pending_ids(session: HubSession, target: str) -> list[int]:
    """The entries still to apply to ``target``: what a reindex starting now will cover."""
    return await _ids(session, select(OutboxEntry.id).where(_DONE[target].is_(None)))


async def pending_among(
    session: HubSession, target: str, kind: Kind, ids: Collection[int]
) -> set[int]:
    """Which of the records ``ids`` have a change waiting for ``target``.

    A recall's document also waits for its enterprise's entries (``apply_changes``).
    """
    if not ids:
        return set()
    waiting = select(OutboxEntry.ref_id).where(_DONE[target].is_(None))
    found = set(
        await _ids(
            session, waiting.where(OutboxEntry.kind == kind.value, OutboxEntry.ref_id.in_(ids))
        )
    )
    if kind is Kind.RECALL:
        found |= set(
            await _ids(
                session,
                select(Recall.id).where(
                    Recall.id.in_(ids),
                    Recall.enterprise_id.in_(
                        waiting.where(OutboxEntry.kind == Kind.ENTERPRISE.value)
                    ),
                ),
            )
        )
    return found


async def has_pending(session: HubSession, target: str) -> bool:
    """Whether any entry waits for ``target`` (one index probe)."""
    found = await session.scalar(select(OutboxEntry.id).where(_DONE[target].is_(None)).limit(1))
    return found is not None


async def relay_once(
    sessionmaker: async_sessionmaker[HubSession],
    target: str,
    backend: SearchBackend | None = None,
    *,
    limit: int = RELAY_BATCH,
) -> int:
    """Apply up to ``limit`` pending entries to ``target``; how many were applied.

    ``backend`` is the Elasticsearch backend for that target; the embedded one is made on the
    relay's own session, so its writes commit with the stamps. Raises BackendUnavailableError
    (and changes nothing) when the backend fails.
    """
    async with transaction(sessionmaker) as session:
        entry_ids, changes = await _pending(session, target, limit)
        if not entry_ids:
            return 0
        writer = backend if backend is not None else EmbeddedBackend(session)
        await apply_changes(session, writer, changes)
        await mark_done(session, target, entry_ids)
    return len(entry_ids)


async def relay(
    sessionmaker: async_sessionmaker[HubSession],
    target: str,
    backend: SearchBackend | None = None,
) -> int:
    """Apply every pending entry to ``target``, batch after batch, then make it searchable."""
    if backend is None:
        total = 0
        while applied := await relay_once(sessionmaker, target):
            total += applied
        return total
    return await _relay_ahead(sessionmaker, target, backend)


async def _relay_ahead(
    sessionmaker: async_sessionmaker[HubSession], target: str, backend: SearchBackend
) -> int:
    """Every pending entry to an outside backend, the next batch built while one is sent.

    Building documents (the database, Python) and indexing them (the engine) take about as
    long as each other; overlapping them is what lets the relay keep up with a reindex. The
    database work stays in this task and its one session, in order: a batch is stamped after
    its write succeeded, and a failed write leaves it, and every batch after it, pending.
    """
    total = 0
    sending: tuple[list[int], asyncio.Task[None]] | None = None
    async with sessionmaker() as session:
        try:
            after = 0
            while True:
                entry_ids, changes = await _pending(session, target, RELAY_BATCH, after)
                rebuilt = await rebuild(session, changes)
                # The reads end here, so that the stamps begin a transaction of their own: on
                # SQLite a read transaction that turns into a write fails if another process
                # wrote meanwhile, where a write transaction waits its turn.
                await session.commit()
                sent: list[int] = []
                if sending is not None:
                    sent, task = sending
                    sending = None
                    await task
                if entry_ids:
                    after = entry_ids[-1]
                    sending = (entry_ids, asyncio.create_task(write(backend, rebuilt)))
                elif sent:
                    # The pass's last stamps wait until its writes are searchable: when
                    # nothing is pending, a search finds every change.
                    await backend.refresh()
                # Stamped while the next batch is sent: off the critical path.
                await mark_done(session, target, sent)
                await session.commit()
                total += len(sent)
                if not entry_ids:
                    return total
        finally:
            if sending is not None:
                sending[1].cancel()
                await asyncio.gather(sending[1], return_exceptions=True)


async def prune(session: HubSession, *, elasticsearch: bool) -> None:
    """Forget entries every configured backend has applied."""
    done: ColumnElement[bool] = OutboxEntry.embedded_done_at.is_not(None)
    if elasticsearch:
        done = and_(done, OutboxEntry.elasticsearch_done_at.is_not(None))
    await session.execute(delete(OutboxEntry).where(done))


@dataclass(frozen=True, slots=True)
class Lag:
    target: str
    pending: int
    oldest: datetime | None

    def seconds(self, now: datetime | None = None) -> float:
        if self.oldest is None:
            return 0.0
        return max(0.0, ((now or utcnow()) - self.oldest).total_seconds())


async def lag(session: HubSession, target: str) -> Lag:
    """How many entries ``target`` has still to apply, and since when the oldest waits."""
    row = (
        await session.execute(
            select(func.count(), func.min(OutboxEntry.created_at)).where(_DONE[target].is_(None))
        )
    ).one()
    return Lag(target=target, pending=int(row[0]), oldest=row[1])
