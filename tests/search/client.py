"""The hub over HTTP (httpx's ASGI transport) on a test's sessionmaker, for the search tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
from sqlalchemy.ext.asyncio import async_sessionmaker

from hub.config import Settings
from hub.db import HubSession


async def hub_client(
    sessionmaker: async_sessionmaker[HubSession], settings: Settings, count_limit: int | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app made with ``settings``; its search service closed after it."""
    from hub.app import create_app

    app = create_app(settings, sessionmaker=sessionmaker)
    if count_limit is not None:
        app.state.search.count_limit = count_limit
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client:
        yield client
    await app.state.search.close()
