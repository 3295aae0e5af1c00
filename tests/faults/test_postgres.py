"""PostgreSQL stopped, hung and restarted under the hub: honest 503s, within the bound, once.

Every endpoint that needs the database (``/graphql`` on both of its paths for every caller,
``/oauth/*``, ``/readyz``, the portal's pages) answers an outage with 503 and Retry-After,
never a 500 or a 200 that hides an INTERNAL error; no request waits longer than the
``HUB_DATABASE_*`` timeouts; the hub serves again once the server is back; and the log says
once that the database is unreachable and once that it is back, with no traceback per request.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from hub.app import create_app
from hub.config import Settings
from hub.db import (
    DatabaseTimeouts,
    DatabaseUnavailableError,
    OutageKind,
    create_engine,
    create_sessionmaker,
    health_of,
    transaction,
)
from hub.kit.breaker import State
from hub.migrate import upgrade
from tests.faults.conftest import (
    Call,
    dishonest,
    dispose,
    late,
    messages,
    problems,
    roomy_limits,
    send,
    send_all,
    tracebacks,
    unavailable,
    until,
)
from tests.faults.services import Postgres
from tests.fixtures.enterprise import make_enterprise
from tests.fixtures.oauth import BASE_URL, Credentials, oauth_client, request_token

#: Each HUB_DATABASE_* timeout of the hub under test, in seconds.
TIMEOUT = 1.0
RETRY_INTERVAL = 0.5
#: What a request may take at most: its timeout, and time to spare on two busy cores.
BOUND = TIMEOUT + 1.5

# The signing keys are read again every few seconds; while the database is away the key
# store says once per reading that it keeps the keys it has (with the reason): once per
# interval, not once per request.
KEY_STORE_WARNING = "cannot read the signing keys"


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    server = Postgres()
    server.start()
    try:
        yield server
    finally:
        server.close()


@dataclass(frozen=True, slots=True)
class Hub:
    client: httpx.AsyncClient
    calls: list[Call]
    postgres: Postgres

    @property
    def anonymous(self) -> Call:
        return self.calls[0]

    async def serves(self) -> bool:
        return all(outcome.status == 200 for outcome in await send_all(self.client, self.calls))


@pytest.fixture(scope="module")
async def hub(postgres: Postgres, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Hub]:
    engine = create_engine(postgres.url)
    await upgrade(engine)
    async with transaction(create_sessionmaker(engine)) as session:
        enterprise = await make_enterprise(session)
        credentials = await oauth_client(session)
    await engine.dispose()
    settings = Settings(
        database_url=postgres.url,
        signing_key_path=tmp_path_factory.mktemp("keys") / "key.pem",
        database_connect_timeout=TIMEOUT,
        database_acquire_timeout=TIMEOUT,
        database_statement_timeout=TIMEOUT,
        database_retry_interval=RETRY_INTERVAL,
        limits=roomy_limits(),
    )
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        token = await _token(client, credentials)
        spare = await _token(client, credentials)
        yield Hub(client, _calls(enterprise.uscc, credentials, token, spare), postgres)
    await dispose(app)


async def _token(client: httpx.AsyncClient, credentials: Credentials) -> str:
    response = await request_token(client, credentials)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def _calls(uscc: str, credentials: Credentials, token: str, spare: str) -> list[Call]:
    count = {"query": "{ enterprises(first: 1) { totalCount } }"}
    basic = credentials.basic
    return [
        # PostgreSQL answers this one with one compiled statement ...
        Call("graphql, anonymous, compiled", "POST", "/graphql", {"json": count}),
        # ... and search through the resolvers.
        Call(
            "graphql, anonymous, resolvers",
            "POST",
            "/graphql",
            {"json": {"query": '{ searchEnterprises(query: "测试") { totalCount } }'}},
        ),
        Call(
            "graphql, partner",
            "POST",
            "/graphql",
            {"json": count, "headers": {"authorization": f"Bearer {token}"}},
        ),
        Call(
            "oauth token",
            "POST",
            "/oauth/token",
            {"data": {"grant_type": "client_credentials"}, "auth": basic},
            "oauth",
        ),
        Call(
            "oauth introspect",
            "POST",
            "/oauth/introspect",
            {"data": {"token": token}, "auth": basic},
            "oauth",
        ),
        Call(
            "oauth revoke",
            "POST",
            "/oauth/revoke",
            {"data": {"token": spare}, "auth": basic},
            "oauth",
        ),
        Call("readyz", "GET", "/readyz", kind="readyz"),
        Call("portal home", "GET", "/", kind="page"),
        Call("portal enterprise", "GET", f"/enterprises/{uscc}", kind="page"),
    ]


def _within(outcome: object) -> str | None:
    return late(outcome, BOUND)  # type: ignore[arg-type]


def _outage_logged_once(records: list[logging.LogRecord]) -> None:
    assert len(messages(records, "hub.db", "database unreachable: ")) == 1, records
    assert len(messages(records, "hub.db", "database reachable again after ")) == 1, records
    assert [
        line
        for line in tracebacks(records)
        if not line.startswith(f"hub.auth: {KEY_STORE_WARNING}")
    ] == []


async def test_a_stopped_database_is_answered_503_everywhere_then_served_again(
    hub: Hub, caplog: pytest.LogCaptureFixture
) -> None:
    # given
    assert await hub.serves()
    caplog.set_level(logging.INFO)
    caplog.clear()
    # when
    hub.postgres.stop()
    try:
        during = await send_all(hub.client, hub.calls * 2)
    finally:
        hub.postgres.start()
    # then
    assert problems(during, unavailable, _within) == []
    assert await until(hub.serves, 10)
    _outage_logged_once(caplog.records)


async def test_a_hung_database_is_answered_503_within_the_timeouts_then_served_again(
    hub: Hub, caplog: pytest.LogCaptureFixture
) -> None:
    # given: connections in the pool, as under load
    assert await hub.serves()
    await asyncio.gather(*(send(hub.client, hub.anonymous) for _ in range(8)))
    caplog.set_level(logging.INFO)
    caplog.clear()
    # when: the server stops answering, and requests keep coming, several at once
    hub.postgres.hang()
    try:
        burst = await asyncio.gather(*(send(hub.client, hub.anonymous) for _ in range(10)))
        during = await send_all(hub.client, hub.calls)
        await asyncio.sleep(RETRY_INTERVAL)  # one request tries again, and waits its timeout
        again = await send_all(hub.client, hub.calls)
    finally:
        hub.postgres.resume()
    # then
    assert problems([*burst, *during, *again], unavailable, _within) == []
    assert await until(hub.serves, 10)
    _outage_logged_once(caplog.records)


async def test_a_restarted_database_costs_at_most_a_few_honest_503s(
    hub: Hub, caplog: pytest.LogCaptureFixture
) -> None:
    # given: connections in the pool, which the restart ends
    assert await hub.serves()
    await asyncio.gather(*(send(hub.client, hub.anonymous) for _ in range(8)))
    caplog.set_level(logging.INFO)
    caplog.clear()
    # when
    hub.postgres.restart()
    after = await send_all(hub.client, hub.calls * 2)
    # then: each was answered, or refused honestly, in time; and the hub serves again
    assert problems(after, dishonest, _within) == []
    assert {outcome.status for outcome in after} <= {200, 503}
    assert await until(hub.serves, 10)
    assert [line for line in tracebacks(caplog.records) if not line.startswith("hub.auth: ")] == []


async def test_a_slow_statement_is_cut_by_the_server_and_the_connection_kept(
    postgres: Postgres,
) -> None:
    engine = create_engine(postgres.url, pool_size=1, timeouts=DatabaseTimeouts(statement=TIMEOUT))
    maker = create_sessionmaker(engine)
    try:
        async with maker() as session:
            pid = await session.scalar(text("SELECT pg_backend_pid()"))
        # when
        with pytest.raises(DatabaseUnavailableError) as raised:
            async with maker() as session:
                await session.execute(text("SELECT pg_sleep(3)"))
        # then: PostgreSQL cancelled it (statement_timeout), which says the server is there
        assert raised.value.outage.kind is OutageKind.BUSY
        health = health_of(engine)
        assert health is not None
        assert health.breaker.state is State.CLOSED
        async with maker() as session:
            assert await session.scalar(text("SELECT pg_backend_pid()")) == pid
    finally:
        await engine.dispose()


async def test_a_database_that_never_answered_is_503_for_every_caller(tmp_path: Path) -> None:
    # given: a hub whose database refuses connections from the start
    settings = Settings(
        database_url="postgresql+asyncpg://nobody@127.0.0.1:9/none",
        signing_key_path=tmp_path / "key.pem",
        limits=roomy_limits(),
    )
    app = create_app(settings)
    calls = [
        Call(
            "graphql, anonymous",
            "POST",
            "/graphql",
            {"json": {"query": "{ enterprises { totalCount } }"}},
        ),
        Call("readyz", "GET", "/readyz", kind="readyz"),
        Call("portal home", "GET", "/", kind="page"),
        Call(
            "oauth token",
            "POST",
            "/oauth/token",
            {"data": {"grant_type": "client_credentials"}, "auth": ("a", "b")},
            "oauth",
        ),
    ]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        outcomes = await send_all(client, calls * 2)
    await dispose(app)
    assert problems(outcomes, unavailable, _within) == []
