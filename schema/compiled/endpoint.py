"""The compiled path of ``/graphql``: one statement, its JSON text the answer, no resolvers.

``GraphQLEndpoint`` offers each authenticated, admitted request, once schema.transport has
read it, to ``CompiledReads.answer`` first.
If the document compiles for the caller's tier and the request's variables bind, the answer
is the database's JSON text inside ``{"data": ...}``; otherwise the request goes on to
Strawberry, exactly as if this path did not exist. A document with search fields is answered
in two steps on a session of its own, the searches then the statement
(``schema.compiled.search``). PostgreSQL and SQLite both have it (the
statement in each one's SQL, ``schema.compiled.dialects``), and ``HUB_COMPILE_QUERIES=false``
turns it off. A federation
subgraph has it too, for its own schemas: a router's ``_entities`` and root fields are
compiled like any document, held to the router's limits when a trusted router sends them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker

from hub.auth.principal import Tier
from hub.db import (
    DatabaseUnavailableError,
    HubSession,
    Outage,
    OutageKind,
    driver_call,
    health_of,
)
from hub.limits import Limits, TierLimits
from hub.observability.tracing import statement_span
from schema.compiled import search as searching
from schema.compiled.compiler import FallbackError, Operation, SearchRoot
from schema.compiled.dialects import DIALECTS, POSTGRESQL_DIALECT, SQLITE_DIALECT
from schema.compiled.plan import CompiledQueries, Plan
from search.service import SearchService

log = logging.getLogger("hub.compiled")


class CompiledReads:
    def __init__(
        self,
        bind: AsyncEngine | AsyncConnection,
        schemas: dict[Tier, Any],
        limits: Limits,
        *,
        concurrency: int = 20,
        acquire_timeout: float | None = None,
        routed_limits: TierLimits | None = None,
        sessionmaker: async_sessionmaker[HubSession] | None = None,
    ) -> None:
        self.bind = bind
        # Searches run on a session of their own, as the resolvers' do (``answer``): without
        # one, a document with a search goes to the resolvers.
        self.sessionmaker = sessionmaker
        self.acquire_timeout = acquire_timeout
        # Requests beyond ``concurrency`` queue here, first come first served. Left to the
        # pool's queue instead, a waiting request can be overtaken again and again by newer
        # ones (SQLAlchemy's asyncio queue lets a newcomer take a connection that was being
        # handed to a waiter), and the slowest requests grow without bound.
        self.gate = asyncio.Semaphore(concurrency)
        # Without a database (a test of what compiles), statements are PostgreSQL's.
        self.dialect = DIALECTS[bind.dialect.name] if bind is not None else POSTGRESQL_DIALECT
        # The dialect's way of running a statement on a connection and reading its text.
        self._run = _fetch_sqlite if self.dialect.name == "sqlite" else _fetch
        self.tiers = {
            tier: CompiledQueries(
                schema._schema,
                limits.of(tier),
                sees_unpublished=tier >= Tier.INTERNAL,
                dialect=self.dialect,
            )
            for tier, schema in schemas.items()
        }
        # A subgraph's documents from a trusted router are held to the router's limits
        # (hub.limits), as its resolvers hold them.
        self.routed = (
            {
                tier: CompiledQueries(
                    schema._schema,
                    routed_limits,
                    sees_unpublished=tier >= Tier.INTERNAL,
                    dialect=self.dialect,
                )
                for tier, schema in schemas.items()
            }
            if routed_limits is not None
            else self.tiers
        )

    async def answer(
        self,
        tier: Tier,
        query: Any,
        variables: Any,
        operation_name: Any = None,
        *,
        routed: bool = False,
        search: SearchService | None = None,
        closing: list[Callable[[], Awaitable[None]]] | None = None,
    ) -> bytes | None:
        """The response body of a compiled read, or None if the resolvers must answer.

        DatabaseUnavailableError when the database cannot serve it: the resolvers could not
        either, and trying them would only double the wait. ``search``: the service that
        answers search fields (without it, a document with one goes to the resolvers);
        ``closing``: where the session of an answered search is left for the caller to close
        once the response is sent (its ROLLBACK then costs the client no round trip, as for
        the resolvers: ``schema.http.TierGraphQL``); without it, it is closed at once.
        """
        if not isinstance(query, str) or not isinstance(variables, dict):
            return None
        if operation_name is not None and not isinstance(operation_name, str):
            return None
        plan = (self.routed if routed else self.tiers)[tier].plan(query, operation_name)
        if plan is None:
            return None
        try:
            _, operation = plan.admitted(variables)
            if any(isinstance(root, SearchRoot) for _, root in operation.roots):
                return await self._search(plan, operation, variables, search, closing)
            sql, params = plan.bind(variables)
        except FallbackError:
            return None
        try:
            text = await self.fetch(sql, params)
        except DatabaseUnavailableError:
            raise  # not the statement's fault: /graphql answers 503, as the resolvers would
        except Exception:
            _failed()
            return None
        return b'{"data":' + text.encode() + b"}"

    async def _search(
        self,
        plan: Plan,
        operation: Operation,
        variables: dict[str, Any],
        service: SearchService | None,
        closing: list[Callable[[], Awaitable[None]]] | None,
    ) -> bytes | None:
        """A document with search fields (``schema.compiled.search``): the searches, then the
        statement. When the embedded index answered one, on its session, so one transaction
        and one instant, as the resolvers'; when Elasticsearch answered them all, on a pooled
        connection as any compiled read (the session was never opened). FallbackError: the
        resolvers answer it."""
        if service is None or self.sessionmaker is None:
            return None
        searches = searching.asked(plan.schema, operation, variables)
        session = self.sessionmaker()
        # When Elasticsearch will answer every search, the statement's connection is had
        # while it searches rather than after (``_Ahead``), unless other requests wait for
        # one: then it would only hold a connection from them for longer.
        ahead = (
            _Ahead(self)
            if not self.gate.locked() and all(service.asks_elastic(one.query) for one in searches)
            else None
        )
        answered = False
        try:
            answers = await searching.search(service, session, searches, plan.sees_unpublished)
            # The session's instant (SQLite binds it; PostgreSQL reads the transaction's).
            moment = session.opened_at
            sql, params = plan.bind(variables, searching.given(searches, answers), moment)
            if session.in_transaction():
                # The embedded index judged the hits in this transaction: their rows are
                # read in it too, at the same instant.
                if ahead is not None:
                    await ahead.close()
                    ahead = None
                async with session.held_connection() as connection:
                    text = await self._run(connection, sql, params)
            else:
                # Elasticsearch answered every search: one statement, one snapshot, on a
                # pooled connection as any compiled read, without the session's BEGIN and
                # ROLLBACK (what is visible when it runs, as the resolvers read it). While
                # it runs, the hits' highlights are worked out.
                if ahead is not None:
                    connection = await ahead.connection()
                    statement = asyncio.ensure_future(self._run(connection, sql, params))
                else:
                    statement = asyncio.ensure_future(self.fetch(sql, params))
                try:
                    await asyncio.sleep(0)  # the statement is sent
                    for answer in answers:
                        answer.mark()
                finally:
                    text = await statement
            body = searching.body(operation, text, searches, answers)
        except (FallbackError, DatabaseUnavailableError):
            raise
        except Exception:
            # The statement, or the answer built from it: the resolvers answer, as above.
            _failed()
            return None
        else:
            answered = True
            return body
        finally:
            if answered and closing is not None:
                # Both once the answer is out: the connection had ahead goes back then.
                if ahead is not None:
                    closing.append(ahead.close)
                closing.append(session.close)
            else:
                if ahead is not None:
                    await ahead.close()
                await session.close()

    async def fetch(self, sql: str, params: list[Any]) -> str:
        async with self._connection() as connection:
            return await self._run(connection, sql, params)

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[AsyncConnection]:
        """A connection for one statement, once this request's turn at the gate has come."""
        bind = self.bind
        await self._take_turn()
        try:
            if isinstance(bind, AsyncConnection):  # a test's connection, inside its transaction
                yield bind
            else:
                async with bind.connect() as connection:
                    yield connection
        finally:
            self.gate.release()

    async def _take_turn(self) -> None:
        """Wait at the gate, as long as a request may wait for a pooled connection."""
        try:
            async with asyncio.timeout(self.acquire_timeout):
                await self.gate.acquire()
        except TimeoutError:
            outage = Outage(
                f"no turn for a compiled read within {self.acquire_timeout:g} s", OutageKind.BUSY
            )
            health = health_of(self.bind)
            if health is not None:
                health.failed(outage)
            raise DatabaseUnavailableError(outage) from None


class _Ahead:
    """A pooled connection had before the statement for it is known: the turn at the gate and
    the connection are taken in a task of their own while Elasticsearch searches (the request
    only waits then), not after it has answered; and given back once the answer is sent, as
    the resolvers' session gives its connection back. ``close`` must be called either way."""

    def __init__(self, reads: CompiledReads) -> None:
        loop = asyncio.get_running_loop()
        self._reads = reads
        self._connection: asyncio.Future[AsyncConnection] = loop.create_future()
        self._released: asyncio.Future[None] = loop.create_future()
        self._task = asyncio.ensure_future(self._held())

    async def _held(self) -> None:
        # A turn for what the request scheduled as it asked Elasticsearch (aiohttp sends a
        # request's body in a task of its own): its search is sent first, this meanwhile.
        await asyncio.sleep(0)
        try:
            async with self._reads._connection() as connection:
                self._connection.set_result(connection)
                await self._released
        except BaseException as error:
            if not self._connection.done():
                if isinstance(error, asyncio.CancelledError):
                    self._connection.cancel()
                else:
                    self._connection.set_exception(error)
            raise

    async def connection(self) -> AsyncConnection:
        """The connection; DatabaseUnavailableError when none came in time."""
        return await asyncio.shield(self._connection)

    async def close(self) -> None:
        """Give the turn and the connection back (or stop waiting for them)."""
        if not self._connection.done():
            self._task.cancel()
        elif self._connection.cancelled() or self._connection.exception() is not None:
            pass  # the task has ended: nothing to give back
        elif not self._released.done():
            self._released.set_result(None)
        # Whatever became of it (no turn in time, no connection, cancelled), it is over.
        await asyncio.gather(self._task, return_exceptions=True)


def _failed() -> None:
    # A statement the compiler made failed: a bug (the test suite fails on this record). The
    # resolvers still answer the request, as they would without this path.
    log.error("compiled read failed; the resolvers answer", exc_info=True)


async def _fetch(connection: AsyncConnection, sql: str, params: list[Any]) -> str:
    raw = await connection.get_raw_connection()
    # asyncpg's own call: SQLAlchemy's tracing and outage hooks do not see it.
    with statement_span(sql):
        async with driver_call(connection):
            text = await raw.driver_connection.fetchval(sql, *params)  # type: ignore[union-attr]
    assert isinstance(text, str)
    return text


async def _fetch_sqlite(connection: AsyncConnection, sql: str, params: list[Any]) -> str:
    # Through SQLAlchemy: aiosqlite runs every call in a thread of its own anyway, and the
    # engine's hooks (outages, the statements' log) see the statement. One statement reads
    # one snapshot; the connection's transaction ends with it (a rollback) when it returns to
    # the pool.
    with statement_span(sql):
        result = await connection.exec_driver_sql(sql, SQLITE_DIALECT.bind(params))
        text = result.scalar_one()
    assert isinstance(text, str)
    return text
