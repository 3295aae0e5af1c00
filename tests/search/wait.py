"""Waiting for the relay, which works in the background as in `hub serve`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import async_sessionmaker

from hub.db import HubSession
from search.outbox import lag


async def until(condition: Callable[[], Awaitable[bool]], seconds: float) -> bool:
    """Whether ``condition`` came true within ``seconds``."""
    deadline = time.monotonic() + seconds
    while not await condition():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


async def pending(sessionmaker: async_sessionmaker[HubSession], target: str) -> int:
    async with sessionmaker() as session:
        return (await lag(session, target)).pending


async def none_pending(sessionmaker: async_sessionmaker[HubSession], *targets: str) -> bool:
    return all([await pending(sessionmaker, target) == 0 for target in targets])
