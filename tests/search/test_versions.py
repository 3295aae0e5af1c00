"""Document versions: kept by the database with every change, and an older document never wins."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import async_sessionmaker

from hub.db import HubSession
from hub.enterprise.models import Enterprise
from search.documents import Kind, build_documents
from search.elastic import ElasticBackend
from search.embedded import EmbeddedBackend
from search.outbox import ELASTICSEARCH, EMBEDDED, enqueue, relay
from tests.fixtures.enterprise import make_enterprise
from tests.fixtures.recall import make_recall
from tests.search.asking import found
from tests.search.records import ids_of, import_enterprises


async def _versions(sessionmaker: async_sessionmaker[HubSession], ids: list[int]) -> dict[int, int]:
    """Enterprise id -> its search version."""
    async with sessionmaker() as session:
        rows = await session.execute(
            select(Enterprise.id, Enterprise.search_version).where(Enterprise.id.in_(ids))
        )
        return {ref_id: version for ref_id, version in rows.all()}


async def test_every_change_raises_the_version_in_its_transaction(
    sessionmaker: async_sessionmaker[HubSession], tmp_path: Path
) -> None:
    # given: an enterprise as made, and its stamp of the last change
    async with sessionmaker() as session, session.begin():
        enterprise = await make_enterprise(session, name="长江存储科技有限公司")
        recall = await make_recall(session, enterprise)
    async with sessionmaker() as session:
        stamped = await session.scalar(
            select(Enterprise.updated_at).where(Enterprise.id == enterprise.id)
        )
    assert await _versions(sessionmaker, [enterprise.id]) == {enterprise.id: 1}

    # when: a change is queued for search, twice; and once rolled back
    for _ in range(2):
        async with sessionmaker() as session, session.begin():
            await enqueue(session, Kind.ENTERPRISE, [enterprise.id])
    async with sessionmaker() as session:
        await session.begin()
        await enqueue(session, Kind.ENTERPRISE, [enterprise.id])
        await session.rollback()

    # then: the version rose with each committed one, and the record's own stamp did not
    # move (change feeds report the change, not its search document)
    assert await _versions(sessionmaker, [enterprise.id]) == {enterprise.id: 3}
    async with sessionmaker() as session:
        assert (
            await session.scalar(
                select(Enterprise.updated_at).where(Enterprise.id == enterprise.id)
            )
            == stamped
        )
        # and a recall's document carries its own version plus its producer's
        documents = await build_documents(session, Kind.RECALL, [recall.id])
    assert [(d.id, d.version) for d in documents] == [(recall.id, 1 + 3)]


async def test_an_import_raises_the_versions_of_what_it_changed(
    sessionmaker: async_sessionmaker[HubSession], tmp_path: Path
) -> None:
    await import_enterprises(sessionmaker, tmp_path, {1: "甲电子有限公司", 2: "乙电子有限公司"})
    ids = await ids_of(sessionmaker, [1, 2])
    assert await _versions(sessionmaker, list(ids.values())) == {
        ids[1]: 2,
        ids[2]: 2,
    }

    await import_enterprises(sessionmaker, tmp_path, {1: "甲科技有限公司"})

    assert await _versions(sessionmaker, list(ids.values())) == {
        ids[1]: 3,
        ids[2]: 2,
    }


async def test_an_older_document_never_replaces_a_newer_one(
    sessionmaker: async_sessionmaker[HubSession], elastic: ElasticBackend
) -> None:
    # given: an enterprise in both indexes, and its document as a slow writer built it
    async with sessionmaker() as session, session.begin():
        enterprise = await make_enterprise(session, name="旧名称电子有限公司")
        await enqueue(session, Kind.ENTERPRISE, [enterprise.id])
    await elastic.ensure_indices()
    await relay(sessionmaker, ELASTICSEARCH, elastic)
    await relay(sessionmaker, EMBEDDED)
    async with sessionmaker() as session:
        late = await build_documents(session, Kind.ENTERPRISE, [enterprise.id])
    assert [d.version for d in late] == [2]

    # when: the enterprise is renamed and the relay applies it; then the old document
    # arrives (a relay that was slow, or a reindex that read it before the rename)
    async with sessionmaker() as session, session.begin():
        await session.execute(
            update(Enterprise)
            .where(Enterprise.id == enterprise.id)
            .values(name="新名称科技有限公司")
        )
        await enqueue(session, Kind.ENTERPRISE, [enterprise.id])
    assert await relay(sessionmaker, ELASTICSEARCH, elastic) == 1
    assert await relay(sessionmaker, EMBEDDED) == 1
    await elastic.index(late)
    await elastic.refresh()

    # then: Elasticsearch kept the newer document, and both indexes know its version
    assert await elastic.versions(Kind.ENTERPRISE, [enterprise.id]) == {enterprise.id: 3}
    async with sessionmaker() as session:
        embedded = await EmbeddedBackend(session).versions(Kind.ENTERPRISE, [enterprise.id])
    assert embedded == {enterprise.id: 3}
    assert await found(sessionmaker, elastic, "新名称") == ("elasticsearch", ["新名称科技有限公司"])
    assert await found(sessionmaker, elastic, "旧名称") == ("elasticsearch", [])
