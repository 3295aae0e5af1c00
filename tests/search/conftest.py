"""Search fixtures: the corpus indexed in the embedded backend and in a real Elasticsearch."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from hub.db import HubSession, create_engine, create_sessionmaker
from hub.migrate import upgrade
from search.elastic import ElasticBackend
from search.indexer import reindex
from search.outbox import ELASTICSEARCH, EMBEDDED
from tests.fixtures.databases import empty_database
from tests.search.corpus import Corpus, make_corpus

ELASTICSEARCH_ENV = "HUB_TEST_ELASTICSEARCH_URL"


def elasticsearch_url() -> str:
    """The node scripts/test starts; a test that needs it fails (never skips) without it."""
    url = os.environ.get(ELASTICSEARCH_ENV)
    if not url:
        pytest.fail(
            f"{ELASTICSEARCH_ENV} is not set: run the suite with scripts/test, which starts "
            "Elasticsearch",
            pytrace=False,
        )
    return url


def dead_url() -> str:
    """A loopback URL where nothing listens: an Elasticsearch that is down."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def prefix() -> str:
    """Index aliases of one test: Elasticsearch is shared and its writes are not rolled back."""
    return f"hub-test-{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def elastic(prefix: str) -> AsyncIterator[ElasticBackend]:
    backend = ElasticBackend(elasticsearch_url(), prefix=prefix, timeout=30)
    try:
        yield backend
    finally:
        await backend.drop()
        await backend.close()


@pytest.fixture
async def corpus(sessionmaker: async_sessionmaker[HubSession]) -> Corpus:
    async with sessionmaker() as session, session.begin():
        made = await make_corpus(session)
    await reindex(sessionmaker, EMBEDDED)
    return made


@pytest.fixture
async def indexed(
    corpus: Corpus, sessionmaker: async_sessionmaker[HubSession], elastic: ElasticBackend
) -> Corpus:
    """The corpus in both backends."""
    await reindex(sessionmaker, ELASTICSEARCH, elastic)
    return corpus


@pytest.fixture
async def own_database(
    dialect: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """A migrated database of the test's own, for work that commits from several connections
    at once (a reindex beside the relay and a writer), as separate processes would."""
    async with empty_database(dialect, tmp_path_factory.mktemp("own")) as url:
        engine = create_engine(url)
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()
        yield url


@pytest.fixture
async def own(own_database: str) -> AsyncIterator[async_sessionmaker[HubSession]]:
    """A sessionmaker on ``own_database`` with a pool of its own, as a hub process has."""
    engine = create_engine(own_database)
    try:
        yield create_sessionmaker(engine)
    finally:
        await engine.dispose()
