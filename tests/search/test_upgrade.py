"""Upgrading a hub whose indexes were built by an older one: searches keep answering.

Migration 0009 changed what the embedded index stores, and the Elasticsearch mapping (``terms``
instead of ``tokens``). The embedded index is rebuilt by the relay from the outbox the
migration fills; an Elasticsearch index of the old mapping is refused as unavailable, so that
searches answer from the embedded index and ``/readyz`` says why, until a reindex replaces it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from hub.config import Settings
from hub.db import HubSession, create_engine
from hub.enterprise.models import Enterprise
from hub.migrate import downgrade, upgrade
from hub.recall.models import Recall
from hub.warning.models import ConsumerWarning
from search.backend import BackendUnavailableError, EnterpriseConditions
from search.documents import Kind
from search.elastic import ElasticBackend, mapping
from search.indexer import reindex, sync_once
from search.models import OutboxEntry
from search.outbox import ELASTICSEARCH, EMBEDDED
from search.service import SearchService
from tests.search.corpus import make_corpus

HUAWEI = [
    "华为技术有限公司",
    "华为海洋网络有限公司",
    "深圳市华为终端有限公司",
    "北京数码贸易有限公司",
]


async def _names(
    sessionmaker: async_sessionmaker[HubSession], service: SearchService
) -> tuple[str, str | None, list[str]]:
    async with sessionmaker() as session:
        answer = await service.search(
            session,
            Kind.ENTERPRISE,
            "华为",
            EnterpriseConditions(),
            first=10,
            after=None,
            sees_unpublished=False,
        )
    by_id = {}
    async with sessionmaker() as session:
        ids = [hit.id for hit in answer.result.hits]
        by_id = dict(
            (
                await session.execute(
                    select(Enterprise.id, Enterprise.name).where(Enterprise.id.in_(ids))
                )
            ).all()
        )
    return answer.backend, answer.reason, [by_id[i] for i in ids]


async def test_the_relay_rebuilds_the_index_the_migration_emptied(
    own_database: str, own: async_sessionmaker[HubSession]
) -> None:
    # given: an index built before migration 0009, and an empty outbox
    async with own() as session, session.begin():
        await make_corpus(session)
    await reindex(own, EMBEDDED)
    engine = create_engine(own_database)
    try:
        await downgrade(engine, "0008")
        async with own() as session, session.begin():
            await session.execute(delete(OutboxEntry))

        # when
        await upgrade(engine)
    finally:
        await engine.dispose()

    # then: every record waits in the outbox for both backends
    async with own() as session:
        queued = set((await session.execute(select(OutboxEntry.kind, OutboxEntry.ref_id))).all())
        records = {
            (kind.value, ref_id)
            for kind, model in (
                (Kind.ENTERPRISE, Enterprise),
                (Kind.RECALL, Recall),
                (Kind.WARNING, ConsumerWarning),
            )
            for ref_id in (await session.scalars(select(model.id))).all()
        }
        pending = await session.scalar(
            select(OutboxEntry.id).where(OutboxEntry.elasticsearch_done_at.is_not(None)).limit(1)
        )
    assert queued == records
    assert pending is None
    # and the relay's pass makes them searchable again, with no command run
    assert await _names(own, SearchService()) == ("embedded", None, [])
    await sync_once(own, None)
    assert await _names(own, SearchService()) == ("embedded", None, HUAWEI)


@pytest.fixture
async def old_indices(elastic: ElasticBackend) -> AsyncIterator[ElasticBackend]:
    """Every alias over an index of the mapping before ``MAPPING_VERSION`` (no ``_meta``)."""
    for kind in Kind:
        old = mapping(kind)
        del old["_meta"]
        await elastic.client.indices.create(
            index=f"{elastic.alias(kind)}-20250101000000000000",
            mappings=old,
            aliases={elastic.alias(kind): {}},
        )
    yield elastic


async def test_an_index_of_an_older_mapping_is_refused_until_a_reindex(
    sessionmaker: async_sessionmaker[HubSession],
    old_indices: ElasticBackend,
) -> None:
    elastic = old_indices
    async with sessionmaker() as session, session.begin():
        await make_corpus(session)
    await reindex(sessionmaker, EMBEDDED)
    refusal = (
        f"elasticsearch unavailable: index {elastic.alias(Kind.ENTERPRISE)}-20250101000000000000 "
        "has mapping version none, this hub needs 2: "
        "run `hub search reindex --backend elasticsearch`"
    )

    # then: the relay's check and the status refuse the index, saying why
    with pytest.raises(BackendUnavailableError) as raised:
        await elastic.ensure_indices()
    assert f"elasticsearch unavailable: {raised.value}" == refusal
    with pytest.raises(BackendUnavailableError):
        await elastic.status()
    # and searches answer from the embedded index, with the reason
    service = SearchService(elastic, timeout=30, retry_interval=0.01)
    assert await _names(sessionmaker, service) == ("embedded", refusal, HUAWEI)
    # and /readyz says so
    assert await _readyz(sessionmaker, elastic) == {
        "status": "ok",
        "database": "reachable",
        "search": {"backend": "embedded", "reason": refusal},
    }

    # when: a reindex builds an index of this mapping
    await reindex(sessionmaker, ELASTICSEARCH, elastic)

    # then: Elasticsearch answers again
    await elastic.ensure_indices()
    assert await _names(sessionmaker, service) == ("elasticsearch", None, HUAWEI)
    assert (await _readyz(sessionmaker, elastic))["search"] == {"backend": "elasticsearch"}


async def _readyz(
    sessionmaker: async_sessionmaker[HubSession], elastic: ElasticBackend
) -> dict[str, object]:
    from hub.app import create_app

    settings = Settings(search_url=elastic.url, search_index_prefix=elastic.prefix)
    app = create_app(settings, sessionmaker=sessionmaker)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://hub.test"
        ) as client:
            response = await client.get("/readyz")
    finally:
        await app.state.search.close()
    assert response.status_code == 200
    answer: dict[str, object] = response.json()
    return answer
