"""What the hub calls a database outage (hub.db.outage_of), from the drivers' real errors."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.db import (
    DatabaseTimeouts,
    DatabaseUnavailableError,
    OutageKind,
    create_engine,
    create_sessionmaker,
    health_of,
)
from hub.errors import HubError
from hub.kit.breaker import State
from tests.faults.services import free_port
from tests.fixtures.databases import postgres_admin_url


async def _select_one(url: str, **options: object) -> None:
    engine = create_engine(url, **options)  # type: ignore[arg-type]
    try:
        async with create_sessionmaker(engine)() as session:
            await session.execute(text("SELECT 1"))
    finally:
        await engine.dispose()


async def test_a_refused_connection_is_an_unreachable_database(
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = f"postgresql+asyncpg://nobody@127.0.0.1:{free_port()}/none"
    with pytest.raises(DatabaseUnavailableError) as raised:
        await _select_one(url)
    outage = raised.value.outage
    assert outage.kind is OutageKind.UNREACHABLE
    assert outage.reason.startswith("ConnectionRefusedError: "), outage.reason
    # It is what callers already survive (SQLAlchemyError), with the code GraphQL passes on.
    assert isinstance(raised.value, SQLAlchemyError)
    assert isinstance(raised.value, HubError)
    assert raised.value.code == "UNAVAILABLE"
    assert str(raised.value) == f"database unavailable: {outage.reason}"
    assert [r.getMessage() for r in caplog.records if r.name == "hub.db"] == [
        f"database unreachable: {outage.reason}; requests are answered 503 until it answers again"
    ]


async def test_a_sqlite_file_that_cannot_be_opened_is_an_unreachable_database(
    tmp_path: Path,
) -> None:
    with pytest.raises(DatabaseUnavailableError) as raised:
        await _select_one(f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'hub.db'}")
    assert raised.value.outage.kind is OutageKind.UNREACHABLE
    assert "unable to open database file" in raised.value.outage.reason


async def test_an_error_of_the_statement_is_no_outage(tmp_path: Path) -> None:
    with pytest.raises(OperationalError) as raised:
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}")
        try:
            async with create_sessionmaker(engine)() as session:
                await session.execute(text("SELECT * FROM no_such_table"))
        finally:
            await engine.dispose()
    assert not isinstance(raised.value, DatabaseUnavailableError)


async def _insert(engine: AsyncEngine, n: int, hold: float = 0.0) -> None:
    async with create_sessionmaker(engine)() as session, session.begin():
        await session.execute(text("INSERT INTO t VALUES (:n)"), {"n": n})
        await asyncio.sleep(hold)


async def test_a_cli_write_on_sqlite_waits_for_the_write_lock_and_a_request_does_not(
    tmp_path: Path,
) -> None:
    # given: a SQLite file, and a writer that holds its one write lock for 7.5 s, longer than
    # sqlite3 waits by default (5 s), as a request does
    url = f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
    holder, cli = create_engine(url), create_engine(url)
    request = create_engine(url, timeouts=DatabaseTimeouts())
    try:
        async with holder.begin() as connection:
            await connection.execute(text("CREATE TABLE t (n INTEGER)"))
        held = asyncio.create_task(_insert(holder, 1, hold=7.5))
        await asyncio.sleep(0.5)

        # when: a request and the CLI (an import, a reindex) write meanwhile, both at once
        started = time.monotonic()
        by_cli = asyncio.create_task(_insert(cli, 3))
        with pytest.raises(DatabaseUnavailableError) as raised:
            await _insert(request, 2)
        refused_after = time.monotonic() - started
        await by_cli
        waited = time.monotonic() - started
        await held

        # then: the request is refused as busy after sqlite3's 5 s; the CLI's write waited
        # for the lock, 7 s, and landed after the holder's
        assert raised.value.outage.kind is OutageKind.BUSY
        assert 4.5 < refused_after < 6.5
        assert waited > 6.5
        async with holder.connect() as connection:
            rows = (await connection.execute(text("SELECT n FROM t ORDER BY rowid"))).all()
        assert [n for (n,) in rows] == [1, 3]
    finally:
        for engine in (holder, cli, request):
            await engine.dispose()


async def test_no_pooled_connection_in_time_is_a_busy_database(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="hub.db")
    engine = create_engine(
        postgres_admin_url(), pool_size=1, timeouts=DatabaseTimeouts(acquire=0.2)
    )
    try:
        async with engine.connect() as held:
            await held.execute(text("SELECT 1"))
            # when: the only connection is taken
            with pytest.raises(DatabaseUnavailableError) as raised:
                async with engine.connect() as second:
                    await second.execute(text("SELECT 1"))
        # then: the database is busy, not away; the breaker stays closed
        assert raised.value.outage.kind is OutageKind.BUSY
        assert raised.value.outage.reason == "no pooled connection came free within 0.2 s"
        health = health_of(engine)
        assert health is not None
        assert health.breaker.state is State.CLOSED
        assert [r.getMessage() for r in caplog.records if r.name == "hub.db"] == [
            "database busy: no pooled connection came free within 0.2 s"
        ]
    finally:
        await engine.dispose()


async def test_a_connection_left_inside_a_transaction_is_closed_not_handed_out(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="hub.db")
    engine = create_engine(postgres_admin_url(), pool_size=1)
    try:
        # given: the pool's only connection given back with the server inside a transaction
        # that asyncpg does not track (what a ROLLBACK cut short by a cancelled task leaves)
        async with engine.connect() as connection:
            raw = await connection.get_raw_connection()
            left = raw.driver_connection
            assert left is not None
            await left.execute("BEGIN")
            before = await left.fetchval("SELECT pg_backend_pid()")
        # when: the next caller takes a connection
        async with create_sessionmaker(engine)() as session:
            after = (await session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        # then: it is served on a new connection, the old one is closed, and it was said once
        assert after != before
        assert left.is_closed()
        assert [r.getMessage() for r in caplog.records if r.name == "hub.db"] == [
            "a pooled connection was left inside a transaction; it is closed"
        ]
    finally:
        await engine.dispose()
