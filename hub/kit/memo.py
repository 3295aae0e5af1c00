"""Figures too costly to compute for every request, kept a while and refreshed behind it.

The public statistics count every published spot check, recall and listing: at 1,000,000
enterprises one of them reads two million spot checks for seconds, longer than a request's
statement may run. They change slowly (a month's figures, records published now and then), so
a ``Memo`` keeps each answer: for ``fresh`` seconds it is served as it is; after that it is
still served, while one refresh runs in the background and replaces it. Only the first
request for a key waits for its computation, and requests that come meanwhile wait for the
same one: a key is never computed twice at once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from cachetools import LRUCache
from sqlalchemy.ext.asyncio import async_sessionmaker

from hub.db import HubSession

log = logging.getLogger("hub.memo")

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class _Kept(Generic[V]):
    value: V
    at: float


class Memo(Generic[K, V]):
    """Values of ``compute`` by key: the ``size`` most recently used, fresh for ``fresh`` s."""

    def __init__(
        self, *, fresh: float, size: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.fresh = fresh
        self.clock = clock
        self._kept: LRUCache[K, _Kept[V]] = LRUCache(maxsize=size)
        self._running: dict[K, asyncio.Task[V]] = {}

    def __len__(self) -> int:
        """How many values are kept."""
        return len(self._kept)

    async def get(self, key: K, compute: Callable[[], Awaitable[V]]) -> V:
        """The value of ``key``: kept, or computed now (once for every request that waits)."""
        kept = self._kept.get(key)
        if kept is not None:
            if self.clock() - kept.at > self.fresh and key not in self._running:
                self._start(key, compute)
            return kept.value
        running = self._running.get(key) or self._start(key, compute)
        # Shielded: a caller that gives up does not cancel the others' computation.
        return await asyncio.shield(running)

    def _start(self, key: K, compute: Callable[[], Awaitable[V]]) -> asyncio.Task[V]:
        task = asyncio.ensure_future(self._compute(key, compute))
        self._running[key] = task
        task.add_done_callback(lambda done: self._done(key, done))
        return task

    def _done(self, key: K, task: asyncio.Task[V]) -> None:
        self._running.pop(key, None)
        if not task.cancelled():
            task.exception()  # seen: a background refresh has no caller to raise it to

    async def _compute(self, key: K, compute: Callable[[], Awaitable[V]]) -> V:
        try:
            value = await compute()
        except Exception:
            if key in self._kept:
                # A refresh that failed keeps the value it was to replace; the next request
                # after ``fresh`` tries again.
                log.warning("refresh of %r failed; the kept value is served", key, exc_info=True)
            raise
        self._kept[key] = _Kept(value, self.clock())
        return value


FIGURES_FRESH_SECONDS = 300.0
"""How old the public statistics may be: a record published now counts within five minutes."""

FIGURES_STATEMENT_SECONDS = 60.0
"""How long one statement of the statistics may run, on their own connections."""


@dataclass(frozen=True)
class SlowReads:
    """Reads too slow for a request's statement timeout (the public statistics): each runs in a
    session of its own from ``sessionmaker``, whose statements may take longer, and its answer
    is kept in ``memo``. Only reads that are the same for every caller belong here."""

    sessionmaker: async_sessionmaker[HubSession]
    memo: Memo[Hashable, Any]

    @classmethod
    def of(cls, sessionmaker: async_sessionmaker[HubSession]) -> SlowReads:
        return cls(sessionmaker, Memo(fresh=FIGURES_FRESH_SECONDS, size=64))

    async def get(self, key: Hashable, read: Callable[[HubSession], Awaitable[V]]) -> V:
        async def compute() -> Any:
            async with self.sessionmaker() as session:
                return await read(session)

        value: V = await self.memo.get(key, compute)
        return value
