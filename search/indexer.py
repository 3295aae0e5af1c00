"""Keeping the indexes right: full rebuilds from the database, and draining the outbox.

Who may write when (``search.lock``):

- One relay per backend at a time across every process: each pass takes the backend's relay
  lock or skips. The backends' relays run apart, so one that is slow or down never holds up
  the other.
- An Elasticsearch reindex builds each kind's new index behind a build alias while the relays
  go on: they write every change to the served index and to the one being built, and each
  document carries its record's version, so whichever of the reindex and the relay writes
  last, the newer document stays. No change is lost, and the served index stays current.
- An embedded reindex rebuilds in one transaction, holding the embedded relay's lock: changes
  meanwhile wait in the outbox and are applied after it commits.
- A reindex holds the reindex lock of its backend; while that lock is free, an index of this
  prefix that is not served is an orphan (a reindex killed half-way), and the next reindex or
  ``hub search status --repair`` drops it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from hub.db import HubSession, transaction
from hub.kit.time import utcnow
from search.backend import BackendUnavailableError
from search.building import prepared
from search.documents import Document, Kind, document_batches
from search.elastic import ElasticBackend, bulk_bodies
from search.embedded import MODELS, EmbeddedBackend, copy_rows
from search.embedded_heads import REINDEX_HEAD_WORDS, heads_built_at
from search.lock import exclusive, is_free, reindex_lock, relay_lock
from search.outbox import (
    ELASTICSEARCH,
    EMBEDDED,
    has_pending,
    mark_done,
    pending_ids,
    prune,
    relay,
)

log = logging.getLogger("hub.search")

REINDEX_BATCH = 5000
# How long an embedded reindex, or `hub search sync`, waits for a running relay pass to end.
RELAY_WAIT = 120.0
# Batches built ahead of the one being written.
READ_AHEAD = 2
Advance = Callable[[Kind, int], None]


class ReindexRunningError(Exception):
    """Another process holds the lock this reindex needs."""


@dataclass(slots=True)
class ReindexReport:
    target: str
    documents: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    # Indices a killed reindex had left, dropped before this one began.
    orphans_dropped: list[str] = field(default_factory=list)

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


def _beside(sessionmaker: async_sessionmaker[HubSession], session: HubSession) -> bool:
    """Whether ``sessionmaker`` gives another connection to work on beside ``session``'s: on
    PostgreSQL, bound to an engine (its pool). Not on SQLite (one writer at a time), nor when
    bound to one connection (the tests' transaction)."""
    bound = sessionmaker.kw.get("bind")
    return session.get_bind().dialect.name == "postgresql" and isinstance(bound, AsyncEngine)


async def _batches_of(
    sessionmaker: async_sessionmaker[HubSession], writing: HubSession, kind: Kind
) -> AsyncIterator[list[Document]]:
    """The documents of ``kind`` for an embedded rebuild that writes in ``writing``.

    On PostgreSQL a second connection reads them, a batch ahead (``_read_ahead``): the
    database takes the copy of one batch while this process builds the next. On SQLite, or
    when the sessionmaker is bound to one connection (the tests), the writing session reads
    them too: there is no second connection to read from.
    """
    if not _beside(sessionmaker, writing):
        async for batch in document_batches(writing, kind, REINDEX_BATCH):
            yield batch
        return
    async with sessionmaker() as reading:
        async for batch in _read_ahead(reading, kind):
            yield batch


async def reindex(
    sessionmaker: async_sessionmaker[HubSession],
    target: str,
    elastic: ElasticBackend | None = None,
    *,
    kinds: Iterable[Kind] = tuple(Kind),
    advance: Advance | None = None,
) -> ReindexReport:
    """Rebuild ``target``'s index of ``kinds`` from the database.

    The outbox entries pending when the rebuild starts are stamped at its end: the rebuild
    read the data after they committed. Entries that commit meanwhile are the relay's (see the
    module's docstring). Raises ReindexRunningError when another reindex holds the lock.
    """
    if target == EMBEDDED:
        async with exclusive(sessionmaker, relay_lock(EMBEDDED), wait=RELAY_WAIT) as held:
            if not held:
                raise ReindexRunningError("the embedded index is being written by another process")
            return await _reindex(sessionmaker, target, None, kinds, advance)
    if elastic is None:
        raise ValueError("an Elasticsearch reindex needs HUB_SEARCH_URL")
    async with exclusive(sessionmaker, reindex_lock(target)) as held:
        if not held:
            raise ReindexRunningError("another reindex of Elasticsearch is running")
        return await _reindex(sessionmaker, target, elastic, kinds, advance)


async def _reindex(
    sessionmaker: async_sessionmaker[HubSession],
    target: str,
    elastic: ElasticBackend | None,
    kinds: Iterable[Kind],
    advance: Advance | None,
) -> ReindexReport:
    report = ReindexReport(target=target)
    started = time.perf_counter()
    if elastic is not None:
        report.orphans_dropped = await drop_orphans(elastic)
    async with sessionmaker() as session:
        # A rebuild of some kinds leaves the entries to the relay: an enterprise's entry also
        # stands for its recalls' documents.
        covered = await pending_ids(session, target) if set(kinds) >= set(Kind) else []
    now = utcnow()
    for kind in kinds:
        count = 0

        def counted(batch: int, kind: Kind = kind) -> None:
            nonlocal count
            count += batch
            if advance is not None:
                advance(kind, batch)

        if elastic is None:
            async with transaction(sessionmaker) as session:
                backend = EmbeddedBackend(session)
                await backend.clear(kind)
                batches = _batches_of(sessionmaker, session, kind)
                if backend.dialect != "postgresql":
                    async for documents in batches:
                        await backend.insert(documents, heads=False)
                        counted(len(documents))
                else:
                    # Facts judged at the start: one that changes meanwhile leaves its row
                    # stale, and searches judge it live until the relay rebuilds it.
                    made = prepared(batches, functools.partial(copy_rows, now=now))
                    async for size, rows in made:
                        await backend.copy(rows)
                        counted(size)
        else:
            index = await elastic.create_index(kind, loading=True)
            alias = elastic.build_alias(kind)

            async def bodies(
                session: HubSession, kind: Kind = kind, alias: str = alias
            ) -> AsyncIterator[list[bytes]]:
                made = prepared(
                    _read_ahead(session, kind), functools.partial(bulk_bodies, target=alias)
                )
                async for size, lines in made:
                    counted(size, kind)
                    yield lines

            async with sessionmaker() as session:
                await elastic.load(bodies(session))
            await elastic.swap(kind, index)
        report.documents[kind.value] = count
    if elastic is None:
        async with transaction(sessionmaker) as session:
            await EmbeddedBackend(session).analyze()
        # From the statistics just made: which words are frequent. The heads of the most
        # frequent; the relay's next pass builds the others (``REINDEX_HEAD_WORDS``).
        await _refresh_heads(sessionmaker, ranked=True, words=REINDEX_HEAD_WORDS)
    async with transaction(sessionmaker) as session:
        await mark_done(session, target, covered)
    report.seconds = time.perf_counter() - started
    return report


class _Schedule:
    """When the embedded relay next builds the heads of the words now most frequent: ``every``
    seconds after any process last built them, as the database says (``heads_built_at``),
    so that the workers of ``hub serve`` build them once a period, not once each. The
    statistics they follow change slowly (a reindex builds them at once). PostgreSQL only:
    SQLite keeps no heads."""

    def __init__(self, every: float) -> None:
        self.every = every

    async def due(self, session: HubSession) -> bool:
        if EmbeddedBackend(session).dialect != "postgresql":
            return False
        done = await heads_built_at(session)
        return done is None or (utcnow() - done).total_seconds() > self.every


HEADS = _Schedule(600.0)


async def _refresh_heads(
    sessionmaker: async_sessionmaker[HubSession],
    *,
    ranked: bool = False,
    words: int | None = None,
) -> None:
    """Build the heads of the ``words`` now most frequent (``EmbeddedBackend.refresh_heads``),
    under the embedded relay's lock, and say how long that took: a reindex waits for it.
    ``ranked``: a reindex's build of every head (``search.embedded_heads._ranked``), on a
    second connection too when there is one (the relay's builds leave the pool to requests)."""
    started = time.perf_counter()
    async with transaction(sessionmaker) as session:
        # A reindex's: the heads of many words at once, on two connections when it can.
        helper = functools.partial(transaction, sessionmaker)
        lent = helper if ranked and _beside(sessionmaker, session) else None
        built = await EmbeddedBackend(session).refresh_heads(words, ranked=ranked, helper=lent)
    if built:
        log.info("search heads: %d built in %.1f s", built, time.perf_counter() - started)


# Seconds of a relay pass that build tallies, at most (a word's once begun): the relay's own
# work waits meanwhile.
TALLY_SECONDS = 2.0


async def build_tallies(
    sessionmaker: async_sessionmaker[HubSession], seconds: float = TALLY_SECONDS
) -> int:
    """Build the tallies of chosen words (``EmbeddedBackend.build_tally``), a word per
    transaction, for about ``seconds``; how many. Under the embedded relay's lock."""
    started = time.perf_counter()
    built = 0
    while time.perf_counter() - started < seconds:
        async with transaction(sessionmaker) as session:
            if not await EmbeddedBackend(session).build_tally():
                break
        built += 1
    if built:
        log.info("search tallies: %d built in %.1f s", built, time.perf_counter() - started)
    return built


async def refresh_stale(sessionmaker: async_sessionmaker[HubSession]) -> int:
    """Rebuild the embedded rows whose time-dependent facts (a blacklisting's end, a licence's
    expiry, a scheduled publication) have changed since they were built; how many.

    Only the embedded index stores such facts as they stand (``search.terms``); Elasticsearch
    stores their periods. Called under the embedded relay's lock, like every embedded write.
    """
    total = 0
    while True:
        async with transaction(sessionmaker) as session:
            done = await EmbeddedBackend(session).refresh_stale(utcnow(), REINDEX_BATCH)
        total += done
        if done < REINDEX_BATCH:
            return total


@dataclass(frozen=True, slots=True)
class Unserved:
    """Indices of this prefix that no search reads."""

    indices: list[str]
    # False while a reindex runs: it may be building one of them.
    orphaned: bool


async def _unserved(elastic: ElasticBackend) -> list[str]:
    layouts = (await elastic.layout()).values()
    return [name for layout in layouts for name in layout.building + layout.loose]


async def unserved(
    sessionmaker: async_sessionmaker[HubSession], elastic: ElasticBackend
) -> Unserved:
    indices = await _unserved(elastic)
    if not indices:
        return Unserved([], orphaned=False)
    return Unserved(indices, orphaned=await is_free(sessionmaker, reindex_lock(ELASTICSEARCH)))


async def drop_orphans(elastic: ElasticBackend) -> list[str]:
    """Drop the indices no search reads; only under the reindex lock (none is being built)."""
    indices = await _unserved(elastic)
    await elastic.drop_indices(indices)
    return indices


async def repair_orphans(
    sessionmaker: async_sessionmaker[HubSession], elastic: ElasticBackend
) -> list[str]:
    """Drop the orphan indices now; none while a reindex is running."""
    async with exclusive(sessionmaker, reindex_lock(ELASTICSEARCH)) as held:
        if not held:
            return []
        return await drop_orphans(elastic)


async def relay_target(
    sessionmaker: async_sessionmaker[HubSession],
    target: str,
    elastic: ElasticBackend | None = None,
    *,
    wait: float = 0.0,
    prune_elasticsearch: bool,
    schedule: _Schedule | None = None,
) -> int | None:
    """One relay pass over ``target`` under its lock: how many entries were applied, or None
    when another process's relay holds the lock (it is doing this work).

    ``prune_elasticsearch``: Elasticsearch is configured, so an entry is forgotten only once
    both backends applied it. ``schedule``: when the heads are built again (``HEADS``).
    """
    schedule = schedule or HEADS
    async with sessionmaker() as session:
        heads = target == EMBEDDED and await schedule.due(session)
        idle = not heads and not await has_pending(session, target)
        if idle and target == EMBEDDED:
            embedded = EmbeddedBackend(session)
            idle = not await embedded.has_stale(utcnow())
            idle = idle and not await embedded.tallies_to_build()
        if idle:
            return 0  # no lock to take, no lease to write
    async with exclusive(sessionmaker, relay_lock(target), wait=wait) as held:
        if not held:
            return None
        if elastic is not None:
            await elastic.ensure_indices()
        applied = await relay(sessionmaker, target, elastic)
        if target == EMBEDDED:
            await refresh_stale(sessionmaker)
        if heads:
            async with sessionmaker() as session:
                # Under the lock: another process's relay may have built them meanwhile.
                heads = await schedule.due(session)
        if heads:
            await _refresh_heads(sessionmaker)
        if target == EMBEDDED:
            await build_tallies(sessionmaker)
    if applied:
        async with transaction(sessionmaker) as session:
            await prune(session, elasticsearch=prune_elasticsearch)
    return applied


async def sync_once(
    sessionmaker: async_sessionmaker[HubSession],
    elastic: ElasticBackend | None,
    *,
    wait: float = RELAY_WAIT,
) -> dict[str, int]:
    """Drain the outbox into every backend; a backend that is down keeps its entries.

    Waits up to ``wait`` for a relay pass of another process to end, then drains what is
    left: whatever committed before the call is applied when it returns.
    """
    both = elastic is not None
    applied = {
        EMBEDDED: await relay_target(sessionmaker, EMBEDDED, wait=wait, prune_elasticsearch=both)
        or 0
    }
    if elastic is not None:
        try:
            applied[ELASTICSEARCH] = (
                await relay_target(
                    sessionmaker, ELASTICSEARCH, elastic, wait=wait, prune_elasticsearch=both
                )
                or 0
            )
        except BackendUnavailableError as error:
            log.warning("elasticsearch is behind, will retry: %s", error)
    async with transaction(sessionmaker) as session:
        await prune(session, elasticsearch=both)
    return applied


def _cancelled() -> bool:
    """Whether this task was asked to stop. A cancellation that lands in a statement can come
    out as another error (the rollback after it fails on the busy connection, and its
    ``InterfaceError`` replaces the ``CancelledError``): a loop that retries on errors asks this
    before it goes round again, or it would never stop."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


async def _relay_forever(
    sessionmaker: async_sessionmaker[HubSession],
    target: str,
    elastic: ElasticBackend | None,
    interval: float,
    prune_elasticsearch: bool,
    schedule: _Schedule,
) -> None:
    # An outage is logged when the relay stops and when it works again, not at every pass.
    failing = False
    while True:
        try:
            await relay_target(
                sessionmaker,
                target,
                elastic,
                prune_elasticsearch=prune_elasticsearch,
                schedule=schedule,
            )
            if failing:
                log.warning("search outbox relay to %s works again", target)
            failing = False
        except Exception as error:
            if _cancelled():
                raise asyncio.CancelledError from error
            if not isinstance(error, (BackendUnavailableError, SQLAlchemyError)):
                log.exception("search outbox relay to %s failed; retrying", target)
            elif not failing:
                log.warning("search outbox relay to %s stopped, will retry: %s", target, error)
                failing = True
        await asyncio.sleep(interval)


async def sync_forever(
    sessionmaker: async_sessionmaker[HubSession],
    elastic: ElasticBackend | None,
    interval: float,
    heads_interval: float = HEADS.every,
) -> None:
    """The app's background relay: one loop per backend, each at its own pace; never stops
    for an error, only when cancelled. The embedded one builds the heads again every
    ``heads_interval`` seconds (``HUB_SEARCH_HEADS_INTERVAL``)."""
    both = elastic is not None
    schedule = _Schedule(heads_interval)
    loops = [_relay_forever(sessionmaker, EMBEDDED, None, interval, both, schedule)]
    if elastic is not None:
        loops.append(_relay_forever(sessionmaker, ELASTICSEARCH, elastic, interval, both, schedule))
    async with asyncio.TaskGroup() as group:
        for loop in loops:
            group.create_task(loop)
