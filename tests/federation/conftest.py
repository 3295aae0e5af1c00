"""Clients of one subgraph app, inside the test's transaction like conftest's ``client``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx
import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from hub.app import create_app
from hub.db import HubSession

SubgraphClient = Callable[[str], AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def subgraph_client(sessionmaker: async_sessionmaker[HubSession]) -> SubgraphClient:
    """``async with subgraph_client("licensing") as client``: httpx against that subgraph."""

    @asynccontextmanager
    async def open_client(name: str) -> AsyncIterator[httpx.AsyncClient]:
        app = create_app(sessionmaker=sessionmaker, subgraph=name)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client:
            yield client

    return open_client
