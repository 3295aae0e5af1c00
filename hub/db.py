"""Engine, session factory, declarative base and column helpers shared by every domain."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import MetaData, String, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.pool import ConnectionPoolEntry

from hub.kit.time import UTCDateTime, utcnow

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


class Provenance:
    """Every published record says which agency it came from and when it was made public.

    ``published_at`` is null while a record is a draft; only published records reach the public.
    """

    source_agency: Mapped[str] = mapped_column(String(100))
    published_at: Mapped[datetime | None] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class HubSession(AsyncSession):
    """An AsyncSession that the concurrent resolvers of one GraphQL operation can share.

    GraphQL resolves sibling fields concurrently, but one connection runs one statement at a
    time: a lock serialises them instead of failing with 'concurrent operations'.

    When a field fails so that the whole answer is null, graphql-core cancels its siblings;
    cancelling a statement half-way through makes the driver throw the connection away. So
    statements are shielded (they finish, their result unused) and closing the session waits
    for them.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._statement_lock = asyncio.Lock()

    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        return await asyncio.shield(self._execute(*args, **kwargs))

    async def _execute(self, *args: Any, **kwargs: Any) -> Any:
        async with self._statement_lock:
            return await super().execute(*args, **kwargs)

    async def scalar(self, *args: Any, **kwargs: Any) -> Any:
        return (await self.execute(*args, **kwargs)).scalar()

    async def flush(self, objects: Any = None) -> None:
        async with self._statement_lock:
            await super().flush(objects)

    async def commit(self) -> None:
        async with self._statement_lock:
            await super().commit()

    async def rollback(self) -> None:
        async with self._statement_lock:
            await super().rollback()

    async def close(self) -> None:
        async with self._statement_lock:
            await super().close()


def _sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    # The sqlite3 module opens transactions lazily, before the first write, so reads are not
    # isolated and a SAVEPOINT outside a transaction commits on release. Taking transaction
    # control back (SQLAlchemy's documented recipe) gives every transaction a real BEGIN.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN")


def create_engine(url: str, *, echo: bool = False, pool_size: int = 20) -> AsyncEngine:
    """An engine for either dialect, tuned for the hub's short read transactions."""
    if url.startswith("sqlite"):
        engine = create_async_engine(url, echo=echo)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
        return engine
    return create_async_engine(
        url,
        echo=echo,
        # A fixed pool: under sustained load, overflow connections would be opened and closed
        # again for every request above the pool size (a TCP and TLS handshake each).
        pool_size=pool_size,
        max_overflow=0,
        pool_pre_ping=False,
        # asyncpg's own statement cache prepares each distinct statement once per connection.
        connect_args={"server_settings": {"application_name": "quality-credit-hub"}},
    )


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[HubSession]:
    return async_sessionmaker(engine, class_=HubSession, expire_on_commit=False, autoflush=False)


@asynccontextmanager
async def transaction(
    sessionmaker: async_sessionmaker[HubSession],
) -> AsyncIterator[HubSession]:
    """A unit of work outside GraphQL (CLI, imports): commit on success, roll back on error."""
    async with sessionmaker() as session, session.begin():
        yield session


@contextmanager
def recorded_statements(target: Engine | Connection) -> Iterator[list[str]]:
    """Record the SQL statements sent through ``target`` while the block runs.

    Tests use it to prove that statement counts do not grow with page sizes; benchmarks use it
    to report statements per request.
    """
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(target, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(target, "before_cursor_execute", record)
