"""Engine, session factory, declarative base and column helpers shared by every domain.

It is also where the hub decides that the database is unavailable (``outage_of``), for every
dialect and every caller at once: the engine's hooks turn such a failure into
``DatabaseUnavailableError``, which each endpoint answers with 503, and a breaker per engine
(``DatabaseHealth``) answers at once while the database is unreachable, tries it again one
request at a time, and logs the outage once when it starts and once when it ends.
"""

from __future__ import annotations

import asyncio
import base64
import errno
import logging
import socket
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar, cast

from sqlalchemy import MetaData, String, event, exc, literal, select
from sqlalchemy.engine import Connection, Dialect, Engine, ExceptionContext, make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.pool import AsyncAdaptedQueuePool, ConnectionPoolEntry, PoolProxiedConnection

from hub.errors import HubError
from hub.kit.breaker import Breaker, State
from hub.kit.time import Instant, UTCDateTime, utcnow

log = logging.getLogger("hub.db")

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
        self._opened_at = utcnow()
        self._instant: Instant | None = None

    @property
    def opened_at(self) -> datetime:
        """When the session opened: the instant SQLite's statements bind (``Instant``)."""
        return self._opened_at

    @property
    def instant(self) -> Instant:
        """The moment every read of this session is about: one operation, one instant.

        On PostgreSQL the transaction's own timestamp; elsewhere the moment the session
        opened (``Instant``).
        """
        if self._instant is None:
            dialect = self.bind.dialect.name if self.bind is not None else "postgresql"
            self._instant = Instant.for_dialect(dialect, self._opened_at)
        return self._instant

    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        statement = asyncio.ensure_future(self._execute(*args, **kwargs))
        # A cancelled caller lets go of the statement, which finishes on its own; its outcome is
        # then nobody's, and is marked seen, or asyncio logs a failed one as never retrieved.
        statement.add_done_callback(_seen)
        return await asyncio.shield(statement)

    async def _execute(self, *args: Any, **kwargs: Any) -> Any:
        async with self._statement_lock:
            return await super().execute(*args, **kwargs)

    async def scalar(self, *args: Any, **kwargs: Any) -> Any:
        return (await self.execute(*args, **kwargs)).scalar()

    @asynccontextmanager
    async def held_connection(self) -> AsyncIterator[AsyncConnection]:
        """The session's connection, for work the session cannot send itself (a Core select
        whose rows skip the ORM's handling, a COPY through the driver), with the lock held
        until the block ends: the connection is the one the sibling resolvers use.

        Only the connection may be used inside the block: the session's own methods would
        wait for the lock it holds.
        """
        async with self._statement_lock:
            yield await super().connection()

    async def execute_core(self, statement: Any) -> Any:
        """``statement`` on the session's connection under the lock: Core rows as they come,
        without the ORM's handling of each row (which cost a reindex more than its own work)."""
        return await asyncio.shield(self._execute_core(statement))

    async def _execute_core(self, statement: Any) -> Any:
        async with self.held_connection() as connection:
            return await connection.execute(statement)

    async def open_now(self) -> None:
        """Check out the connection and start the transaction now, not at the first statement:
        a caller about to wait for something else (Elasticsearch) has these round trips made
        during that wait rather than after it. The statement is a bare ``SELECT 1`` because
        the driver sends BEGIN only with a statement."""
        await self.execute_core(select(literal(1)))

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


def _seen(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()


SQLITE_BASE64URL = "hub_base64url"
"""An SQL function of every SQLite connection: ``base64.urlsafe_b64encode`` of a text's UTF-8,
without its ``=`` padding, as global IDs and cursors are written. PostgreSQL writes them with
its own functions; SQLite has no base64 (``schema.compiled.dialects``)."""


def _base64url(text: str | None) -> str | None:
    if text is None:
        return None
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


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
    dbapi_connection.create_function(SQLITE_BASE64URL, 1, _base64url, deterministic=True)


def _sqlite_begin(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN")


def _refuse_left_in_transaction(
    _dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: PoolProxiedConnection
) -> None:
    """A pooled asyncpg connection must be idle when it is handed out.

    A task cancelled while its ROLLBACK or COMMIT was on the wire (a request whose caller went
    away, the relay stopped at shutdown) can give its connection back with the server still
    inside that transaction and asyncpg no longer tracking it. The next BEGIN on it is refused
    ("cannot use Connection.transaction() in a manually started transaction"), or, worse, runs
    as a savepoint of a transaction nobody ends. Such a connection is closed here, and the pool
    hands out another (SQLAlchemy's checkout recipe: DisconnectionError).
    """
    driver = record.driver_connection
    if driver is not None and driver.is_in_transaction():
        log.warning("a pooled connection was left inside a transaction; it is closed")
        raise exc.DisconnectionError("pooled connection left inside a transaction")


#: What a 503 answered during a database outage asks the caller to wait (Retry-After), in
#: seconds: about what a restart of PostgreSQL takes. The hub itself tries again sooner
#: (``DatabaseTimeouts.retry_interval``) and serves whoever asks once it answers.
RETRY_AFTER_SECONDS = 5
#: PostgreSQL's own ``statement_timeout`` is this share of the hub's: a server that answers
#: cancels a slow statement itself and keeps the connection; the driver's limit, the whole
#: timeout, is for a server that does not answer at all.
_SERVER_STATEMENT_SHARE = 0.9


class OutageKind(StrEnum):
    UNREACHABLE = "unreachable"
    """No answer: a connection was refused or not made in time, or a statement got no answer
    in time. The next request would most likely fare no better."""
    LOST = "lost"
    """A connection broke (the server restarted, or ended it): this request failed, but a new
    connection may well work."""
    BUSY = "busy"
    """The server answered that it cannot serve this request now (a statement ran out of
    time, it has no connection left), or no pooled connection came free in time."""


@dataclass(frozen=True, slots=True)
class Outage:
    """Why the database cannot serve a request."""

    reason: str
    kind: OutageKind

    @property
    def breaks_connection(self) -> bool:
        """Whether the connection it happened on must be thrown away, not reused."""
        return self.kind is not OutageKind.BUSY


class DatabaseUnavailableError(HubError, exc.SQLAlchemyError):
    """The database cannot serve the request now: the caller may try again shortly (503).

    A SQLAlchemyError as well, so that code written to survive the database's errors survives
    this one too; a HubError, so that GraphQL passes its code on to the caller.
    """

    # SQLAlchemy's ``code`` (a link to its docs) is an instance attribute, the hub's a class
    # one; ``__str__`` below never shows SQLAlchemy's.
    code = "UNAVAILABLE"  # type: ignore[misc]

    def __init__(self, outage: Outage) -> None:
        super().__init__("The database is unavailable just now; please try again shortly.")
        self.outage = outage

    def __str__(self) -> str:
        return f"database unavailable: {self.outage.reason}"


_NETWORK_ERRNOS = frozenset(
    {
        errno.ECONNREFUSED,
        errno.ECONNRESET,
        errno.ECONNABORTED,
        errno.EPIPE,
        errno.EHOSTUNREACH,
        errno.EHOSTDOWN,
        errno.ENETUNREACH,
        errno.ENETDOWN,
        errno.ETIMEDOUT,
        errno.EADDRNOTAVAIL,
    }
)
# SQLSTATEs of a server that ended a connection (class 08 is "connection exception"; 57P01 and
# 57P02 a shutdown; 57P03, "cannot connect now", one starting up or shutting down), and of one
# that answered but cannot serve this request now.
_GONE_SQLSTATES = frozenset({"57P01", "57P02"})
_BUSY_SQLSTATES = {
    "57014": "a statement ran out of time (statement_timeout)",
    "53300": "the server has no connection left",
}
_SQLITE_GONE = frozenset({sqlite3.SQLITE_CANTOPEN})
_SQLITE_BUSY = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})


def _describe(error: BaseException) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    described = f"{type(error).__name__}: {text}" if text else type(error).__name__
    return described[:200]


def _outage_itself(error: BaseException) -> Outage | None:
    if isinstance(error, DatabaseUnavailableError):
        return error.outage
    if isinstance(error, exc.TimeoutError):  # the pool's: no connection came free
        return Outage("no pooled connection came free in time", OutageKind.BUSY)
    if isinstance(error, exc.DBAPIError) and error.connection_invalidated:
        return Outage(f"connection lost ({_describe(error.orig or error)})", OutageKind.LOST)
    sqlstate = getattr(error, "sqlstate", None)
    if isinstance(sqlstate, str):
        if sqlstate == "57P03":
            return Outage(_describe(error), OutageKind.UNREACHABLE)
        if sqlstate.startswith("08") or sqlstate in _GONE_SQLSTATES:
            return Outage(_describe(error), OutageKind.LOST)
        if sqlstate in _BUSY_SQLSTATES:
            return Outage(_BUSY_SQLSTATES[sqlstate], OutageKind.BUSY)
    # asyncpg's, and SQLAlchemy's stand-in for it, on a connection that has gone.
    if type(error).__name__ == "InterfaceError" and "connection is closed" in str(error):
        return Outage(_describe(error), OutageKind.LOST)
    if isinstance(error, sqlite3.Error):
        code = getattr(error, "sqlite_errorcode", None)
        if code in _SQLITE_GONE:
            return Outage(_describe(error), OutageKind.UNREACHABLE)
        if code in _SQLITE_BUSY:
            return Outage(_describe(error), OutageKind.BUSY)
    if isinstance(error, TimeoutError):
        return Outage("no answer in time", OutageKind.UNREACHABLE)
    if isinstance(error, ConnectionRefusedError | socket.gaierror):
        return Outage(_describe(error), OutageKind.UNREACHABLE)
    if isinstance(error, ConnectionError):
        return Outage(_describe(error), OutageKind.LOST)
    # asyncpg reports the failures of several addresses (localhost: ::1 and 127.0.0.1) as one
    # OSError without an errno.
    if type(error) is OSError and (error.errno is None or error.errno in _NETWORK_ERRNOS):
        return Outage(_describe(error), OutageKind.UNREACHABLE)
    return None


def outage_of(error: BaseException) -> Outage | None:
    """Whether ``error`` means the database cannot serve now, and why; None for other errors.

    The one place that knows what an outage looks like, for asyncpg, aiosqlite and SQLAlchemy:
    the error itself, what SQLAlchemy wrapped (``orig``) and what it was raised from.
    """
    seen: set[int] = set()
    pending: list[BaseException] = [error]
    while pending and len(seen) < 16:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        outage = _outage_itself(current)
        if outage is not None:
            return outage
        for inner in (getattr(current, "orig", None), current.__cause__):
            if isinstance(inner, BaseException):
                pending.append(inner)
    return None


class DatabaseHealth:
    """Whether the database answers, as the requests of this process find it.

    A breaker (``hub.kit.breaker``): the first request that finds the database unreachable
    opens it; from then on requests are answered 503 at once instead of each waiting for its
    own timeout, and every ``retry_interval`` seconds one is let through to try. The outage
    is logged once when it begins and once when it ends, never once per request.
    """

    def __init__(self, retry_interval: float = 1.0) -> None:
        self.breaker = Breaker("database", cooldown=retry_interval)

    def admit(self) -> None:
        """Raise DatabaseUnavailableError unless a request may try the database now."""
        if not self.breaker.allow():
            raise DatabaseUnavailableError(self.refusal())

    def refusal(self) -> Outage:
        return Outage(self.breaker.reason, OutageKind.UNREACHABLE)

    def failed(self, outage: Outage) -> None:
        if outage.kind is OutageKind.UNREACHABLE:
            if self.breaker.failed(outage.reason):
                log.error(
                    "database unreachable: %s; requests are answered 503 until it answers again",
                    outage.reason,
                )
        elif self.breaker.state is State.CLOSED:
            # Said once per request, in one line: a lost connection is the restart that the
            # next connection will find over, a busy server one that needs looking at. While
            # the database is unreachable, the outage has been said already.
            level = logging.INFO if outage.kind is OutageKind.LOST else logging.WARNING
            log.log(level, "database %s: %s", outage.kind.value, outage.reason)

    def succeeded(self) -> None:
        down_for = self.breaker.succeeded()
        if down_for is not None:
            log.warning("database reachable again after %.1f s", down_for)


# Seconds a transaction on SQLite waits for the write lock before it is refused: a request's
# (sqlite3's default), the CLI's.
SQLITE_REQUEST_BUSY_WAIT = 5.0
SQLITE_CLI_BUSY_WAIT = 60.0


@dataclass(frozen=True, slots=True)
class DatabaseTimeouts:
    """How long a request waits for the database, in seconds (``HUB_DATABASE_*``).

    The CLI's imports and rebuilds run without them: their statements may take minutes.
    """

    connect: float = 2.0
    acquire: float = 2.0
    statement: float = 2.0
    retry_interval: float = 1.0


class HubPool(AsyncAdaptedQueuePool):
    """SQLAlchemy's asyncio pool, asking the engine's DatabaseHealth before every checkout.

    While the database is unreachable a checkout is refused at once; a request that waited in
    the queue while the breaker opened is refused too, rather than trying a server that the
    others have just found silent. A wait past ``timeout`` becomes DatabaseUnavailableError.
    """

    health: DatabaseHealth | None = None

    def connect(self) -> PoolProxiedConnection:
        health = self.health
        if health is not None:
            health.admit()
        try:
            return super().connect()
        except exc.TimeoutError as error:
            outage = Outage(
                f"no pooled connection came free within {self._timeout:g} s", OutageKind.BUSY
            )
            if health is not None:
                health.failed(outage)
            raise DatabaseUnavailableError(outage) from error

    def _do_get(self) -> ConnectionPoolEntry:
        record = super()._do_get()
        health = self.health
        if health is not None and health.breaker.state is State.OPEN:
            self._do_return_conn(record)
            raise DatabaseUnavailableError(health.refusal())
        return record

    def recreate(self) -> HubPool:
        pool = cast(HubPool, super().recreate())
        pool.health = self.health
        return pool


def health_of(bind: AsyncEngine | AsyncConnection) -> DatabaseHealth | None:
    """The DatabaseHealth of the engine behind ``bind``; None for an engine made elsewhere."""
    health = getattr(bind.sync_engine.pool, "health", None)
    return health if isinstance(health, DatabaseHealth) else None


def _watch(engine: AsyncEngine, health: DatabaseHealth) -> None:
    """The engine's hooks: an outage becomes DatabaseUnavailableError wherever it is met."""
    sync_engine = engine.sync_engine

    def on_error(context: ExceptionContext) -> BaseException | None:
        error = context.original_exception
        # A cancelled request (its caller went away) says nothing about the database.
        if not isinstance(error, Exception) or isinstance(error, DatabaseUnavailableError):
            return None
        outage = outage_of(error)
        if outage is None and context.is_disconnect:
            outage = Outage(f"connection lost ({_describe(error)})", OutageKind.LOST)
        if outage is None:
            return None
        if outage.breaks_connection:
            # Throw the connection away: one that timed out may still be waiting on the server.
            context.is_disconnect = True
        health.failed(outage)
        return DatabaseUnavailableError(outage)

    def do_connect(dialect: Dialect, _record: ConnectionPoolEntry, cargs: Any, cparams: Any) -> Any:
        try:
            return dialect.connect(*cargs, **cparams)
        except Exception as error:
            outage = outage_of(error)
            if outage is None:
                raise
            if outage.kind is OutageKind.LOST:
                # A connection that could not be made at all: the server is not there.
                outage = replace(outage, kind=OutageKind.UNREACHABLE)
            health.failed(outage)
            raise DatabaseUnavailableError(outage) from error

    def on_invalidate(
        _dbapi: Any, record: ConnectionPoolEntry, error: BaseException | None
    ) -> None:
        # SQLAlchemy closes an invalidated connection politely, waiting up to 2 s for the
        # server's goodbye; a server that does not answer would hold the request that long.
        outage = outage_of(error) if error is not None else None
        if outage is not None and outage.kind is OutageKind.UNREACHABLE:
            terminate = getattr(record.driver_connection, "terminate", None)
            if callable(terminate):
                terminate()

    def on_success(*_: Any) -> None:
        health.succeeded()

    event.listen(sync_engine, "handle_error", on_error, retval=True)
    event.listen(sync_engine, "do_connect", do_connect)
    event.listen(sync_engine, "invalidate", on_invalidate)
    event.listen(sync_engine, "connect", on_success)
    event.listen(sync_engine, "after_cursor_execute", on_success)


@asynccontextmanager
async def driver_call(connection: AsyncConnection) -> AsyncIterator[None]:
    """Around a call on the driver's own connection, past SQLAlchemy (``schema.compiled``):
    what the engine's hooks do for SQLAlchemy's own statements."""
    health = health_of(connection)
    try:
        yield
    except Exception as error:
        outage = outage_of(error)
        if outage is None:
            raise
        if outage.breaks_connection:
            await connection.invalidate(error)
        if health is not None:
            health.failed(outage)
        raise DatabaseUnavailableError(outage) from error
    if health is not None:
        health.succeeded()


def _in_memory(url: str) -> bool:
    parsed = make_url(url)
    return parsed.database in (None, "", ":memory:") or parsed.query.get("mode") == "memory"


def create_engine(
    url: str,
    *,
    echo: bool = False,
    pool_size: int = 20,
    timeouts: DatabaseTimeouts | None = None,
) -> AsyncEngine:
    """An engine for either dialect, tuned for the hub's short read transactions.

    With ``timeouts`` (the app's), no request waits longer than they say for a connection, a
    pooled connection or a statement; without them (the CLI), only for a pooled connection.
    """
    health = DatabaseHealth(timeouts.retry_interval if timeouts is not None else 1.0)
    pool_args: dict[str, Any] = {}
    if not _in_memory(url):
        pool_args["poolclass"] = HubPool
        if timeouts is not None:
            pool_args["pool_timeout"] = timeouts.acquire
    if url.startswith("sqlite"):
        # How long a write waits for SQLite's one write lock: a request, sqlite3's own 5 s;
        # the CLI (a reindex, an import beside the relay), as long as a PostgreSQL row lock
        # would keep it waiting, within reason: 5 s failed a reindex whose next kind began
        # while an import and the relay wrote.
        busy = SQLITE_REQUEST_BUSY_WAIT if timeouts is not None else SQLITE_CLI_BUSY_WAIT
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": busy}, **pool_args)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
    else:
        server_settings = {"application_name": "quality-credit-hub"}
        connect_args: dict[str, Any] = {"server_settings": server_settings}
        if timeouts is not None:
            connect_args["timeout"] = timeouts.connect
            connect_args["command_timeout"] = timeouts.statement
            server_ms = max(1, round(timeouts.statement * _SERVER_STATEMENT_SHARE * 1000))
            server_settings["statement_timeout"] = str(server_ms)
        engine = create_async_engine(
            url,
            echo=echo,
            # A fixed pool: under sustained load, overflow connections would be opened and
            # closed again for every request above the pool size (a TCP and TLS handshake each).
            pool_size=pool_size,
            max_overflow=0,
            pool_pre_ping=False,
            # asyncpg's own statement cache prepares each distinct statement once per connection.
            connect_args=connect_args,
            **pool_args,
        )
        event.listen(engine.sync_engine, "checkout", _refuse_left_in_transaction)
    if isinstance(engine.sync_engine.pool, HubPool):
        engine.sync_engine.pool.health = health
    _watch(engine, health)
    return engine


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
