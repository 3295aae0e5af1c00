"""The outbox: changes reach the indexes after their commit, and an outage loses nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from hub.db import HubSession
from hub.importer.run import run_import
from search.backend import BackendUnavailableError, EnterpriseConditions
from search.documents import Kind
from search.elastic import ElasticBackend
from search.indexer import sync_once
from search.models import OutboxEntry
from search.outbox import ELASTICSEARCH, EMBEDDED, enqueue, lag, relay, relay_once
from search.service import SearchService
from tests.fixtures.enterprise import make_enterprise
from tests.search.conftest import dead_url


async def _names(
    sessionmaker: async_sessionmaker[HubSession], service: SearchService, text: str
) -> tuple[str, list[int]]:
    async with sessionmaker() as session:
        answer = await service.search(
            session,
            Kind.ENTERPRISE,
            text,
            EnterpriseConditions(),
            first=20,
            after=None,
            sees_unpublished=False,
        )
    return answer.backend, [hit.id for hit in answer.result.hits]


async def _write(sessionmaker: async_sessionmaker[HubSession], name: str) -> int:
    """A change and its outbox entry, in one transaction."""
    async with sessionmaker() as session, session.begin():
        enterprise = await make_enterprise(session, name=name)
        await enqueue(session, Kind.ENTERPRISE, [enterprise.id])
        return enterprise.id


async def _pending(sessionmaker: async_sessionmaker[HubSession], target: str) -> int:
    async with sessionmaker() as session:
        return (await lag(session, target)).pending


async def test_an_elasticsearch_outage_loses_nothing(
    sessionmaker: async_sessionmaker[HubSession], elastic: ElasticBackend, prefix: str
) -> None:
    # given: a change, applied to the embedded index
    first = await _write(sessionmaker, "长江存储科技有限公司")
    assert await relay(sessionmaker, EMBEDDED) == 1
    assert await _names(sessionmaker, SearchService(), "长江") == ("embedded", [first])

    # when: Elasticsearch is down (nothing listens on the indexer's port)
    down = ElasticBackend(dead_url(), prefix=prefix, timeout=2)
    try:
        with pytest.raises(BackendUnavailableError):
            await relay_once(sessionmaker, ELASTICSEARCH, down)
        assert await _pending(sessionmaker, ELASTICSEARCH) == 1
        second = await _write(sessionmaker, "长江电力设备有限公司")
        with pytest.raises(BackendUnavailableError):
            await relay_once(sessionmaker, ELASTICSEARCH, down)
    finally:
        await down.close()

    # then: the lag grew, and the embedded index went on
    assert await _pending(sessionmaker, ELASTICSEARCH) == 2
    assert await _pending(sessionmaker, EMBEDDED) == 1

    # when: the indexer reaches the real node
    applied = await sync_once(sessionmaker, elastic)

    # then: everything arrived, and the applied entries are forgotten
    assert applied == {EMBEDDED: 1, ELASTICSEARCH: 2}
    assert await _pending(sessionmaker, ELASTICSEARCH) == 0
    assert await _names(sessionmaker, SearchService(elastic, timeout=30), "长江") == (
        "elasticsearch",
        [first, second],
    )
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(OutboxEntry)) == 0


async def test_an_import_fills_the_outbox(
    sessionmaker: async_sessionmaker[HubSession], data_dir: Path, tmp_path: Path
) -> None:
    report = await run_import(
        sessionmaker,
        "enterprises",
        data_dir / "import" / "enterprises.csv",
        rejects=tmp_path / "rejects.csv",
    )
    async with sessionmaker() as session:
        queued = await session.scalar(
            select(func.count()).where(OutboxEntry.kind == Kind.ENTERPRISE.value)
        )
    assert queued == report.accepted

    assert await relay(sessionmaker, EMBEDDED) == report.accepted
    backend, found = await _names(sessionmaker, SearchService(), "华测")
    assert (backend, len(found)) == ("embedded", 1)

    # The same file again changes nothing, so it queues nothing.
    await run_import(
        sessionmaker,
        "enterprises",
        data_dir / "import" / "enterprises.csv",
        rejects=tmp_path / "rejects.csv",
    )
    assert await _pending(sessionmaker, EMBEDDED) == 0
