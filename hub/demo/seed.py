from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine


async def seed_if_empty(engine: AsyncEngine, *, enterprises: int) -> None:
    raise NotImplementedError
