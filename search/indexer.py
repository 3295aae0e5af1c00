"""Keeping the indexes right: full rebuilds from the database, and draining the outbox."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from hub.db import HubSession, transaction
from search.backend import BackendUnavailableError
from search.documents import Document, Kind, document_batches
from search.elastic import ElasticBackend
from search.embedded import MODELS, EmbeddedBackend
from search.outbox import ELASTICSEARCH, EMBEDDED, mark_done, pending_ids, prune, relay

log = logging.getLogger("hub.search")

REINDEX_BATCH = 5000
# Batches built ahead of the one being written.
READ_AHEAD = 2
Advance = Callable[[Kind, int], None]


@dataclass(slots=True)
class ReindexReport:
    target: str
    documents: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.documents.values())

    @property
    def per_second(self) -> float:
        return self.total / self.seconds if self.seconds > 0 else 0.0


async def count_records(sessionmaker: async_sessionmaker[HubSession], kind: Kind) -> int:
    async with sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(MODELS[kind])) or 0)


async def _read_ahead(session: HubSession, kind: Kind) -> AsyncIterator[list[Document]]:
    """Every document of ``kind`` in batches, built by a task up to ``READ_AHEAD`` ahead.

    For Elasticsearch: the task reads the database and builds documents (Python) while the
    node indexes the previous batch. The session is the task's alone while it runs.
    """
    queue: asyncio.Queue[list[Document] | None] = asyncio.Queue(maxsize=READ_AHEAD)

    async def produce() -> None:
        try:
            async for batch in document_batches(session, kind, REINDEX_BATCH):
                await queue.put(batch)
        finally:
            await queue.put(None)

    task = asyncio.create_task(produce())
    try:
        while (batch := await queue.get()) is not None:
            yield batch
        await task  # its error, if it failed
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def reindex(
    sessionmaker: async_sessionmaker[HubSession],
    target: str,
    elastic: ElasticBackend | None = None,
    *,
    kinds: Iterable[Kind] = tuple(Kind),
    advance: Advance | None = None,
) -> ReindexReport:
    """Rebuild ``target``'s index of ``kinds`` from the database.

    The embedded index is rebuilt in one transaction, so searches see the old one until it
    commits; Elasticsearch gets new indices and the aliases swap when each is loaded. The
    outbox entries pending when the rebuild starts are then stamped: the rebuild read the
    data after they committed. Entries that commit meanwhile stay pending for the relay.
    """
    report = ReindexReport(target=target)
    started = time.perf_counter()
    async with sessionmaker() as session:
        covered = await pending_ids(session, target)
    for kind in kinds:
        count = 0
        if target == EMBEDDED:
            async with transaction(sessionmaker) as session:
                await EmbeddedBackend(session).clear(kind)
                # One session reads and writes: the batches cannot be read ahead here.
                async for documents in document_batches(session, kind, REINDEX_BATCH):
                    await EmbeddedBackend(session).insert(documents)
                    count += len(documents)
                    if advance is not None:
                        advance(kind, len(documents))
        else:
            if elastic is None:
                raise ValueError("an Elasticsearch reindex needs HUB_SEARCH_URL")
            index = await elastic.create_index(kind, loading=True)

            async def counted(
                session: HubSession, kind: Kind = kind
            ) -> AsyncIterator[Sequence[Document]]:
                async for documents in _read_ahead(session, kind):
                    if advance is not None:
                        advance(kind, len(documents))
                    yield documents

            async with sessionmaker() as session:
                count = await elastic.load(index, counted(session))
            await elastic.swap(kind, index)
        report.documents[kind.value] = count
    async with transaction(sessionmaker) as session:
        await mark_done(session, target, covered)
    report.seconds = time.perf_counter() - started
    return report


async def sync_once(
    sessionmaker: async_sessionmaker[HubSession], elastic: ElasticBackend | None
) -> dict[str, int]:
    """Drain the outbox into every backend; a backend that is down keeps its entries."""
    applied = {EMBEDDED: await relay(sessionmaker, EMBEDDED)}
    if elastic is not None:
        try:
            await elastic.ensure_indices()
            applied[ELASTICSEARCH] = await relay(sessionmaker, ELASTICSEARCH, elastic)
        except BackendUnavailableError as error:
            log.warning("elasticsearch is behind, will retry: %s", error)
    async with transaction(sessionmaker) as session:
        await prune(session, elasticsearch=elastic is not None)
    return applied


async def sync_forever(
    sessionmaker: async_sessionmaker[HubSession],
    elastic: ElasticBackend | None,
    interval: float,
) -> None:
    """The app's background relay: never stops for an error, only when cancelled."""
    while True:
        try:
            await sync_once(sessionmaker, elastic)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("search outbox relay failed; retrying")
        await asyncio.sleep(interval)
