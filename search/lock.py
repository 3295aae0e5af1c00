"""One holder at a time across processes: the relay of each backend, and a reindex.

Every worker of ``hub serve`` runs the outbox relay, and a reindex may start beside them; the
lock decides which one works. Each pass of a relay takes its backend's lock without waiting and
skips the pass when another process holds it, so one relay runs at a time and another takes
over as soon as the holder stops or dies.

- PostgreSQL: a session-level advisory lock, on a connection kept for as long as the lock is
  held and outside any transaction meanwhile (an idle transaction would not survive an
  ``idle_in_transaction_session_timeout``). The server releases it with the connection, so a
  killed holder frees it at once.
- SQLite has no advisory locks, and a hub on SQLite can still run several workers: an OS file
  lock (``flock``, through ``filelock``) on a file beside the database, which the system also
  releases when its process ends. It writes nothing to the database: on SQLite every write
  there can make another process's transaction fail (``database is locked``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from filelock import FileLock, Timeout
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from hub.db import HubSession

_POLL = 0.2


def relay_lock(target: str) -> str:
    """The lock of the relay that applies the outbox to ``target``."""
    return f"search-relay-{target}"


def reindex_lock(target: str) -> str:
    """The lock of a reindex of ``target``: while free, no index of ``target`` is being built."""
    return f"search-reindex-{target}"


async def try_transaction_lock(session: AsyncSession, name: str) -> bool:
    """Take lock ``name`` until ``session``'s transaction ends, if no one holds it (PostgreSQL).

    For a write inside a request's own transaction (a search building a head) that must not
    run beside the holder of a session-level lock of the same name (the relay).
    """
    key = _key(name)
    return bool(await session.scalar(select(func.pg_try_advisory_xact_lock(key))))


def _bind(sessionmaker: async_sessionmaker[HubSession]) -> AsyncEngine | AsyncConnection:
    bind = sessionmaker.kw.get("bind")
    if not isinstance(bind, AsyncEngine | AsyncConnection):
        raise TypeError("the search locks need a sessionmaker bound to an engine or a connection")
    return bind


async def _until(wait: float, attempt: Any) -> bool:
    """Call ``attempt`` until it returns True or ``wait`` seconds have passed."""
    deadline = time.monotonic() + wait
    while True:
        if await attempt():
            return True
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(_POLL)


def _key(name: str) -> int:
    """A stable signed 64-bit key for ``pg_try_advisory_lock`` (Python's hash is salted)."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), signed=True)


@asynccontextmanager
async def _advisory(
    bind: AsyncEngine | AsyncConnection, name: str, wait: float
) -> AsyncIterator[bool]:
    key = _key(name)
    # A connection of its own; a sessionmaker bound to one connection (the tests') shares it,
    # inside the transaction the owner of that connection controls.
    owned = isinstance(bind, AsyncEngine)
    opened = bind.connect() if isinstance(bind, AsyncEngine) else contextlib.nullcontext(bind)
    async with opened as connection:

        async def attempt() -> bool:
            got = bool(await connection.scalar(select(func.pg_try_advisory_lock(key))))
            if owned:
                await connection.commit()
            return got

        if not await _until(wait, attempt):
            yield False
            return
        try:
            yield True
        finally:
            try:
                await connection.execute(select(func.pg_advisory_unlock(key)))
                if owned:
                    await connection.commit()
            except BaseException:
                # A connection that could not unlock must not go back to the pool holding
                # the lock: closed, it releases it.
                if owned:
                    await connection.invalidate()
                raise


# Locks of an SQLite database with no file (``:memory:``): one process can reach it.
_IN_MEMORY: set[str] = set()


@asynccontextmanager
async def _file_lock(
    bind: AsyncEngine | AsyncConnection, name: str, wait: float
) -> AsyncIterator[bool]:
    database = bind.engine.url.database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        if name in _IN_MEMORY:
            yield False
            return
        _IN_MEMORY.add(name)
        try:
            yield True
        finally:
            _IN_MEMORY.discard(name)
        return
    # Beside the database file, named like SQLite's own (``hub.db-wal``). The file stays:
    # deleting it on release would race with a process that has just opened it, and the lock
    # is the flock on it, not its existence.
    lock = FileLock(f"{database}-{name}.lock", preserve_lock_file=True, fallback_to_soft=False)

    async def attempt() -> bool:
        try:
            lock.acquire(blocking=False)
        except Timeout:
            return False
        return True

    if not await _until(wait, attempt):
        yield False
        return
    try:
        yield True
    finally:
        lock.release()


@asynccontextmanager
async def exclusive(
    sessionmaker: async_sessionmaker[HubSession], name: str, *, wait: float = 0.0
) -> AsyncIterator[bool]:
    """Hold the lock ``name`` for the block: True, or False if another holds it.

    Tries for up to ``wait`` seconds, polling: a blocking ``pg_advisory_lock`` would be cut
    short by a ``statement_timeout``.
    """
    bind = _bind(sessionmaker)
    if bind.dialect.name == "postgresql":
        async with _advisory(bind, name, wait) as held:
            yield held
    else:
        async with _file_lock(bind, name, wait) as held:
            yield held


async def is_free(sessionmaker: async_sessionmaker[HubSession], name: str) -> bool:
    """Whether no one holds ``name`` right now (taken and given back at once to find out)."""
    async with exclusive(sessionmaker, name) as held:
        return held
