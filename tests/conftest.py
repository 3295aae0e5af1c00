"""Every test runs against SQLite and against the PostgreSQL server that scripts/test starts.

Each test runs inside a transaction that is rolled back at the end; the app's own commits
become savepoints inside it, so tests see their writes and leave nothing behind.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker

from hub.db import HubSession, count_statements, create_engine
from hub.migrate import upgrade

POSTGRES_ENV = "HUB_TEST_POSTGRES_URL"


def _postgres_admin_url() -> str:
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        pytest.fail(
            f"{POSTGRES_ENV} is not set: run the suite with scripts/test, which starts PostgreSQL",
            pytrace=False,
        )
    return url


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def dialect(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
async def database_url(dialect: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """A fresh, migrated database for the whole session, dropped at the end."""
    if dialect == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "hub.db"
        yield f"sqlite+aiosqlite:///{path}"
        return
    admin_url = _postgres_admin_url()
    name = f"hub_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url)
    async with admin.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    base = admin_url.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        async with admin.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


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
def statements(connection: AsyncConnection) -> list[str]:
    """The SQL statements sent on the test's connection from now on."""
    return count_statements(connection.engine.sync_engine)


@pytest.fixture
async def client(
    sessionmaker: async_sessionmaker[HubSession],
) -> AsyncIterator[httpx.AsyncClient]:
    """httpx against the real ASGI app, whose sessions live in the test's transaction."""
    from hub.app import create_app

    app = create_app(sessionmaker=sessionmaker)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client:
        yield client


@pytest.fixture
def data_dir() -> Path:
    return Path(__file__).parent / "data"
