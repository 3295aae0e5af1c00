"""Reindexing while the hub writes: no change is lost, and a killed reindex leaves nothing.

These tests commit from several connections at once (a reindex, the relay and a writer), as
separate processes would, so each runs on a database of its own.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import async_sessionmaker

from hub.db import HubSession
from search import indexer
from search.documents import Document, Kind
from search.elastic import ElasticBackend
from search.indexer import ReindexRunningError, reindex, sync_forever, sync_once
from search.lock import exclusive, reindex_lock
from search.outbox import ELASTICSEARCH, EMBEDDED
from tests.search.asking import found
from tests.search.records import import_enterprises
from tests.search.wait import none_pending, until

COUNT = 3000
BATCH = 300
# Numbers of the enterprises renamed while the reindex runs: the first batch had been read
# when they changed (the reindex holds their old names), the others not yet.
READ_BEFORE = [0, 1, 150, BATCH - 1]
READ_AFTER = [BATCH, 1500, COUNT - 1]
RENAMED = READ_BEFORE + READ_AFTER


def old_name(n: int) -> str:
    return f"旧名{n}号电子有限公司"


def new_name(n: int) -> str:
    return f"新名{n}号科技有限公司"


@pytest.mark.parametrize("target", [ELASTICSEARCH, EMBEDDED])
async def test_a_reindex_under_live_writes_loses_none_of_them(
    own: async_sessionmaker[HubSession],
    elastic: ElasticBackend,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    target: str,
) -> None:
    # given: enterprises in both indexes, and the relay running as in `hub serve`
    await import_enterprises(own, tmp_path, {n: old_name(n) for n in range(COUNT)})
    await sync_once(own, elastic)
    relay = asyncio.create_task(sync_forever(own, elastic, 0.05))

    # when: the reindex stops after its first batch of enterprises while records are renamed
    # (with `hub import`, as in the fault-injection run) and, on Elasticsearch, until the
    # relay has applied the renames; then it goes on
    monkeypatch.setattr(indexer, "REINDEX_BATCH", BATCH)
    batches = indexer.document_batches
    writers: list[asyncio.Task[None]] = []

    async def renames() -> None:
        deadline = time.monotonic() + 30
        while True:
            try:
                await import_enterprises(own, tmp_path, {n: new_name(n) for n in RENAMED})
                break
            except SQLAlchemyError:
                # SQLite: the embedded rebuild holds the only write lock to its commit, and
                # an import that began beside it is refused (database is locked); it is run
                # again, as an operator would. A refused write is not a lost one.
                if target != EMBEDDED or own.kw["bind"].dialect.name != "sqlite":
                    raise
                assert time.monotonic() < deadline
                await asyncio.sleep(0.1)
        if target == ELASTICSEARCH:
            assert await until(lambda: none_pending(own, ELASTICSEARCH), 30)

    async def paused(session: HubSession, kind: Kind, size: int) -> AsyncIterator[list[Document]]:
        first = True
        async for batch in batches(session, kind, size):
            yield batch
            if kind is Kind.ENTERPRISE and first:
                first = False
                if target == ELASTICSEARCH:
                    await renames()
                else:
                    # The embedded rebuild is one transaction: on SQLite it holds the only
                    # write lock, so the renames commit after it there.
                    writers.append(asyncio.create_task(renames()))
                    await asyncio.sleep(0.5)

    monkeypatch.setattr(indexer, "document_batches", paused)
    try:
        report = await reindex(own, target, elastic if target == ELASTICSEARCH else None)
        await asyncio.wait_for(asyncio.gather(*writers), 60)
        assert await until(lambda: none_pending(own, EMBEDDED, ELASTICSEARCH), 30)
    finally:
        relay.cancel()
        done, _ = await asyncio.wait([relay], timeout=30)
        assert done == {relay}, "the relay did not stop when cancelled"

    # then: every renamed record is found by its new name, and no longer by its old one, in
    # both backends
    assert report.documents[Kind.ENTERPRISE.value] == COUNT
    for backend in (elastic, None):
        for n in RENAMED:
            assert await found(own, backend, new_name(n)) == (
                "elasticsearch" if backend else "embedded",
                [new_name(n)],
            )
            assert (await found(own, backend, old_name(n)))[1] == []
        assert (await found(own, backend, old_name(2)))[1] == [old_name(2)]


async def test_a_second_reindex_waits_for_none_and_says_so(
    own: async_sessionmaker[HubSession], elastic: ElasticBackend
) -> None:
    # given: a reindex of Elasticsearch running (its lock held)
    async with exclusive(own, reindex_lock(ELASTICSEARCH)) as held:
        assert held
        # when / then: a second one refuses to start, and touches no index
        with pytest.raises(ReindexRunningError, match="another reindex of Elasticsearch"):
            await reindex(own, ELASTICSEARCH, elastic)
    assert {kind: layout.serving for kind, layout in (await elastic.layout()).items()} == {
        kind: [] for kind in Kind
    }


async def test_a_killed_reindex_is_found_and_dropped_by_the_next(
    own: async_sessionmaker[HubSession], elastic: ElasticBackend, tmp_path: Path
) -> None:
    # given: a reindex killed half-way (its new index loaded in part, refresh off, behind the
    # build alias), and one killed after its swap, before it dropped the index it replaced
    await import_enterprises(own, tmp_path, {n: old_name(n) for n in range(10)})
    await reindex(own, ELASTICSEARCH, elastic)
    served = (await elastic.layout())[Kind.ENTERPRISE].serving
    half = await elastic.create_index(Kind.ENTERPRISE, loading=True)
    replaced = await elastic.create_index(Kind.WARNING)
    await elastic.client.indices.update_aliases(
        actions=[{"remove": {"index": replaced, "alias": elastic.alias(Kind.WARNING)}}]
    )

    # then: both are orphans, while no reindex runs
    left = await indexer.unserved(own, elastic)
    assert (sorted(left.indices), left.orphaned) == (sorted([half, replaced]), True)
    settings = await elastic.client.indices.get_settings(index=half)
    assert settings[half]["settings"]["index"]["refresh_interval"] == "-1"

    # when: the next reindex runs
    report = await reindex(own, ELASTICSEARCH, elastic)

    # then: it dropped them, and serves new indices of its own
    assert sorted(report.orphans_dropped) == sorted([half, replaced])
    layouts = await elastic.layout()
    assert {kind: (layout.building, layout.loose) for kind, layout in layouts.items()} == {
        kind: ([], []) for kind in Kind
    }
    assert layouts[Kind.ENTERPRISE].serving != served
    assert (await found(own, elastic, old_name(3)))[1] == [old_name(3)]


async def test_unserved_indices_are_not_orphans_while_a_reindex_runs(
    own: async_sessionmaker[HubSession], elastic: ElasticBackend
) -> None:
    await elastic.ensure_indices()
    building = await elastic.create_index(Kind.RECALL, loading=True)
    async with exclusive(own, reindex_lock(ELASTICSEARCH)) as held:
        assert held
        left = await indexer.unserved(own, elastic)
        assert (left.indices, left.orphaned) == ([building], False)
        # and repair leaves it to the reindex building it
        assert await indexer.repair_orphans(own, elastic) == []
    assert await indexer.repair_orphans(own, elastic) == [building]
