"""Every test runs against SQLite and against the PostgreSQL server that scripts/test starts.

Each test runs inside a transaction that is rolled back at the end; the app's own commits
become savepoints inside it, so tests see their writes and leave nothing behind.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker

from hub.db import HubSession, create_engine, recorded_statements
from hub.migrate import upgrade
from tests.fixtures.databases import empty_database


class _Records(logging.Handler):
    def __init__(self, level: int) -> None:
        super().__init__(level)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(autouse=True)
def compiled_errors() -> Iterator[list[logging.LogRecord]]:
    """Fails every test during which a compiled statement failed (an ERROR of ``hub.compiled``).

    Such a failure is a bug of the compiler even when the resolvers then answer correctly, and
    the caller would never see it. A test that makes one on purpose asks for this fixture,
    checks the records and clears them.
    """
    handler = _Records(logging.ERROR)
    logger = logging.getLogger("hub.compiled")
    logger.addHandler(handler)
    try:
        yield handler.records
    finally:
        logger.removeHandler(handler)
    if handler.records:
        failures = "\n".join(handler.format(record) for record in handler.records)
        pytest.fail(f"a compiled statement failed:\n{failures}", pytrace=False)


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def dialect(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
async def database_url(
    dialect: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """A fresh database for the whole session, dropped at the end."""
    async with empty_database(dialect, tmp_path_factory.mktemp(dialect)) as url:
        yield url


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    await upgrade(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """One connection whose outer transaction is rolled back after the test."""
    async with engine.connect() as connection:
        transaction = await connection.begin()
        try:
            yield connection
        finally:
            await transaction.rollback()


@pytest.fixture
def sessionmaker(connection: AsyncConnection) -> async_sessionmaker[HubSession]:
    return async_sessionmaker(
        bind=connection,
        class_=HubSession,
        expire_on_commit=False,
        autoflush=False,
        join_transaction_mode="create_savepoint",
    )


@pytest.fixture
async def session(sessionmaker: async_sessionmaker[HubSession]) -> AsyncIterator[HubSession]:
    async with sessionmaker() as session:
        yield session


@pytest.fixture
def statements(connection: AsyncConnection) -> Iterator[list[str]]:
    """The SQL statements sent on the test's connection from now on."""
    with recorded_statements(connection.sync_connection) as seen:  # type: ignore[arg-type]
        yield seen


@pytest.fixture
async def client(
    sessionmaker: async_sessionmaker[HubSession], tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    """httpx against the real ASGI app, whose sessions live in the test's transaction.

    Its signing key lives in the test's own folder, never in the working tree.
    """
    async with _app_client(sessionmaker, tmp_path) as client:
        yield client


@pytest.fixture
async def resolvers(
    sessionmaker: async_sessionmaker[HubSession], tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    """The app of ``client`` with compiled reads off (``HUB_COMPILE_QUERIES=false``): the
    resolvers answer every document, as on SQLite, whatever the database."""
    async with _app_client(sessionmaker, tmp_path, compile_queries=False) as client:
        yield client


@asynccontextmanager
async def _app_client(
    sessionmaker: async_sessionmaker[HubSession], tmp_path: Path, **settings: Any
) -> AsyncIterator[httpx.AsyncClient]:
    from hub.app import create_app
    from hub.config import Settings

    app = create_app(
        Settings(signing_key_path=tmp_path / "signing-key.pem", **settings),
        sessionmaker=sessionmaker,
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client:
        yield client


@pytest.fixture
def data_dir() -> Path:
    return Path(__file__).parent / "data"
